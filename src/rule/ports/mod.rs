//! The edges the rule needs, as traits: reading SageMaker, reading AWS Config, delivering
//! evaluations, fixing a schedule. Reads and writes are separate traits, so a dry run holds no
//! edge that writes. Each has its AWS implementation in `aws/` and, for unit tests of the rule
//! and the sweep, one in memory beside them (`memory.rs`).

#[cfg(test)]
pub mod memory;

use crate::core::evaluation::Evaluation;
use crate::core::event::{ItemStatus, ResultToken};
use crate::core::remediation::{FixError, Remediation};
use crate::core::resource::{JobDefinitionRef, MonitoringKind};
use crate::core::schedule::ScheduleView;
use crate::core::verdict::{Compliance, JobDefinitionState};
use crate::error::ApiFailure;
use aws_smithy_types::DateTime;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;

/// PutEvaluations takes at most this many evaluations per call.
pub const BATCH_LIMIT: usize = 100;

/// A page of a SageMaker list call, reduced to what a sweep needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<Summary>,
    pub next_token: Option<String>,
}

impl Page {
    /// A page from what a list call returned; an empty token means the last page.
    pub fn new(items: Vec<Summary>, next_token: Option<&str>) -> Self {
        Page {
            items,
            next_token: next_token
                .filter(|token| !token.is_empty())
                .map(str::to_owned),
        }
    }
}

/// A listed schedule or job definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub name: String,
    pub arn: Option<String>,
    /// The job definition a listed schedule's summary names: what decides its verdict, with
    /// no describe.
    pub named: Option<NamedJob>,
}

/// `MonitoringJobDefinitionName` and `MonitoringType` as a schedule's summary gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedJob {
    pub name: String,
    pub monitoring_type: Option<String>,
}

impl Summary {
    /// A listed resource; one without a name cannot be described, so it is not one.
    pub fn new(name: Option<&str>, arn: Option<&str>) -> Option<Self> {
        Some(Summary {
            name: name?.to_owned(),
            arn: arn.map(str::to_owned),
            named: None,
        })
    }

    /// The job definition the summary says the schedule names, if it says so.
    pub fn naming(mut self, job_definition: Option<&str>, monitoring_type: Option<&str>) -> Self {
        self.named = job_definition
            .filter(|name| !name.is_empty())
            .map(|name| NamedJob {
                name: name.to_owned(),
                monitoring_type: monitoring_type.map(str::to_owned),
            });
        self
    }
}

/// Reading schedules and job definitions. Nothing here writes.
pub trait SageMakerReads: Sync {
    /// One page of schedules; with `naming`, only those that name that job definition.
    fn list_page(
        &self,
        next_token: Option<String>,
        naming: Option<&JobDefinitionRef>,
    ) -> impl Future<Output = Result<Page, ApiFailure>> + Send;

    /// `Ok(None)` when the schedule does not exist (deleted since it was listed).
    fn describe(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<ScheduleView>, ApiFailure>> + Send;

    fn describe_job_definition(
        &self,
        reference: &JobDefinitionRef,
    ) -> impl Future<Output = Result<JobDefinitionState, ApiFailure>> + Send;

    /// One page of the job definitions of one kind.
    fn list_job_definitions(
        &self,
        kind: MonitoringKind,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page, ApiFailure>> + Send;

    /// A resource's tags (ListTags, every page).
    fn tags(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, ApiFailure>> + Send;
}

/// A configuration item fetched from Config's history (for oversized change events).
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedItem {
    pub status: Option<ItemStatus>,
    /// The `configuration` member, parsed from the JSON string Config stores.
    pub configuration: Option<Value>,
    pub tags: BTreeMap<String, String>,
}

/// Resource names mapped to the ids Config recorded them under.
pub type RecordedIds = HashMap<String, String>;

/// A result Config holds for a resource, as GetComplianceDetailsByConfigRule lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldResult {
    pub resource_type: String,
    pub resource_id: String,
    pub compliance: Compliance,
    pub annotation: String,
    /// `ResultRecordedTime`, epoch seconds.
    pub recorded_at: f64,
}

/// Delivering evaluations: the one write to AWS Config. A dry run's sink prints instead.
pub trait Deliver: Sync {
    /// Delivers one batch (at most [`BATCH_LIMIT`]); returns the `(type, id)` of each
    /// evaluation Config reported in `FailedEvaluations`.
    fn put(
        &self,
        batch: &[Evaluation],
        token: &ResultToken,
    ) -> impl Future<Output = Result<Vec<(String, String)>, ApiFailure>> + Send;
}

/// Reading what AWS Config has recorded.
pub trait ConfigReads: Sync {
    /// The item as recorded at `captured_at`; `Ok(None)` when Config has no such item.
    fn item_at(
        &self,
        resource_type: &str,
        resource_id: &str,
        captured_at: DateTime,
    ) -> impl Future<Output = Result<Option<FetchedItem>, ApiFailure>> + Send;

    /// Every result Config holds for this rule: COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE.
    fn held_results(
        &self,
        rule_name: &str,
    ) -> impl Future<Output = Result<Vec<HeldResult>, ApiFailure>> + Send;

    /// Every recorded resource of `resource_type` (or only the one called `name`), by name.
    fn recorded_ids(
        &self,
        resource_type: &str,
        name: Option<&str>,
    ) -> impl Future<Output = Result<RecordedIds, ApiFailure>> + Send;
}

/// What happens to a NON_COMPLIANT schedule when `Remediate=true`: its fix is planned (a dry
/// run) or planned and made.
pub trait Fixer: Sync {
    fn fix(&self, schedule: &str) -> impl Future<Output = Result<Remediation, FixError>> + Send;
}
