//! The periodic sweep's work: list every resource, order the list, judge each with bounded
//! concurrency, and hand back one [`Outcome`] per resource as it is judged. It records and
//! delivers nothing: the service (`mod.rs`) records each outcome as it arrives, so delivery
//! runs beside judging, and clears stale results after a complete sweep.
//!
//! What is listed and how one resource is judged is an [`Inventory`]: monitoring schedules for
//! SageMaker.14 (`inventory.rs`), or job definitions for the sibling controls.

use crate::core::pages::Pager;
use crate::core::params::RuleParams;
use crate::error::ApiFailure;
use crate::rule::deadline::{Abandoned, Deadline, within};
use crate::rule::held::{Held, Present};
use crate::rule::inventory::{Found, Inventory, Listed};
use crate::rule::outcome::{Judged, Outcome, Reason, Subject};
use crate::rule::ports::{ConfigReads, RecordedIds, Summary};
use crate::rule::report::SweepFacts;
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
}

impl SweepSettings {
    pub fn new(
        params: &RuleParams,
        ordering_timestamp: DateTime,
        deadline: Option<Deadline>,
    ) -> Self {
        SweepSettings {
            concurrency: params.concurrency,
            ordering_timestamp,
            deadline,
        }
    }
}

/// Outcomes judged ahead of their recording: while a PutEvaluations is in flight, judging goes
/// on, and memory stays bounded whatever the account holds.
const OUTCOMES_AHEAD: usize = 1024;

/// Everything listed, in the order to judge it, and what the listing left.
pub struct Listing {
    work: Vec<Work>,
    present: Present,
    facts: SweepFacts,
}

/// A listed resource, with the id Config records it under, if Config lists it.
struct Work {
    listed: Listed,
    recorded: Option<String>,
}

/// What the judging left: the sweep's facts, and every resource it found, for the stale
/// clean-up.
pub struct Swept {
    pub facts: SweepFacts,
    pub present: Present,
}

/// Lists everything, with Config's ids, and orders it by what Config holds: never judged
/// first, then the oldest result first, the list order breaking ties. So a sweep cut short by
/// the deadline leaves the most recently judged, and the next one starts where it stopped.
pub async fn list<I: Inventory, C: ConfigReads>(
    inventory: &I,
    config: &C,
    held: &Held,
    settings: &SweepSettings,
) -> Listing {
    let (pages, (recorded, ids_abandoned)) = futures::join!(
        list_all(inventory, settings.deadline),
        recorded_ids(config, inventory.resource_types(), settings.deadline)
    );
    let mut work: Vec<Work> = pages
        .listed
        .into_iter()
        .map(|listed| {
            let recorded = recorded
                .get(listed.resource_type)
                .and_then(|ids| ids.get(&listed.name))
                .cloned();
            Work { listed, recorded }
        })
        .collect();
    work.sort_by_cached_key(|work| {
        let id = work.recorded.as_deref().or(work.listed.arn.as_deref());
        held.order(work.listed.resource_type, id.unwrap_or_default())
    });
    let facts = SweepFacts {
        unlisted_pages: pages.unlisted_pages,
        list_failure: pages.failure,
        abandoned: held
            .given_up()
            .into_iter()
            .chain(ids_abandoned)
            .chain(pages.abandoned)
            .collect(),
        ..SweepFacts::default()
    };
    Listing {
        work,
        present: Present::new(recorded.keys().copied()),
        facts,
    }
}

/// Judges what was listed, in order, `concurrency` at a time, starting nothing after the
/// deadline's `stop_starting`: the future that does it, and the outcomes as they come. A
/// listing that failed ends them with one outcome that names what was not listed.
pub fn judge<'a, I: Inventory>(
    inventory: &'a I,
    listing: Listing,
    settings: &'a SweepSettings,
) -> (impl Future<Output = Swept> + 'a, mpsc::Receiver<Outcome>) {
    let (sender, receiver) = mpsc::channel(OUTCOMES_AHEAD);
    let judging = async move {
        let Listing {
            work,
            mut present,
            mut facts,
        } = listing;
        let listed = work.len();
        let started = AtomicUsize::new(0);
        let stop_starting = settings.deadline.map(|deadline| deadline.stop_starting);
        let outcomes = stream::iter(work)
            .take_while(|_| {
                std::future::ready(stop_starting.is_none_or(|stop| Instant::now() < stop))
            })
            .map(|work| {
                started.fetch_add(1, Ordering::Relaxed);
                judge_one(inventory, work, settings)
            })
            .buffer_unordered(settings.concurrency.max(1));
        let mut outcomes = std::pin::pin!(outcomes);
        while let Some((work, outcome)) = outcomes.next().await {
            if !matches!(outcome, Outcome::Vanished) {
                let Work { listed, recorded } = &work;
                present.add(
                    listed.resource_type,
                    recorded.as_deref(),
                    listed.arn.as_deref(),
                );
            }
            if sender.send(outcome).await.is_err() {
                break;
            }
        }
        if let Some(failure) = &facts.list_failure {
            let beyond = Outcome::unjudged("resources beyond those listed", failure.clone());
            // The receiver is gone only if the recording stopped, and then nothing is recorded.
            let _ = sender.send(beyond).await;
        }
        facts.not_started = listed.saturating_sub(started.load(Ordering::Relaxed));
        facts.job_definitions = inventory.job_definitions();
        Swept { facts, present }
    };
    (judging, receiver)
}

/// What the listing found, and why it stopped early if it did.
struct Pages {
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
async fn list_all<I: Inventory>(inventory: &I, deadline: Option<Deadline>) -> Pages {
    let mut pages = Pages {
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
                pages.unlisted_pages = true;
                return pages;
            }
            let page = match within(deadline, inventory.list_page(index, next_token)).await {
                Ok(Ok(page)) => page,
                Ok(Err(failure)) => {
                    tracing::error!(%failure, resource_type, "could not list resources");
                    pages.failure = Some(failure);
                    return pages;
                }
                Err(Abandoned) => {
                    tracing::warn!(
                        operation,
                        resource_type,
                        "a page of the listing was not read before the Lambda deadline"
                    );
                    pages.unlisted_pages = true;
                    pages.abandoned = Some(format!("{operation} (a page of {resource_type})"));
                    return pages;
                }
            };
            for Summary { name, arn, named } in page.items {
                // A list that shifts between pages can name a resource twice.
                if seen.insert((index, name.clone())) {
                    pages.listed.push(Listed {
                        resource_type,
                        name,
                        arn,
                        named,
                    });
                }
            }
            match pager.next(page.next_token.as_deref()) {
                Ok(Some(token)) => next_token = Some(token),
                Ok(None) => break,
                Err(failure) => {
                    tracing::error!(%failure, resource_type, "stopped listing");
                    pages.failure = Some(failure);
                    return pages;
                }
            }
        }
    }
    pages
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

/// Judges one listed resource in the time left: its outcome, under the id Config records it
/// with (else its ARN).
async fn judge_one<I: Inventory>(
    inventory: &I,
    work: Work,
    settings: &SweepSettings,
) -> (Work, Outcome) {
    let span = tracing::info_span!("resource", name = %work.listed.name);
    let found = within(
        settings.deadline,
        inventory.judge(&work.listed).instrument(span),
    )
    .await
    .unwrap_or(Found::Unknown(Reason::Deadline));
    let listed = &work.listed;
    let outcome = match found {
        Found::Verdict(verdict, rests_on) => match work.recorded.as_ref().or(listed.arn.as_ref()) {
            Some(id) => Outcome::Judged(Judged {
                subject: Subject {
                    resource_type: listed.resource_type.to_owned(),
                    id: id.clone(),
                    name: Some(listed.name.clone()),
                    arn: listed.arn.clone(),
                },
                verdict,
                at: settings.ordering_timestamp,
                rests_on,
            }),
            None => Outcome::unjudged(listed.name.clone(), Reason::NoId),
        },
        Found::Gone => {
            tracing::info!(name = %listed.name, "deleted between list and describe; skipped");
            Outcome::Vanished
        }
        Found::Unknown(reason) => Outcome::unjudged(listed.name.clone(), reason),
    };
    (work, outcome)
}
