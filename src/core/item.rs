//! A configuration item, read into what the rule can judge: a schedule, a job definition, a
//! resource that is gone, or a type this rule does not look into. The same reading serves the
//! item in a change event and one fetched from Config's history.

use crate::core::event::{EventError, ItemHeader, ItemStatus};
use crate::core::resource::{JobDefinitionRef, ResourceKind};
use crate::core::schedule::{ScheduleView, network_from};
use crate::core::verdict::{JobDefinitionState, Verdict};
use serde_json::Value;
use std::collections::BTreeMap;

/// A changed resource, as far as the rule could read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Schedule {
        view: ScheduleView,
        tags: Option<BTreeMap<String, String>>,
    },
    JobDefinition {
        reference: JobDefinitionRef,
        state: JobDefinitionState,
    },
    /// The resource no longer exists, or is not recorded: the status that says so.
    Gone(&'static str),
    /// Not a type this rule looks into.
    Other,
}

impl Item {
    /// Reads an item's `configuration`. A configuration of the wrong shape is bad input:
    /// refused, never judged.
    pub fn read(
        header: &ItemHeader,
        configuration: Option<&Value>,
        tags: Option<&BTreeMap<String, String>>,
    ) -> Result<Item, EventError> {
        let kind = ResourceKind::of(&header.resource_type);
        if header.status.is_gone_or_unrecorded() {
            return Ok(match kind {
                // A deleted job definition still matters to the schedules that name it.
                ResourceKind::JobDefinition(kind)
                    if header.status != ItemStatus::ResourceNotRecorded =>
                {
                    match header.resource_name.clone() {
                        Some(name) => Item::JobDefinition {
                            reference: JobDefinitionRef { kind, name },
                            state: JobDefinitionState::Missing,
                        },
                        None => Item::Gone(header.status.as_str()),
                    }
                }
                ResourceKind::Schedule | ResourceKind::JobDefinition(_) => {
                    Item::Gone(header.status.as_str())
                }
                ResourceKind::Other => Item::Other,
            });
        }
        let bad = |detail: String| EventError::BadShape {
            message_type: "ConfigurationItemChangeNotification",
            detail,
        };
        let configuration = match kind {
            ResourceKind::Other => return Ok(Item::Other),
            _ => configuration.ok_or_else(|| {
                bad(format!(
                    "configurationItem for {} has status {} but no configuration",
                    header.resource_id,
                    header.status.as_str()
                ))
            })?,
        };
        match kind {
            ResourceKind::Schedule => {
                let view = ScheduleView::from_configuration(configuration)
                    .map_err(|error| bad(format!("configurationItem.{error}")))?;
                Ok(Item::Schedule {
                    view,
                    tags: tags.cloned(),
                })
            }
            ResourceKind::JobDefinition(kind) => {
                let name = configuration
                    .get("JobDefinitionName")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| header.resource_name.clone())
                    .ok_or_else(|| {
                        bad("the job definition has no JobDefinitionName or resourceName".into())
                    })?;
                let network = network_from(
                    configuration.get("NetworkConfig"),
                    "configuration.NetworkConfig",
                )
                .map_err(|error| bad(format!("configurationItem.{error}")))?;
                Ok(Item::JobDefinition {
                    reference: JobDefinitionRef { kind, name },
                    state: JobDefinitionState::Found(network),
                })
            }
            ResourceKind::Other => Ok(Item::Other),
        }
    }
}

/// The verdict for a resource that is deleted or not recorded.
pub fn gone(status: &str) -> Verdict {
    Verdict::not_applicable(format!(
        "Configuration item status is {status}: the resource is deleted or not recorded, so there is nothing to judge."
    ))
}
