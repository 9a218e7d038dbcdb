//! Reading an AWS Config aggregator: what it lists of a type, the recorded items of what it
//! lists, and the results a rule holds in one source account and region. Three read actions on
//! the aggregator's ARN, in the account that owns it: no role is assumed, nothing is written.
//! Advanced query (`SelectAggregateResourceConfig`) knows no schema for the SageMaker types, so
//! it is not used.

use crate::aws::config::evaluated;
use crate::aws::pacing::{Pacer, send};
use crate::aws::sdk::Clients;
use crate::core::aggregate::{Fetched, Filter, Listed, Place, Recorded};
use crate::core::coverage::RuleResult;
use crate::core::event::ItemStatus;
use crate::core::pages::all_pages;
use crate::error::ApiFailure;
use aws_sdk_config::Client;
use aws_sdk_config::types::{
    AggregateResourceIdentifier, BaseConfigurationItem, ResourceFilters, ResourceType,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The most identifiers `BatchGetAggregateResourceConfig` takes, and resource identifiers a
/// `ListAggregateDiscoveredResources` page holds.
pub const BATCH_LIMIT: usize = 100;
/// Attempts at identifiers the aggregator leaves unprocessed before they are named.
pub const UNPROCESSED_ATTEMPTS: u32 = 5;

#[derive(Clone, Debug)]
pub struct AggregatorReads {
    client: Client,
    pacer: Arc<Pacer>,
    name: String,
}

impl AggregatorReads {
    pub fn of(clients: &Clients, name: &str) -> Self {
        AggregatorReads {
            client: clients.config.clone(),
            pacer: clients.pacer.clone(),
            name: name.to_owned(),
        }
    }

    /// Everything of `resource_type` the aggregator lists within `filter`, page after page.
    pub async fn list(
        &self,
        resource_type: &str,
        filter: &Filter,
    ) -> Result<Vec<Listed>, ApiFailure> {
        const OPERATION: &str = "ListAggregateDiscoveredResources";
        let filters = (filter.account.is_some() || filter.region.is_some()).then(|| {
            ResourceFilters::builder()
                .set_account_id(filter.account.clone())
                .set_region(filter.region.clone())
                .build()
        });
        all_pages(OPERATION, |next_token| {
            let request = self
                .client
                .list_aggregate_discovered_resources()
                .configuration_aggregator_name(&self.name)
                .resource_type(ResourceType::from(resource_type))
                .set_filters(filters.clone())
                .limit(BATCH_LIMIT as i32)
                .set_next_token(next_token);
            async move {
                let output = send!(self.pacer, OPERATION, request)
                    .map_err(|error| ApiFailure::from_sdk(OPERATION, &error))?;
                let listed = output
                    .resource_identifiers()
                    .iter()
                    .map(|identifier| listed(identifier, resource_type))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((listed, output.next_token))
            }
        })
        .await
    }

    /// The recorded items of up to [`BATCH_LIMIT`] listed resources. Those the aggregator leaves
    /// unprocessed are asked for again, up to [`UNPROCESSED_ATTEMPTS`] times in all, then named.
    pub async fn fetch(&self, batch: &[Listed]) -> Vec<(Listed, Fetched)> {
        const OPERATION: &str = "BatchGetAggregateResourceConfig";
        let mut pending: Vec<Listed> = batch.to_vec();
        let mut done = Vec::with_capacity(batch.len());
        for attempt in 1..=UNPROCESSED_ATTEMPTS {
            let identifiers = pending.iter().map(identifier).collect::<Vec<_>>();
            let request = self
                .client
                .batch_get_aggregate_resource_config()
                .configuration_aggregator_name(&self.name)
                .set_resource_identifiers(Some(identifiers));
            let output = match send!(self.pacer, OPERATION, request) {
                Ok(output) => output,
                Err(error) => {
                    let failure = ApiFailure::from_sdk(OPERATION, &error);
                    done.extend(
                        pending
                            .drain(..)
                            .map(|listed| (listed, Fetched::Failed(failure.clone()))),
                    );
                    return done;
                }
            };
            let mut asked: BTreeMap<(String, String, String, String), Listed> = pending
                .drain(..)
                .map(|listed| (key(&listed), listed))
                .collect();
            for item in output.base_configuration_items() {
                if let Some(listed) = asked.remove(&item_key(item)) {
                    done.push((listed, Fetched::Item(recorded(item))));
                }
            }
            for unprocessed in output.unprocessed_resource_identifiers() {
                let wanted = (
                    unprocessed.source_account_id().to_owned(),
                    unprocessed.source_region().to_owned(),
                    unprocessed.resource_type().as_str().to_owned(),
                    unprocessed.resource_id().to_owned(),
                );
                if let Some(listed) = asked.remove(&wanted) {
                    pending.push(listed);
                }
            }
            // Neither returned nor unprocessed: deleted since it was listed.
            done.extend(
                asked
                    .into_values()
                    .map(|listed| (listed, Fetched::NotReturned)),
            );
            if pending.is_empty() {
                return done;
            }
            if attempt < UNPROCESSED_ATTEMPTS {
                tokio::time::sleep(Duration::from_millis(50 << (attempt - 1))).await;
            }
        }
        done.extend(
            pending
                .into_iter()
                .map(|listed| (listed, Fetched::Unprocessed(UNPROCESSED_ATTEMPTS))),
        );
        done
    }

    /// The results `rule` holds in one account and region (COMPLIANT and NON_COMPLIANT: the
    /// only ones the aggregator keeps).
    pub async fn rule_results(
        &self,
        rule: &str,
        place: &Place,
    ) -> Result<Vec<RuleResult>, ApiFailure> {
        const OPERATION: &str = "GetAggregateComplianceDetailsByConfigRule";
        all_pages(OPERATION, |next_token| {
            let request = self
                .client
                .get_aggregate_compliance_details_by_config_rule()
                .configuration_aggregator_name(&self.name)
                .config_rule_name(rule)
                .account_id(place.account())
                .aws_region(place.region())
                .limit(BATCH_LIMIT as i32)
                .set_next_token(next_token);
            async move {
                let output = send!(self.pacer, OPERATION, request)
                    .map_err(|error| ApiFailure::from_sdk(OPERATION, &error))?;
                let results = output
                    .aggregate_evaluation_results()
                    .iter()
                    .filter_map(|result| {
                        let (resource_type, resource_id, compliance) = evaluated(
                            result.evaluation_result_identifier(),
                            result.compliance_type(),
                        )?;
                        Some(RuleResult {
                            resource_type,
                            resource_id,
                            compliance,
                            recorded_at: result.result_recorded_time().copied(),
                        })
                    })
                    .collect();
                Ok((results, output.next_token))
            }
        })
        .await
    }
}

/// A listed identifier; one without a usable account, region or id is an unusable answer.
fn listed(
    identifier: &AggregateResourceIdentifier,
    resource_type: &str,
) -> Result<Listed, ApiFailure> {
    let place = Place::new(identifier.source_account_id(), identifier.source_region());
    match place {
        Some(place) if !identifier.resource_id().is_empty() => Ok(Listed {
            place,
            resource_type: resource_type.to_owned(),
            resource_id: identifier.resource_id().to_owned(),
            name: identifier
                .resource_name()
                .filter(|name| !name.is_empty())
                .map(str::to_owned),
        }),
        _ => Err(ApiFailure::unusable(
            "ListAggregateDiscoveredResources",
            "a resource identifier without a 12-digit SourceAccountId, a SourceRegion or a ResourceId",
        )),
    }
}

fn identifier(listed: &Listed) -> AggregateResourceIdentifier {
    AggregateResourceIdentifier::builder()
        .source_account_id(listed.place.account())
        .source_region(listed.place.region())
        .resource_id(&listed.resource_id)
        .resource_type(ResourceType::from(listed.resource_type.as_str()))
        .set_resource_name(listed.name.clone())
        .build()
        .expect("every required member is set")
}

fn key(listed: &Listed) -> (String, String, String, String) {
    (
        listed.place.account().to_owned(),
        listed.place.region().to_owned(),
        listed.resource_type.clone(),
        listed.resource_id.clone(),
    )
}

fn item_key(item: &BaseConfigurationItem) -> (String, String, String, String) {
    (
        item.account_id().unwrap_or_default().to_owned(),
        item.aws_region().unwrap_or_default().to_owned(),
        item.resource_type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        item.resource_id().unwrap_or_default().to_owned(),
    )
}

fn recorded(item: &BaseConfigurationItem) -> Recorded {
    Recorded {
        status: item.configuration_item_status().and_then(|status| {
            serde_json::from_value::<ItemStatus>(Value::from(status.as_str())).ok()
        }),
        captured_at: item
            .configuration_item_capture_time()
            .copied()
            .unwrap_or(aws_smithy_types::DateTime::from_secs(0)),
        arn: item.arn().map(str::to_owned),
        configuration: item.configuration().map(str::to_owned),
    }
}
