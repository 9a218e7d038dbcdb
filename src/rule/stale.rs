//! Results Config still holds for resources a sweep no longer finds. Without this they would
//! stay COMPLIANT or NON_COMPLIANT forever. They are read before the sweep lists anything, and
//! cleared only when the sweep proves them gone: a complete listing, and Config's ids for the
//! type known, so that no live resource's result is taken for a dead one.

use crate::core::verdict::{Compliance, Verdict};
use crate::rule::inventory::Inventory;
use crate::rule::outcome::Subject;
use crate::rule::ports::{ById, ConfigReads, Deliver};
use crate::rule::recorder::Recorder;
use aws_smithy_types::DateTime;
use std::collections::HashSet;

/// What Config held for the rule when the sweep began; `None` when it could not be read.
pub struct Held {
    results: Option<ById>,
}

/// Every id the sweep found a resource under, and the types whose Config ids it knows.
#[derive(Debug, Default)]
pub struct Present {
    known: HashSet<&'static str>,
    ids: HashSet<(&'static str, String)>,
}

impl Present {
    pub fn new(known: impl IntoIterator<Item = &'static str>) -> Self {
        Present {
            known: known.into_iter().collect(),
            ids: HashSet::new(),
        }
    }

    /// A listed resource: under the id Config records it with, and under its ARN.
    pub fn add(&mut self, resource_type: &'static str, recorded: Option<&str>, arn: Option<&str>) {
        for id in recorded.into_iter().chain(arn) {
            self.ids.insert((resource_type, id.to_owned()));
        }
    }

    fn contains(&self, resource_type: &str, id: &str) -> bool {
        self.ids
            .iter()
            .any(|(known_type, known_id)| *known_type == resource_type && known_id == id)
    }
}

/// The longest rule name `GetComplianceDetailsByConfigRule` takes (`StringWithCharLimit64` in
/// the API model), while a rule may be named with 128 characters. The templates refuse longer
/// names; a rule deployed otherwise is told plainly what it costs.
const READABLE_RULE_NAME: usize = 64;

impl Held {
    pub async fn read<C: ConfigReads>(config: &C, rule: &str) -> Held {
        let length = rule.chars().count();
        if length > READABLE_RULE_NAME {
            tracing::warn!(
                rule,
                "the rule's name has {length} characters, more than the {READABLE_RULE_NAME} characters Config's GetComplianceDetailsByConfigRule accepts: its held results cannot be read, so every verdict is reported again on every sweep and results of deleted resources are never cleared; name the rule with at most {READABLE_RULE_NAME} characters"
            );
            return Held { results: None };
        }
        match config.held_results(rule).await {
            Ok(results) => Held {
                results: Some(
                    results
                        .into_iter()
                        .map(|held| ((held.resource_type.clone(), held.resource_id.clone()), held))
                        .collect(),
                ),
            },
            Err(failure) => {
                tracing::warn!(%failure, "could not read the results Config holds; stale results are left");
                Held { results: None }
            }
        }
    }

    /// Every held result, by `(type, id)`.
    pub fn by_id(&self) -> Option<&ById> {
        self.results.as_ref()
    }

    /// When Config recorded the result it holds for this resource, if any.
    pub fn recorded_at(&self, resource_type: &str, id: &str) -> Option<f64> {
        let key = (resource_type.to_owned(), id.to_owned());
        Some(self.results.as_ref()?.get(&key)?.recorded_at)
    }

    /// Reports NOT_APPLICABLE every held result the sweep proved stale, and says why: the
    /// resource no longer exists, or its type is no longer in the rule's scope. Returns how
    /// many.
    pub async fn clear<I: Inventory, D: Deliver>(
        self,
        inventory: &I,
        present: &Present,
        ordering_timestamp: DateTime,
        recorder: &mut Recorder<'_, D>,
    ) -> usize {
        let Some(results) = self.results else {
            return 0;
        };
        let mut cleared = 0;
        let mut unknown = 0;
        // A NOT_APPLICABLE result needs no clearing.
        for result in results
            .values()
            .filter(|held| held.compliance != Compliance::NotApplicable)
        {
            let swept = inventory
                .resource_types()
                .contains(&result.resource_type.as_str());
            let verdict = if !swept {
                inventory.beyond_scope(&result.resource_type)
            } else if present.contains(&result.resource_type, &result.resource_id) {
                continue;
            } else if !present.known.contains(result.resource_type.as_str()) {
                // Config's ids for this type are unknown: the id may be a live resource's.
                unknown += 1;
                continue;
            } else {
                Verdict::not_applicable(
                    "The resource no longer exists (the periodic sweep did not find it), so this earlier result no longer applies.",
                )
            };
            tracing::info!(resource_type = %result.resource_type, resource = %result.resource_id, annotation = %verdict.annotation, "stale result");
            cleared += 1;
            let subject = Subject {
                resource_type: &result.resource_type,
                id: &result.resource_id,
                name: None,
            };
            recorder.verdict(subject, verdict, ordering_timestamp).await;
        }
        if unknown > 0 {
            tracing::warn!(
                results = unknown,
                "Config's resource ids are unknown, so these held results cannot be proven stale; stale results are left"
            );
        }
        cleared
    }
}
