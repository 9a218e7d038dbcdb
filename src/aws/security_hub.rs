//! Security Hub (restJson1): the control's findings read with GetFindings, every page, and
//! updated with BatchUpdateFindings. Reads and writes apart: [`AwsFindings`] only reads, and
//! [`AwsFindingsWriter`] is the one holder of the write call. Both go through the pacer, which
//! takes Security Hub's throttling (`LimitExceededException`, HTTP 429) like any other.

use crate::aws::pacing::{Pacer, send};
use crate::aws::sdk::Clients;
use crate::core::pages::all_pages;
use crate::core::security_hub::{Batch, CONTROL, ControlStatus, Finding, Note, Query, Workflow};
use crate::error::ApiFailure;
use crate::rule::security_hub::{FindingsReads, FindingsWrites, Read, Unprocessed, Updated};
use aws_sdk_securityhub::Client;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, AwsSecurityFindingIdentifier, NoteUpdate,
    StringFilter, StringFilterComparison, WorkflowStatus, WorkflowUpdate,
};
use std::sync::Arc;

/// The largest page GetFindings returns.
const PAGE_SIZE: i32 = 100;

/// Reads the control's findings. Nothing here writes.
#[derive(Clone, Debug)]
pub struct AwsFindings {
    client: Client,
    pacer: Arc<Pacer>,
}

impl AwsFindings {
    pub fn of(clients: &Clients) -> Self {
        AwsFindings {
            client: clients.security_hub.clone(),
            pacer: clients.pacer.clone(),
        }
    }
}

/// Updates findings: the one holder of BatchUpdateFindings.
#[derive(Clone, Debug)]
pub struct AwsFindingsWriter {
    client: Client,
    pacer: Arc<Pacer>,
}

impl AwsFindingsWriter {
    pub fn of(clients: &Clients) -> Self {
        AwsFindingsWriter {
            client: clients.security_hub.clone(),
            pacer: clients.pacer.clone(),
        }
    }
}

fn equals(value: &str) -> StringFilter {
    StringFilter::builder()
        .value(value)
        .comparison(StringFilterComparison::Equals)
        .build()
}

/// The query as GetFindings filters: the control, ACTIVE, the account and region, and the
/// schedules when it names them (EQUALS values of one field are OR'ed).
fn filters(query: &Query) -> AwsSecurityFindingFilters {
    let filters = AwsSecurityFindingFilters::builder()
        .compliance_security_control_id(equals(CONTROL))
        .record_state(equals("ACTIVE"))
        .aws_account_id(equals(&query.scope.account))
        .region(equals(&query.scope.region));
    query
        .resources
        .iter()
        .fold(filters, |filters, arn| filters.resource_id(equals(arn)))
        .build()
}

/// A finding reduced to what the decision reads; a missing member reads as absent.
fn finding_of(finding: &AwsSecurityFinding) -> Finding {
    let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
    let compliance = finding.compliance();
    Finding {
        id: text(finding.id()),
        product_arn: text(finding.product_arn()),
        account: text(finding.aws_account_id()),
        region: text(finding.region()),
        control: compliance
            .and_then(|c| c.security_control_id())
            .map(str::to_owned),
        status: compliance
            .and_then(|c| c.status())
            .and_then(|status| ControlStatus::parse(status.as_str())),
        workflow: finding
            .workflow()
            .and_then(|w| w.status())
            .and_then(|status| Workflow::parse(status.as_str())),
        active: finding
            .record_state()
            .is_some_and(|state| state.as_str() == "ACTIVE"),
        resources: finding
            .resources()
            .iter()
            .filter_map(|resource| resource.id().map(str::to_owned))
            .collect(),
        note: finding.note().map(|note| Note {
            text: text(note.text()),
            updated_by: text(note.updated_by()),
        }),
    }
}

impl FindingsReads for AwsFindings {
    async fn findings(&self, query: &Query) -> Result<Read, ApiFailure> {
        let operation = "GetFindings";
        let filters = filters(query);
        let read = all_pages(operation, |next_token| {
            let request = self
                .client
                .get_findings()
                .filters(filters.clone())
                .max_results(PAGE_SIZE)
                .set_next_token(next_token);
            async move {
                let output = send!(self.pacer, operation, request)
                    .map_err(|error| ApiFailure::from_sdk(operation, &error))?;
                let findings: Vec<Finding> = output.findings().iter().map(finding_of).collect();
                Ok((findings, output.next_token))
            }
        })
        .await;
        match read {
            Ok(findings) => Ok(Read::Findings(findings)),
            // Security Hub's answer when it is not enabled in the account and region.
            Err(failure) if failure.code.as_deref() == Some("InvalidAccessException") => {
                Ok(Read::NotEnabled(failure.message))
            }
            Err(failure) => Err(failure),
        }
    }
}

fn workflow_status(status: Workflow) -> WorkflowStatus {
    WorkflowStatus::from(status.as_str())
}

impl FindingsWrites for AwsFindingsWriter {
    async fn update(&self, batch: &Batch) -> Result<Updated, ApiFailure> {
        let operation = "BatchUpdateFindings";
        let identifiers = batch
            .findings
            .iter()
            .map(|(id, product_arn)| {
                AwsSecurityFindingIdentifier::builder()
                    .id(id)
                    .product_arn(product_arn)
                    .build()
            })
            .collect();
        let note = NoteUpdate::builder()
            .text(&batch.note)
            .updated_by(crate::core::security_hub::MARKER)
            .build();
        let request = self
            .client
            .batch_update_findings()
            .set_finding_identifiers(Some(identifiers))
            .note(note)
            .set_workflow(batch.workflow.map(|status| {
                WorkflowUpdate::builder()
                    .status(workflow_status(status))
                    .build()
            }));
        let output = send!(self.pacer, operation, request)
            .map_err(|error| ApiFailure::from_sdk(operation, &error))?;
        Ok(Updated::Applied(
            output
                .unprocessed_findings()
                .iter()
                .map(|unprocessed| Unprocessed {
                    finding: unprocessed
                        .finding_identifier()
                        .and_then(|identifier| identifier.id())
                        .unwrap_or_default()
                        .to_owned(),
                    code: unprocessed.error_code().unwrap_or_default().to_owned(),
                    message: unprocessed.error_message().unwrap_or_default().to_owned(),
                })
                .collect(),
        ))
    }
}
