//! Talking to AWS Config: delivering evaluations and reading what Config has recorded.

use crate::aws::pacing::{Pacer, send};
use crate::aws::sdk::Clients;
use crate::core::evaluation::Evaluation;
use crate::core::event::ResultToken;
use crate::core::pages::all_pages;
use crate::core::verdict::Compliance;
use crate::error::ApiFailure;
use crate::rule::ports::{ConfigReads, Deliver, FetchedItem, HeldResult, RecordedIds};
use aws_sdk_config::Client;
use aws_sdk_config::types::{ComplianceType, EvaluationResultIdentifier, ResourceType};
use aws_smithy_types::DateTime;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct AwsConfig {
    client: Client,
    pacer: Arc<Pacer>,
}

impl AwsConfig {
    pub fn new(client: Client, pacer: Arc<Pacer>) -> Self {
        AwsConfig { client, pacer }
    }

    pub fn of(clients: &Clients) -> Self {
        Self::new(clients.config.clone(), clients.pacer.clone())
    }
}

fn compliance_type(compliance: Compliance) -> ComplianceType {
    match compliance {
        Compliance::Compliant => ComplianceType::Compliant,
        Compliance::NonCompliant => ComplianceType::NonCompliant,
        Compliance::NotApplicable => ComplianceType::NotApplicable,
    }
}

fn to_sdk(evaluation: &Evaluation) -> Result<aws_sdk_config::types::Evaluation, ApiFailure> {
    aws_sdk_config::types::Evaluation::builder()
        .compliance_resource_type(&evaluation.compliance_resource_type)
        .compliance_resource_id(&evaluation.compliance_resource_id)
        .compliance_type(compliance_type(evaluation.compliance_type))
        .annotation(&evaluation.annotation)
        .ordering_timestamp(evaluation.ordering_timestamp)
        .build()
        .map_err(|error| ApiFailure::refused("PutEvaluations", error.to_string()))
}

impl Deliver for AwsConfig {
    async fn put(
        &self,
        batch: &[Evaluation],
        token: &ResultToken,
    ) -> Result<Vec<(String, String)>, ApiFailure> {
        let evaluations = batch.iter().map(to_sdk).collect::<Result<Vec<_>, _>>()?;
        let request = self
            .client
            .put_evaluations()
            .set_evaluations(Some(evaluations))
            .result_token(token.as_str())
            .set_test_mode(token.is_test_mode().then_some(true));
        let output = send!(self.pacer, "PutEvaluations", request)
            .map_err(|error| ApiFailure::from_sdk("PutEvaluations", &error))?;
        Ok(output
            .failed_evaluations()
            .iter()
            .map(|failed| {
                (
                    failed.compliance_resource_type().to_owned(),
                    failed.compliance_resource_id().to_owned(),
                )
            })
            .collect())
    }
}

impl ConfigReads for AwsConfig {
    async fn item_at(
        &self,
        resource_type: &str,
        resource_id: &str,
        captured_at: DateTime,
    ) -> Result<Option<FetchedItem>, ApiFailure> {
        let request = self
            .client
            .get_resource_config_history()
            .resource_type(ResourceType::from(resource_type))
            .resource_id(resource_id)
            .later_time(captured_at)
            .limit(1);
        let result = send!(self.pacer, "GetResourceConfigHistory", request);
        let output = match result {
            Ok(output) => output,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_resource_not_discovered_exception()) =>
            {
                return Ok(None);
            }
            Err(error) => return Err(ApiFailure::from_sdk("GetResourceConfigHistory", &error)),
        };
        let Some(item) = output.configuration_items().first() else {
            return Ok(None);
        };
        let configuration = match item.configuration() {
            None | Some("") | Some("null") => None,
            Some(text) => Some(serde_json::from_str(text).map_err(|error| {
                ApiFailure::unusable(
                    "GetResourceConfigHistory",
                    format!("configuration is not JSON: {error}"),
                )
            })?),
        };
        let status = item
            .configuration_item_status()
            .and_then(|status| serde_json::from_value(Value::from(status.as_str())).ok());
        let tags = item
            .tags()
            .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(Some(FetchedItem {
            status,
            configuration,
            tags,
        }))
    }

    async fn recorded_ids(
        &self,
        resource_type: &str,
        name: Option<&str>,
    ) -> Result<RecordedIds, ApiFailure> {
        let operation = "ListDiscoveredResources";
        let pairs = all_pages(operation, |next_token| async move {
            let request = self
                .client
                .list_discovered_resources()
                .resource_type(ResourceType::from(resource_type))
                .set_resource_name(name.map(str::to_owned))
                .limit(100)
                .set_next_token(next_token);
            let output = send!(self.pacer, operation, request)
                .map_err(|error| ApiFailure::from_sdk(operation, &error))?;
            let pairs: Vec<(String, String)> = output
                .resource_identifiers()
                .iter()
                .filter_map(|resource| {
                    Some((
                        resource.resource_name()?.to_owned(),
                        resource.resource_id()?.to_owned(),
                    ))
                })
                .collect();
            Ok((pairs, output.next_token))
        })
        .await?;
        Ok(pairs.into_iter().collect())
    }

    async fn held_results(&self, rule_name: &str) -> Result<Vec<HeldResult>, ApiFailure> {
        let operation = "GetComplianceDetailsByConfigRule";
        all_pages(operation, |next_token| async move {
            let request = self
                .client
                .get_compliance_details_by_config_rule()
                .config_rule_name(rule_name)
                .compliance_types(ComplianceType::Compliant)
                .compliance_types(ComplianceType::NonCompliant)
                .compliance_types(ComplianceType::NotApplicable)
                .limit(100)
                .set_next_token(next_token);
            let output = send!(self.pacer, operation, request)
                .map_err(|error| ApiFailure::from_sdk(operation, &error))?;
            let held: Vec<HeldResult> = output
                .evaluation_results()
                .iter()
                .filter_map(|result| {
                    let (resource_type, resource_id, compliance) = evaluated(
                        result.evaluation_result_identifier(),
                        result.compliance_type(),
                    )?;
                    Some(HeldResult {
                        resource_type,
                        resource_id,
                        compliance,
                        annotation: result.annotation().unwrap_or_default().to_owned(),
                        recorded_at: result
                            .result_recorded_time()
                            .map_or(0.0, |t| t.as_secs_f64()),
                    })
                })
                .collect();
            Ok((held, output.next_token))
        })
        .await
    }
}

/// The resource and the compliance of a result Config holds; `None` for one without them, or
/// INSUFFICIENT_DATA, which no rule reports.
pub(crate) fn evaluated(
    identifier: Option<&EvaluationResultIdentifier>,
    compliance: Option<&ComplianceType>,
) -> Option<(String, String, Compliance)> {
    let qualifier = identifier?.evaluation_result_qualifier()?;
    let compliance = match compliance? {
        ComplianceType::Compliant => Compliance::Compliant,
        ComplianceType::NonCompliant => Compliance::NonCompliant,
        ComplianceType::NotApplicable => Compliance::NotApplicable,
        _ => return None,
    };
    Some((
        qualifier.resource_type()?.to_owned(),
        qualifier.resource_id()?.to_owned(),
        compliance,
    ))
}
