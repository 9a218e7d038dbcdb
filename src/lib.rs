//! AWS Config custom rule for Security Hub control SageMaker.14: every SageMaker monitoring
//! schedule must run with network isolation.
//!
//! The crate is a pure core (`schedule`, `verdict`) with I/O at the edges (`sagemaker`,
//! `evaluations`) behind small traits, so the Lambda and the command line drive one service
//! (`rule`) and tests can swap the edges for local fakes.

pub mod accounts;
pub mod calls;
pub mod cli;
pub mod deliver;
pub mod dry_run;
pub mod error;
pub mod evaluation;
pub mod evaluations;
pub mod event;
pub mod exempt;
pub mod inventory;
pub mod job_definition;
pub mod lambda;
pub mod logging;
pub mod params;
pub mod remediate;
pub mod resolve;
pub mod rule;
pub mod sagemaker;
pub mod schedule;
pub mod sdk;
pub mod summary;
pub mod sweep;
pub mod template;
pub mod verdict;

/// The resource type this rule judges, as AWS Config names it.
pub const SCHEDULE_TYPE: &str = "AWS::SageMaker::MonitoringSchedule";
