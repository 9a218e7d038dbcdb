//! What Config held for the rule when the sweep began, read once, before anything is listed,
//! and borrowed by each of its three uses: the sweep's order (the oldest result first), the
//! question "does Config hold this verdict already?" (then it is not reported again), and the
//! stale clean-up.
//!
//! Stale results are those Config still holds for resources the sweep no longer finds: without
//! the clean-up they would stay COMPLIANT or NON_COMPLIANT forever. Reading them first means a
//! result recorded while the sweep runs (a schedule created meanwhile and judged by its change
//! event) is never taken for one of something gone, and they are cleared only when the sweep
//! proves them gone: a complete listing, and Config's ids for the type known, so that no live
//! resource's result is taken for a dead one.

use crate::core::evaluation::Evaluation;
use crate::core::verdict::{Compliance, Verdict};
use crate::rule::deadline::{Abandoned, Deadline, within};
use crate::rule::inventory::Inventory;
use crate::rule::outcome::{Judged, Subject};
use crate::rule::ports::{ConfigReads, HeldResult};
use aws_smithy_types::DateTime;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What Config holds for the rule, or why it is not known.
pub struct Held {
    state: State,
    /// A result recorded before this (epoch seconds) is reported again even when unchanged.
    refresh_before: f64,
}

enum State {
    /// Not asked: a change event, or an event that names no rule.
    NotAsked,
    /// Not read before the Lambda deadline (the sweep names it as given up).
    GivenUp,
    /// Asked, and not known: the read failed, or the rule's name is too long to ask by.
    Unknown,
    /// By resource type, then resource id.
    Known(HashMap<String, HashMap<String, HeldResult>>),
}

/// The longest rule name `GetComplianceDetailsByConfigRule` takes (`StringWithCharLimit64` in
/// the API model), while a rule may be named with 128 characters. The templates refuse longer
/// names; a rule deployed otherwise is told plainly what it costs.
const READABLE_RULE_NAME: usize = 64;

/// Names the held-results read when it is given up at the deadline.
const HELD_READ: &str = "GetComplianceDetailsByConfigRule (the results Config holds)";

impl Held {
    /// Nothing held is known, and nothing was asked: every verdict is reported, nothing cleared.
    pub fn not_asked() -> Held {
        Held {
            state: State::NotAsked,
            refresh_before: f64::INFINITY,
        }
    }

    /// Reads what Config holds for `rule`, in the time left; a held result older than
    /// `refresh` counts as not held, so that its verdict is reported again.
    pub async fn read<C: ConfigReads>(
        config: &C,
        rule: Option<&str>,
        refresh: Duration,
        deadline: Option<Deadline>,
    ) -> Held {
        let Some(rule) = rule else {
            tracing::info!("no rule name in the event; stale results not checked");
            return Held::not_asked();
        };
        let state = match within(deadline, known(config, rule)).await {
            Ok(Some(results)) => State::Known(results),
            Ok(None) => State::Unknown,
            Err(Abandoned) => {
                tracing::warn!(
                    "the results Config holds were not read before the Lambda deadline; stale results are left"
                );
                State::GivenUp
            }
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |elapsed| elapsed.as_secs_f64());
        Held {
            state,
            refresh_before: now - refresh.as_secs_f64(),
        }
    }

    /// Whether Config was asked: a sweep that asked confirms a quiet run, or re-states what it
    /// left unreported when it was cut short.
    pub fn asked(&self) -> bool {
        !matches!(self.state, State::NotAsked)
    }

    /// The read, named, when it was given up at the deadline.
    pub fn given_up(&self) -> Option<String> {
        matches!(self.state, State::GivenUp).then(|| HELD_READ.to_owned())
    }

    fn get(&self, resource_type: &str, id: &str) -> Option<&HeldResult> {
        match &self.state {
            State::Known(results) => results.get(resource_type)?.get(id),
            _ => None,
        }
    }

    /// Where a resource goes in the sweep's order: never judged first, then the oldest result
    /// (milliseconds of `ResultRecordedTime`).
    pub fn order(&self, resource_type: &str, id: &str) -> i64 {
        self.get(resource_type, id)
            .map_or(i64::MIN, |held| (held.recorded_at * 1000.0) as i64)
    }

    /// Whether Config holds this very evaluation (compliance and annotation), recorded recently
    /// enough not to be re-stated: Config bills every evaluation it records.
    pub fn unchanged(&self, evaluation: &Evaluation) -> bool {
        self.get(
            &evaluation.compliance_resource_type,
            &evaluation.compliance_resource_id,
        )
        .is_some_and(|held| {
            held.compliance == evaluation.compliance_type
                && held.annotation == evaluation.annotation
                && held.recorded_at >= self.refresh_before
        })
    }

    /// NOT_APPLICABLE for every held result a complete sweep proved stale, saying why: the
    /// resource no longer exists, or its type is no longer in the rule's scope.
    pub fn stale<I: Inventory>(
        &self,
        inventory: &I,
        present: &Present,
        ordering_timestamp: DateTime,
    ) -> Vec<Judged> {
        let State::Known(results) = &self.state else {
            return Vec::new();
        };
        let mut stale = Vec::new();
        let mut unknown = 0;
        // A NOT_APPLICABLE result needs no clearing.
        for result in results
            .values()
            .flat_map(HashMap::values)
            .filter(|held| held.compliance != Compliance::NotApplicable)
        {
            let resource_type = result.resource_type.as_str();
            let verdict = if !inventory.resource_types().contains(&resource_type) {
                inventory.beyond_scope(resource_type)
            } else if present.contains(resource_type, &result.resource_id) {
                continue;
            } else if !present.known.contains(resource_type)
                || present.might_be_unrecorded(resource_type, &result.resource_id)
            {
                // Config's ids for this type are unknown, or a live resource of it has none yet
                // (Config's inventory lags SageMaker's): the id may be a live resource's.
                unknown += 1;
                continue;
            } else {
                Verdict::not_applicable(
                    "The resource no longer exists (the periodic sweep did not find it), so this earlier result no longer applies.",
                )
            };
            tracing::info!(resource_type, resource = %result.resource_id, annotation = %verdict.annotation, "stale result");
            stale.push(Judged {
                subject: Subject {
                    resource_type: result.resource_type.clone(),
                    id: result.resource_id.clone(),
                    name: None,
                    arn: None,
                },
                verdict,
                at: ordering_timestamp,
                rests_on: None,
            });
        }
        if unknown > 0 {
            tracing::warn!(
                results = unknown,
                "Config's resource ids are unknown, or a live resource is not in Config's inventory yet, so these held results cannot be proven stale; stale results are left"
            );
        }
        stale
    }
}

/// Every result Config holds for `rule`, or `None` when they cannot be read.
async fn known<C: ConfigReads>(
    config: &C,
    rule: &str,
) -> Option<HashMap<String, HashMap<String, HeldResult>>> {
    let length = rule.chars().count();
    if length > READABLE_RULE_NAME {
        tracing::warn!(
            rule,
            "the rule's name has {length} characters, more than the {READABLE_RULE_NAME} characters Config's GetComplianceDetailsByConfigRule accepts: its held results cannot be read, so every verdict is reported again on every sweep and results of deleted resources are never cleared; name the rule with at most {READABLE_RULE_NAME} characters"
        );
        return None;
    }
    match config.held_results(rule).await {
        Ok(results) => {
            let mut by_type: HashMap<String, HashMap<String, HeldResult>> = HashMap::new();
            for held in results {
                by_type
                    .entry(held.resource_type.clone())
                    .or_default()
                    .insert(held.resource_id.clone(), held);
            }
            Some(by_type)
        }
        Err(failure) => {
            tracing::warn!(%failure, "could not read the results Config holds; stale results are left");
            None
        }
    }
}

/// Every id the sweep found a resource under, by type, and the types whose Config ids it knows.
#[derive(Debug, Default)]
pub struct Present {
    known: HashSet<&'static str>,
    ids: HashMap<&'static str, HashSet<String>>,
    /// Types with a live resource Config's inventory does not list yet.
    unrecorded: HashSet<&'static str>,
}

impl Present {
    pub fn new(known: impl IntoIterator<Item = &'static str>) -> Self {
        Present {
            known: known.into_iter().collect(),
            ids: HashMap::new(),
            unrecorded: HashSet::new(),
        }
    }

    /// A listed resource: under the id Config records it with, and under its ARN.
    pub fn add(&mut self, resource_type: &'static str, recorded: Option<&str>, arn: Option<&str>) {
        if recorded.is_none() {
            self.unrecorded.insert(resource_type);
        }
        let ids = self.ids.entry(resource_type).or_default();
        for id in recorded.into_iter().chain(arn) {
            ids.insert(id.to_owned());
        }
    }

    /// Whether `id` may be Config's id of a live resource the sweep found without one. Every
    /// live resource is present under its ARN, so only an id that is not an ARN can be.
    fn might_be_unrecorded(&self, resource_type: &str, id: &str) -> bool {
        self.unrecorded.contains(resource_type) && !id.starts_with("arn:")
    }

    fn contains(&self, resource_type: &str, id: &str) -> bool {
        self.ids
            .get(resource_type)
            .is_some_and(|ids| ids.contains(id))
    }
}
