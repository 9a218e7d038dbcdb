//! The periodic sweep: list every resource, judge each with bounded concurrency, deliver what
//! changed in batches as they fill, then report NOT_APPLICABLE for results Config still holds
//! for resources that no longer exist.
//!
//! What is listed and how one resource is judged is an [`Inventory`]: monitoring schedules for
//! SageMaker.14 (`inventory.rs`), or job definitions for the sibling controls.

use crate::core::pages::Pager;
use crate::core::params::RuleParams;
use crate::error::ApiFailure;
use crate::rule::deadline::{Abandoned, Deadline, within};
use crate::rule::inventory::{Inventory, Listed, Outcome};
use crate::rule::outcome::{Reason, Subject};
use crate::rule::ports::{ConfigReads, Deliver, RecordedIds, Summary};
use crate::rule::recorder::Recorder;
use crate::rule::report::SweepFacts;
use crate::rule::stale;
use aws_smithy_types::DateTime;
use futures::{StreamExt, stream};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;

#[derive(Debug, Clone)]
pub struct SweepSettings {
    pub concurrency: usize,
    pub ordering_timestamp: DateTime,
    pub deadline: Option<Deadline>,
    /// The rule whose held results to read (to clear stale ones and to leave unchanged ones
    /// unreported); `None` skips both.
    pub rule_name: Option<String>,
    /// A held result older than this is reported again even when unchanged.
    pub refresh: std::time::Duration,
}

impl SweepSettings {
    pub fn new(
        params: &RuleParams,
        ordering_timestamp: DateTime,
        deadline: Option<Deadline>,
        rule_name: Option<String>,
    ) -> Self {
        SweepSettings {
            concurrency: params.concurrency,
            ordering_timestamp,
            deadline,
            rule_name,
            refresh: params.refresh(),
        }
    }
}

/// Names the held-results read when it is given up at the deadline.
const HELD_READ: &str = "GetComplianceDetailsByConfigRule (the results Config holds)";

/// Outcomes waiting for delivery while judging goes on.
const CHANNEL_DEPTH: usize = 1024;

/// A sweep, in four steps. What Config holds is read first, so that a result recorded while the
/// sweep runs (a schedule created meanwhile and judged by its change event) is never taken for
/// one of something gone, and so that verdicts that did not change need not be reported again.
/// Everything is listed next, with Config's ids, and judged oldest result first: a sweep cut
/// short by the deadline leaves the most recently judged, and the next one starts where it
/// stopped. Judging runs with bounded concurrency while delivery runs beside it. Last, a
/// complete sweep clears the results of what it did not find; a cut-short one re-states what it
/// judged unchanged, so that its results move to the back of the next sweep's order.
pub async fn sweep<I: Inventory, C: ConfigReads, D: Deliver>(
    inventory: &I,
    config: &C,
    settings: &SweepSettings,
    recorder: &mut Recorder<'_, D>,
) -> SweepFacts {
    let mut abandoned: Vec<String> = Vec::new();
    let held = match &settings.rule_name {
        Some(rule) => match within(settings.deadline, stale::Held::read(config, rule)).await {
            Ok(held) => Some(held),
            Err(Abandoned) => {
                tracing::warn!(
                    "the results Config holds were not read before the Lambda deadline; stale results are left"
                );
                abandoned.push(HELD_READ.to_owned());
                None
            }
        },
        None => {
            tracing::info!("no rule name in the event; stale results not checked");
            None
        }
    };
    if let Some(held) = &held {
        recorder.compare_with(held.by_id(), settings.refresh);
    }
    let (listing, (recorded, ids_abandoned)) = futures::join!(
        list_all(inventory, settings.deadline),
        recorded_ids(config, inventory.resource_types(), settings.deadline)
    );
    let Listing {
        listed,
        failure: list_failure,
        unlisted_pages,
        abandoned: list_abandoned,
    } = listing;
    abandoned.extend(ids_abandoned.into_iter().chain(list_abandoned));
    let mut work: Vec<(Listed, Option<String>)> = listed
        .into_iter()
        .map(|item| {
            let id = recorded
                .get(item.resource_type)
                .and_then(|ids| ids.get(&item.name))
                .cloned();
            (item, id)
        })
        .collect();
    if let Some(held) = &held {
        // Never judged first, then the oldest result first; the list order breaks ties.
        work.sort_by_cached_key(|(item, id)| {
            let id = id.as_deref().or(item.arn.as_deref()).unwrap_or_default();
            held.recorded_at(item.resource_type, id)
                .map(|seconds| (seconds * 1000.0) as i64)
                .unwrap_or(i64::MIN)
        });
    }
    let listed = work.len();
    let started = AtomicUsize::new(0);
    let (sender, mut receiver) = mpsc::channel::<(Listed, Option<String>, Outcome)>(CHANNEL_DEPTH);
    let produce = async {
        let stop_starting = settings.deadline.map(|deadline| deadline.stop_starting);
        let outcomes = stream::iter(work)
            .take_while(|_| {
                std::future::ready(stop_starting.is_none_or(|stop| Instant::now() < stop))
            })
            .map(|(item, id)| {
                started.fetch_add(1, Ordering::Relaxed);
                judge_one(inventory, item, id, settings.deadline)
            })
            .buffer_unordered(settings.concurrency.max(1));
        let mut outcomes = std::pin::pin!(outcomes);
        while let Some(outcome) = outcomes.next().await {
            if sender.send(outcome).await.is_err() {
                break;
            }
        }
        drop(sender);
    };
    let consume = async {
        let mut present = stale::Present::new(recorded.keys().copied());
        while let Some((item, recorded_id, outcome)) = receiver.recv().await {
            if !matches!(outcome, Outcome::Vanished) {
                present.add(
                    item.resource_type,
                    recorded_id.as_deref(),
                    item.arn.as_deref(),
                );
            }
            match outcome {
                Outcome::Judged(verdict) => {
                    let Some(id) = recorded_id.or(item.arn) else {
                        recorder.unjudged(item.name, Reason::NoId);
                        continue;
                    };
                    let subject = Subject {
                        resource_type: item.resource_type,
                        id: &id,
                        name: Some(&item.name),
                    };
                    recorder
                        .verdict(subject, verdict, settings.ordering_timestamp)
                        .await;
                }
                Outcome::Vanished => recorder.vanished(),
                Outcome::Unknown(reason) => recorder.unjudged(item.name, reason),
            }
        }
        present
    };
    let ((), present) = futures::join!(produce, consume);

    let mut facts = SweepFacts {
        not_started: listed.saturating_sub(started.load(Ordering::Relaxed)),
        unlisted_pages,
        job_definitions: inventory.job_definitions(),
        stale: 0,
        list_failure: list_failure.clone(),
        abandoned,
    };
    let listing_failed = match list_failure {
        Some(failure) => {
            recorder.unjudged("resources beyond those listed", failure);
            true
        }
        None => false,
    };
    // Only a complete listing says what no longer exists.
    let complete = !listing_failed
        && facts.not_started == 0
        && !facts.unlisted_pages
        && facts.abandoned.is_empty();
    match held {
        Some(held) if complete => {
            facts.stale = held
                .clear(inventory, &present, settings.ordering_timestamp, recorder)
                .await;
            recorder.confirm_if_silent().await;
        }
        Some(_) => {
            tracing::warn!("the sweep was incomplete; stale results are left for the next one");
            recorder.restate_unchanged().await;
        }
        None => {}
    }
    facts
}

/// What the listing found, and why it stopped early if it did.
struct Listing {
    listed: Vec<Listed>,
    failure: Option<ApiFailure>,
    /// More pages were left at the deadline.
    unlisted_pages: bool,
    /// The page call given up at the deadline, named.
    abandoned: Option<String>,
}

/// Every resource of every type, page after page, a resource listed twice kept once. Stops at
/// the deadline (pages were left: no page is started after `stop_starting`, and one still
/// being read at `abandon` is given up) or at a failure, keeping what it listed.
async fn list_all<I: Inventory>(inventory: &I, deadline: Option<Deadline>) -> Listing {
    let mut listing = Listing {
        listed: Vec::new(),
        failure: None,
        unlisted_pages: false,
        abandoned: None,
    };
    let mut seen = HashSet::new();
    for (index, resource_type) in inventory.resource_types().iter().enumerate() {
        let operation = inventory.list_operation(index);
        let mut pager = Pager::new(operation);
        let mut next_token = None;
        loop {
            if deadline.is_some_and(|deadline| deadline.passed(deadline.stop_starting)) {
                listing.unlisted_pages = true;
                return listing;
            }
            let page = match within(deadline, inventory.list_page(index, next_token)).await {
                Ok(Ok(page)) => page,
                Ok(Err(failure)) => {
                    tracing::error!(%failure, resource_type, "could not list resources");
                    listing.failure = Some(failure);
                    return listing;
                }
                Err(Abandoned) => {
                    tracing::warn!(
                        operation,
                        resource_type,
                        "a page of the listing was not read before the Lambda deadline"
                    );
                    listing.unlisted_pages = true;
                    listing.abandoned = Some(format!("{operation} (a page of {resource_type})"));
                    return listing;
                }
            };
            for Summary { name, arn, names } in page.items {
                // A list that shifts between pages can name a resource twice.
                if seen.insert((index, name.clone())) {
                    listing.listed.push(Listed {
                        resource_type,
                        name,
                        arn,
                        names,
                    });
                }
            }
            match pager.next(page.next_token.as_deref()) {
                Ok(Some(token)) => next_token = Some(token),
                Ok(None) => break,
                Err(failure) => {
                    tracing::error!(%failure, resource_type, "stopped listing");
                    listing.failure = Some(failure);
                    return listing;
                }
            }
        }
    }
    listing
}

/// Config's ids for every listed type. A type Config does not list (or a role that may not
/// ask) is left out: its resources are reported under their ARNs, which is what Config
/// records for these CloudFormation types, and none of its held results can be proven stale.
async fn recorded_ids<C: ConfigReads>(
    config: &C,
    types: &[&'static str],
    deadline: Option<Deadline>,
) -> (HashMap<&'static str, RecordedIds>, Option<String>) {
    let mut recorded = HashMap::new();
    for resource_type in types {
        match within(deadline, config.recorded_ids(resource_type, None)).await {
            Ok(Ok(ids)) => {
                recorded.insert(*resource_type, ids);
            }
            Ok(Err(failure)) => tracing::warn!(
                %failure,
                resource_type,
                "could not list the resource ids Config records; reporting each resource under its ARN, and stale results are left"
            ),
            Err(Abandoned) => {
                tracing::warn!(
                    resource_type,
                    "the resource ids Config records were not read before the Lambda deadline"
                );
                return (
                    recorded,
                    Some(format!(
                        "ListDiscoveredResources (Config's ids for {resource_type})"
                    )),
                );
            }
        }
    }
    (recorded, None)
}

async fn judge_one<I: Inventory>(
    inventory: &I,
    item: Listed,
    id: Option<String>,
    deadline: Option<Deadline>,
) -> (Listed, Option<String>, Outcome) {
    let span = tracing::info_span!("resource", name = %item.name);
    let work = async {
        let outcome = inventory.judge(&item).await;
        match &outcome {
            Outcome::Judged(verdict) => tracing::debug!(compliance = %verdict.compliance, "judged"),
            Outcome::Vanished => tracing::info!("deleted between list and describe; skipped"),
            Outcome::Unknown(_) => {}
        }
        outcome
    }
    .instrument(span);
    let outcome = within(deadline, work)
        .await
        .unwrap_or(Outcome::Unknown(Reason::Deadline));
    (item, id, outcome)
}
