//! AWS Config custom rule for Security Hub control SageMaker.14: every SageMaker monitoring
//! schedule must run with network isolation.
//!
//! # Layout
//!
//! Three layers, one folder each, so a file's path says what it may do:
//!
//! * `doors/`: the front doors. `lambda` serves AWS Config's events under the Lambda runtime
//!   (and CloudFormation hook requests, through `hook`); `cli` runs the same service from a
//!   shell (`evaluate`, `audit`, `remediate`, and `check` for templates and plans, whose
//!   formats are `check/output`). Thin: they build the edges, call the service, and report,
//!   every text from the input through `escaping`; the command line ends through `exit` (a
//!   closed pipe is a normal end).
//! * `rule/` and `core/`: the rule itself. `core/` is pure data and decisions: the event parsed
//!   once (`event`), the decision table (`plan`), the verdict (`verdict`) over one view of a
//!   schedule (`schedule`). `rule/` carries a plan out through four ports (`ports`: SageMaker
//!   reads, AWS Config reads, the delivery of evaluations, the fixer): a sweep (`sweep`, over
//!   an `inventory`) or one changed item (`change`) hands back outcomes (`outcome`), which the
//!   service alone records (`recorder`, through `delivery`) against what Config holds
//!   (`held`); remediation (`fix`) and the report (`report`) read what was recorded.
//! * `aws/`: the edges. Each implements a port with the AWS SDK; reads and writes stay apart,
//!   so a dry run holds nothing that can write.
//! * `check/`: the same verdict before deployment, pure: CloudFormation templates (`template`,
//!   `intrinsics`, `cloudformation`) and Terraform plans (`terraform`: `planned` values, and
//!   `references` followed through modules) read into the schedule view, SageMaker's naming
//!   rules (`names`), what is reported for each resource (`finding`), and what a CloudFormation
//!   Lambda hook answers (`hook`). The doors add `check` (the command) and `hook` (the
//!   describe and the answer, under the Lambda runtime).
//!
//! `error` holds the error types the layers share; `escaping` how text from the input
//! reaches every text output; `logging` the log setup of both doors; `version` which build is
//! running.
//! Modules are private: what the binary, the tests and the benchmarks use is re-exported below.

#![recursion_limit = "256"]

mod aws;
mod check;
mod core;
mod doors;
mod error;
mod escaping;
mod logging;
mod rule;
mod version;

pub use crate::check::finding::{Assessment, Status as CheckStatus};
pub use crate::check::template::{Template, TemplateError};
pub use crate::check::{
    Input as CheckInput, InputError, Options as CheckOptions, assess as check_assess,
    read as check_read,
};
pub use crate::core::event::{Invocation, ItemStatus, Trigger, parse_time};
pub use crate::core::params::RuleParams;
pub use crate::core::resource::{JobDefinitionRef, MonitoringKind, SCHEDULE_TYPE};
pub use crate::core::schedule::{JobSpec, Network, ScheduleView, network_from};
pub use crate::core::verdict::{
    ANNOTATION_LIMIT, Compliance, JobDefinitionState, Judgement, Reading, Verdict, judge,
    judge_job_definition,
};
pub use doors::{cli, lambda};
