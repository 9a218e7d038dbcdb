//! An account in memory: the rule's four ports over plain maps, so that the service and the
//! sweep are unit-tested in milliseconds. What crosses the wire (retries, pagination tokens,
//! error parsing) is tested against the local fake with the AWS implementations instead.
//!
//! Time is the test's tokio clock: each call waits its operation's latency, and every call is
//! logged with the instant it started, so that a test on a paused clock asserts exact moments.
//! Config holds what is delivered to it, recorded at that clock's time, as AWS Config does.

use crate::core::evaluation::Evaluation;
use crate::core::event::{Invocation, ResultToken};
use crate::core::remediation::{FixError, Remediation, Step};
use crate::core::resource::{JobDefinitionRef, MonitoringKind};
use crate::core::schedule::{JobSpec, Network, ScheduleView};
use crate::core::verdict::{Compliance, JobDefinitionState};
use crate::error::{ApiFailure, FailureKind};
use crate::rule::ports::{
    ConfigReads, Deliver, FetchedItem, Fixer, HeldResult, Page, RecordedIds, SageMakerReads,
    Summary,
};
use aws_smithy_types::DateTime;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

#[derive(Debug)]
pub struct Memory {
    pub schedules: BTreeMap<String, ScheduleView>,
    /// `None`: the job definition has no NetworkConfig.
    pub job_definitions: BTreeMap<JobDefinitionRef, Option<Network>>,
    /// Ids Config records resources under, by type and name.
    pub recorded: HashMap<String, RecordedIds>,
    /// What Config holds for the rule; each delivered evaluation replaces its resource's.
    pub held: Mutex<Vec<HeldResult>>,
    /// Schedules whose Describe is refused.
    pub unreadable: HashSet<String>,
    /// ListMonitoringSchedules fails after this many pages.
    pub listing_fails_after: Option<usize>,
    pub page_size: usize,
    /// How long each call of an operation takes to answer (`DescribeJobDefinition` for the
    /// four job-definition describes, `UpdateMonitoringSchedule` for a fix): time on the
    /// test's clock, paused in the tests that set it.
    pub latency: HashMap<&'static str, Duration>,
    /// How many PutEvaluations calls, from the next one, Config answers with every evaluation
    /// in `FailedEvaluations`.
    pub failing_puts: Mutex<usize>,
    pub delivered: Mutex<Vec<Evaluation>>,
    pub fixed: Mutex<Vec<String>>,
    pub describes: Mutex<usize>,
    /// Every call, with the instant it started.
    pub calls: Mutex<Vec<(&'static str, Instant)>>,
    /// Epoch seconds at `started`: Config's clock is the test's.
    epoch: f64,
    started: Instant,
}

fn denied(operation: &'static str) -> ApiFailure {
    ApiFailure {
        operation,
        kind: FailureKind::AccessDenied,
        code: Some("AccessDeniedException".into()),
        message: "denied in memory".into(),
        request_id: None,
    }
}

impl Memory {
    pub fn new() -> Self {
        Memory {
            schedules: BTreeMap::new(),
            job_definitions: BTreeMap::new(),
            recorded: HashMap::new(),
            held: Mutex::new(Vec::new()),
            unreadable: HashSet::new(),
            listing_fails_after: None,
            page_size: 3,
            latency: HashMap::new(),
            failing_puts: Mutex::new(0),
            delivered: Mutex::new(Vec::new()),
            fixed: Mutex::new(Vec::new()),
            describes: Mutex::new(0),
            calls: Mutex::new(Vec::new()),
            epoch: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs_f64(),
            started: Instant::now(),
        }
    }

    /// Config holds these results for the rule.
    pub fn holding(self, results: Vec<HeldResult>) -> Self {
        *self.held.lock().unwrap() = results;
        self
    }

    /// The instants `operation` was called at, from this memory's making.
    pub fn called(&self, operation: &str) -> Vec<Duration> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(called, _)| *called == operation)
            .map(|(_, at)| *at - self.started)
            .collect()
    }

    /// Now, in epoch seconds, on the test's clock.
    pub fn now_epoch(&self) -> f64 {
        self.epoch + (Instant::now() - self.started).as_secs_f64()
    }

    pub fn schedule(mut self, name: &str, job: JobSpec) -> Self {
        let view = ScheduleView {
            name: Some(name.into()),
            arn: Some(format!("arn:schedule/{name}")),
            job,
        };
        self.schedules.insert(name.into(), view);
        self
    }

    pub fn job_definition(mut self, kind: MonitoringKind, name: &str, isolated: bool) -> Self {
        let reference = JobDefinitionRef {
            kind,
            name: name.into(),
        };
        let network = Network {
            isolation: Some(isolated),
            vpc: false,
        };
        self.job_definitions.insert(reference, Some(network));
        self
    }

    /// What was delivered, by resource id.
    pub fn delivered(&self) -> BTreeMap<String, Compliance> {
        self.delivered
            .lock()
            .unwrap()
            .iter()
            .map(|e| (e.compliance_resource_id.clone(), e.compliance_type))
            .collect()
    }

    /// One call of `operation`, answered after its latency.
    async fn call(&self, operation: &'static str) {
        self.calls.lock().unwrap().push((operation, Instant::now()));
        if let Some(latency) = self.latency.get(operation) {
            tokio::time::sleep(*latency).await;
        }
    }

    fn page<T: Clone>(&self, all: &[T], token: Option<String>) -> (Vec<T>, Option<String>) {
        let start = token.map_or(0, |t| t.parse().expect("a token this memory gave"));
        let end = (start + self.page_size).min(all.len());
        let next = (end < all.len()).then(|| end.to_string());
        (all[start..end].to_vec(), next)
    }
}

fn summary(view: &ScheduleView) -> Summary {
    let summary = Summary {
        name: view.name.clone().unwrap_or_default(),
        arn: view.arn.clone(),
        named: None,
    };
    match &view.job {
        JobSpec::Named {
            name,
            monitoring_type,
        } => summary.naming(Some(name), monitoring_type.as_deref()),
        _ => summary,
    }
}

impl SageMakerReads for &Memory {
    async fn list_page(
        &self,
        next_token: Option<String>,
        naming: Option<&JobDefinitionRef>,
    ) -> Result<Page, ApiFailure> {
        self.call("ListMonitoringSchedules").await;
        let all: Vec<Summary> = self
            .schedules
            .values()
            .filter(|view| match (naming, &view.job) {
                (None, _) => true,
                (
                    Some(wanted),
                    JobSpec::Named {
                        name,
                        monitoring_type,
                    },
                ) => {
                    *name == wanted.name && monitoring_type.as_deref() == Some(wanted.kind.as_str())
                }
                (Some(_), _) => false,
            })
            .map(summary)
            .collect();
        let page_number = next_token
            .as_deref()
            .map_or(0, |t| t.parse::<usize>().unwrap_or(0))
            / self.page_size.max(1);
        if self
            .listing_fails_after
            .is_some_and(|limit| page_number >= limit)
        {
            return Err(denied("ListMonitoringSchedules"));
        }
        let (items, next_token) = self.page(&all, next_token);
        Ok(Page { items, next_token })
    }

    async fn describe(&self, name: &str) -> Result<Option<ScheduleView>, ApiFailure> {
        self.call("DescribeMonitoringSchedule").await;
        *self.describes.lock().unwrap() += 1;
        if self.unreadable.contains(name) {
            return Err(denied("DescribeMonitoringSchedule"));
        }
        Ok(self.schedules.get(name).cloned())
    }

    async fn describe_job_definition(
        &self,
        reference: &JobDefinitionRef,
    ) -> Result<JobDefinitionState, ApiFailure> {
        self.call("DescribeJobDefinition").await;
        Ok(match self.job_definitions.get(reference) {
            Some(network) => JobDefinitionState::Found(*network),
            None => JobDefinitionState::Missing,
        })
    }

    async fn list_job_definitions(
        &self,
        kind: MonitoringKind,
        next_token: Option<String>,
    ) -> Result<Page, ApiFailure> {
        self.call("ListJobDefinitions").await;
        let all: Vec<Summary> = self
            .job_definitions
            .keys()
            .filter(|reference| reference.kind == kind)
            .map(|reference| Summary {
                name: reference.name.clone(),
                arn: Some(format!("arn:{}/{}", kind, reference.name)),
                named: None,
            })
            .collect();
        let (items, next_token) = self.page(&all, next_token);
        Ok(Page { items, next_token })
    }

    async fn tags(&self, _arn: &str) -> Result<BTreeMap<String, String>, ApiFailure> {
        self.call("ListTags").await;
        Ok(BTreeMap::new())
    }
}

impl Deliver for &Memory {
    async fn put(
        &self,
        batch: &[Evaluation],
        _token: &ResultToken,
    ) -> Result<Vec<(String, String)>, ApiFailure> {
        self.call("PutEvaluations").await;
        assert!(batch.len() <= 100, "PutEvaluations takes 100 at most");
        {
            let mut failing = self.failing_puts.lock().unwrap();
            if *failing > 0 {
                *failing -= 1;
                return Ok(batch
                    .iter()
                    .map(|e| {
                        let id = e.compliance_resource_id.clone();
                        (e.compliance_resource_type.clone(), id)
                    })
                    .collect());
            }
        }
        let recorded_at = self.now_epoch();
        let mut held = self.held.lock().unwrap();
        let replaced: HashSet<(&str, &str)> = batch
            .iter()
            .map(|e| {
                (
                    e.compliance_resource_type.as_str(),
                    e.compliance_resource_id.as_str(),
                )
            })
            .collect();
        held.retain(|result| {
            !replaced.contains(&(result.resource_type.as_str(), result.resource_id.as_str()))
        });
        for evaluation in batch {
            held.push(HeldResult {
                resource_type: evaluation.compliance_resource_type.clone(),
                resource_id: evaluation.compliance_resource_id.clone(),
                compliance: evaluation.compliance_type,
                annotation: evaluation.annotation.clone(),
                recorded_at,
            });
        }
        self.delivered.lock().unwrap().extend(batch.iter().cloned());
        Ok(Vec::new())
    }
}

impl ConfigReads for &Memory {
    async fn item_at(
        &self,
        _resource_type: &str,
        _resource_id: &str,
        _captured_at: DateTime,
    ) -> Result<Option<FetchedItem>, ApiFailure> {
        self.call("GetResourceConfigHistory").await;
        Ok(None)
    }

    async fn recorded_ids(
        &self,
        resource_type: &str,
        _name: Option<&str>,
    ) -> Result<RecordedIds, ApiFailure> {
        self.call("ListDiscoveredResources").await;
        Ok(self
            .recorded
            .get(resource_type)
            .cloned()
            .unwrap_or_default())
    }

    async fn held_results(&self, _rule_name: &str) -> Result<Vec<HeldResult>, ApiFailure> {
        self.call("GetComplianceDetailsByConfigRule").await;
        Ok(self.held.lock().unwrap().clone())
    }
}

impl Fixer for &Memory {
    async fn fix(&self, schedule: &str) -> Result<Remediation, FixError> {
        self.call("UpdateMonitoringSchedule").await;
        self.fixed.lock().unwrap().push(schedule.to_owned());
        Ok(Remediation {
            schedule: schedule.to_owned(),
            steps: vec![Step::UpdateSchedule {
                schedule: schedule.to_owned(),
                change: "isolation on".into(),
            }],
            applied: true,
        })
    }
}

/// A periodic event with these rule parameters.
pub fn periodic(params: &str) -> Invocation {
    Invocation::from_value(json!({
        "invokingEvent": json!({"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-28T10:00:00.000Z"}).to_string(),
        "ruleParameters": params,
        "resultToken": "t",
        "configRuleName": "rule",
    }))
    .unwrap()
}
