//! Talking to AWS Config: delivering evaluations and reading what Config has recorded. The
//! trait the rule needs, and its one AWS implementation.

use crate::error::{ApiFailure, FailureKind};
use crate::evaluation::Evaluation;
use crate::event::{ItemStatus, ResultToken};
use crate::verdict::Compliance;
use aws_sdk_config::Client;
use aws_sdk_config::types::{ComplianceType, ResourceType};
use aws_smithy_types::DateTime;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;

/// PutEvaluations takes at most this many evaluations per call.
pub const BATCH_LIMIT: usize = 100;

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

pub trait Evaluations: Sync {
    /// Delivers one batch (at most [`BATCH_LIMIT`]); returns the `(type, id)` of each
    /// evaluation Config reported in `FailedEvaluations`.
    fn put(
        &self,
        batch: &[Evaluation],
        token: &ResultToken,
    ) -> impl Future<Output = Result<Vec<(String, String)>, ApiFailure>> + Send;

    /// The item as recorded at `captured_at`; `Ok(None)` when Config has no such item.
    fn item_at(
        &self,
        resource_type: &str,
        resource_id: &str,
        captured_at: DateTime,
    ) -> impl Future<Output = Result<Option<FetchedItem>, ApiFailure>> + Send;

    /// Every recorded resource of `resource_type` (or only the one called `name`), by name.
    fn recorded_ids(
        &self,
        resource_type: &str,
        name: Option<&str>,
    ) -> impl Future<Output = Result<RecordedIds, ApiFailure>> + Send;

    /// Every resource for which Config holds a COMPLIANT or NON_COMPLIANT result of this rule.
    fn held_results(
        &self,
        rule_name: &str,
    ) -> impl Future<Output = Result<Vec<HeldResult>, ApiFailure>> + Send;
}

/// A result Config holds for a resource, as GetComplianceDetailsByConfigRule lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldResult {
    pub resource_type: String,
    pub resource_id: String,
}

#[derive(Clone, Debug)]
pub struct AwsEvaluations {
    client: Client,
}

impl AwsEvaluations {
    pub fn new(client: Client) -> Self {
        AwsEvaluations { client }
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
        .map_err(|error| ApiFailure {
            operation: "PutEvaluations",
            kind: FailureKind::Refused,
            code: None,
            message: error.to_string(),
        })
}

impl Evaluations for AwsEvaluations {
    async fn put(
        &self,
        batch: &[Evaluation],
        token: &ResultToken,
    ) -> Result<Vec<(String, String)>, ApiFailure> {
        let evaluations = batch.iter().map(to_sdk).collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .put_evaluations()
            .set_evaluations(Some(evaluations))
            .result_token(token.as_str())
            .set_test_mode(token.is_test_mode().then_some(true))
            .send()
            .await
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

    async fn item_at(
        &self,
        resource_type: &str,
        resource_id: &str,
        captured_at: DateTime,
    ) -> Result<Option<FetchedItem>, ApiFailure> {
        let result = self
            .client
            .get_resource_config_history()
            .resource_type(ResourceType::from(resource_type))
            .resource_id(resource_id)
            .later_time(captured_at)
            .limit(1)
            .send()
            .await;
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
            Some(text) => Some(serde_json::from_str(text).map_err(|error| ApiFailure {
                operation: "GetResourceConfigHistory",
                kind: FailureKind::Refused,
                code: None,
                message: format!("configuration is not JSON: {error}"),
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
        let mut ids = RecordedIds::new();
        let mut next_token = None;
        loop {
            let output = self
                .client
                .list_discovered_resources()
                .resource_type(ResourceType::from(resource_type))
                .set_resource_name(name.map(str::to_owned))
                .limit(100)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|error| ApiFailure::from_sdk("ListDiscoveredResources", &error))?;
            for resource in output.resource_identifiers() {
                if let (Some(name), Some(id)) = (resource.resource_name(), resource.resource_id()) {
                    ids.insert(name.to_owned(), id.to_owned());
                }
            }
            next_token = output
                .next_token()
                .filter(|token| !token.is_empty())
                .map(str::to_owned);
            if next_token.is_none() {
                return Ok(ids);
            }
        }
    }

    async fn held_results(&self, rule_name: &str) -> Result<Vec<HeldResult>, ApiFailure> {
        let mut held = Vec::new();
        let mut next_token = None;
        loop {
            let output = self
                .client
                .get_compliance_details_by_config_rule()
                .config_rule_name(rule_name)
                .compliance_types(ComplianceType::Compliant)
                .compliance_types(ComplianceType::NonCompliant)
                .limit(100)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|error| {
                    ApiFailure::from_sdk("GetComplianceDetailsByConfigRule", &error)
                })?;
            for result in output.evaluation_results() {
                let qualifier = result
                    .evaluation_result_identifier()
                    .and_then(|identifier| identifier.evaluation_result_qualifier());
                if let Some((resource_type, resource_id)) =
                    qualifier.and_then(|q| Some((q.resource_type()?, q.resource_id()?)))
                {
                    held.push(HeldResult {
                        resource_type: resource_type.to_owned(),
                        resource_id: resource_id.to_owned(),
                    });
                }
            }
            next_token = output
                .next_token()
                .filter(|token| !token.is_empty())
                .map(str::to_owned);
            if next_token.is_none() {
                return Ok(held);
            }
        }
    }
}
