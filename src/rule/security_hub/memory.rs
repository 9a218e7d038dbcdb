//! Security Hub in memory: the control's findings in a list, read with the query's filters and
//! updated as BatchUpdateFindings updates them, with findings left unprocessed on request. For
//! unit tests of the reconciliation and the service; the wire is tested against the fake.

use super::{FindingsReads, FindingsWrites, Read, Unprocessed, Updated};
use crate::core::security_hub::{
    Batch, CONTROL, ControlStatus, Finding, MARKER, Note, Query, Workflow,
};
use crate::error::ApiFailure;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Hub {
    pub findings: Mutex<Vec<Finding>>,
    pub not_enabled: bool,
    /// Findings answered as unprocessed, with this error code, the next this many times.
    pub unprocessed: Mutex<HashMap<String, (&'static str, usize)>>,
    /// Every request received.
    pub requests: Mutex<Vec<Batch>>,
    pub reads: Mutex<usize>,
    /// How long a read takes (on the test's clock).
    pub read_latency: Option<Duration>,
    pub read_failure: Option<ApiFailure>,
}

/// A FAILED, ACTIVE, NEW SageMaker.14 finding of the default account for `schedule_arn`.
pub fn failed(id: &str, schedule_arn: &str) -> Finding {
    Finding {
        id: format!(
            "arn:aws:securityhub:us-east-1:123456789012:security-control/SageMaker.14/finding/{id}"
        ),
        product_arn: "arn:aws:securityhub:us-east-1::product/aws/securityhub".into(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        control: Some(CONTROL.into()),
        status: Some(ControlStatus::Failed),
        workflow: Some(Workflow::New),
        active: true,
        resources: vec![schedule_arn.into()],
        note: None,
    }
}

impl Hub {
    pub fn with(findings: Vec<Finding>) -> Self {
        Hub {
            findings: Mutex::new(findings),
            ..Hub::default()
        }
    }

    /// How many findings each BatchUpdateFindings request carried, in order.
    pub fn batch_sizes(&self) -> Vec<usize> {
        let requests = self.requests.lock().unwrap();
        requests.iter().map(|batch| batch.findings.len()).collect()
    }

    /// Each finding's workflow status and whether it carries this rule's note, by schedule.
    pub fn states(&self) -> Vec<(String, Workflow, bool)> {
        self.findings
            .lock()
            .unwrap()
            .iter()
            .map(|f| {
                let ours = f.note.as_ref().is_some_and(|n| n.updated_by == MARKER);
                (f.resources[0].clone(), f.workflow.unwrap(), ours)
            })
            .collect()
    }
}

impl FindingsReads for &Hub {
    async fn findings(&self, query: &Query) -> Result<Read, ApiFailure> {
        if let Some(latency) = self.read_latency {
            tokio::time::sleep(latency).await;
        }
        *self.reads.lock().unwrap() += 1;
        if let Some(failure) = &self.read_failure {
            return Err(failure.clone());
        }
        if self.not_enabled {
            return Ok(Read::NotEnabled(
                "Account is not subscribed to AWS Security Hub".into(),
            ));
        }
        let found = self
            .findings
            .lock()
            .unwrap()
            .iter()
            .filter(|f| {
                f.control.as_deref() == Some(CONTROL)
                    && f.active
                    && f.account == query.scope.account
                    && f.region == query.scope.region
                    && (query.resources.is_empty()
                        || f.resources.iter().any(|r| query.resources.contains(r)))
            })
            .cloned()
            .collect();
        Ok(Read::Findings(found))
    }
}

impl FindingsWrites for &Hub {
    async fn update(&self, batch: &Batch) -> Result<Updated, ApiFailure> {
        assert!(
            (1..=100).contains(&batch.findings.len()),
            "BatchUpdateFindings takes 1 to 100 findings"
        );
        self.requests.lock().unwrap().push(batch.clone());
        let mut unprocessed = Vec::new();
        let mut left = self.unprocessed.lock().unwrap();
        let mut findings = self.findings.lock().unwrap();
        for (id, _) in &batch.findings {
            if let Some((code, times)) = left.get_mut(id)
                && *times > 0
            {
                *times -= 1;
                unprocessed.push(Unprocessed {
                    finding: id.clone(),
                    code: (*code).into(),
                    message: "in memory".into(),
                });
                continue;
            }
            let finding = findings
                .iter_mut()
                .find(|f| f.id == *id)
                .expect("a known finding");
            finding.note = Some(Note {
                text: batch.note.clone(),
                updated_by: MARKER.into(),
            });
            if let Some(status) = batch.workflow {
                finding.workflow = Some(status);
            }
        }
        Ok(Updated::Applied(unprocessed))
    }
}
