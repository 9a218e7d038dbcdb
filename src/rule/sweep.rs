//! The periodic sweep: list every resource, judge each with bounded concurrency, deliver batches
//! as they fill (so memory stays flat however large the account), then report NOT_APPLICABLE
//! for results Config still holds for resources that no longer exist.
//!
//! What is listed and how one resource is judged is an [`Inventory`]: monitoring schedules for
//! SageMaker.14 (`inventory.rs`), or job definitions for the sibling controls.

use crate::core::pages::Pager;
use crate::core::verdict::Verdict;
use crate::error::ApiFailure;
use crate::rule::ports::{ConfigReads, Deliver, PAGE_SIZE, Page, RecordedIds, Summary};
use crate::rule::recorder::{Reason, Recorder, Subject};
use crate::rule::report::SweepFacts;
use crate::rule::stale;
use aws_smithy_types::DateTime;
use futures::{StreamExt, stream};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;

/// When to stop, before the Lambda deadline (`end`): new work (judging, stale clean-up,
/// remediation) is not started after `stop_starting`; reads still running at `abandon` are
/// given up, their resources named as unjudged; delivery starts no attempt after
/// `last_delivery` and waits for no answer past `end`, less a moment to say what was left.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub stop_starting: Instant,
    pub abandon: Instant,
    pub last_delivery: Instant,
    pub end: Instant,
}

impl Deadline {
    /// A deadline `remaining` from now, keeping `reserve` for what follows the work.
    pub fn within(remaining: std::time::Duration, reserve: std::time::Duration) -> Self {
        let now = Instant::now();
        let end = now + remaining;
        let before_end = |margin| end.checked_sub(margin).unwrap_or(now).max(now);
        Deadline {
            stop_starting: before_end(reserve),
            abandon: before_end(reserve / 2),
            last_delivery: before_end(reserve / 4),
            end: before_end(reserve / 8),
        }
    }

    pub fn passed(&self, moment: Instant) -> bool {
        Instant::now() >= moment
    }
}

#[derive(Debug, Clone)]
pub struct SweepSettings {
    pub concurrency: usize,
    pub ordering_timestamp: DateTime,
    pub deadline: Option<Deadline>,
    /// The rule whose stale results to clear; `None` skips that step.
    pub rule_name: Option<String>,
}

/// A listed resource, with the type it is reported under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub resource_type: &'static str,
    pub name: String,
    pub arn: Option<String>,
}

pub enum Outcome {
    Judged(Verdict),
    /// Gone between list and describe: skipped, not judged.
    Vanished,
    Unknown(Reason),
}

/// What a sweep lists and how it judges one listed resource.
pub trait Inventory: Sync {
    /// The resource types listed, in order; `list_page` is called for each in turn.
    fn resource_types(&self) -> &[&'static str];

    fn list_page(
        &self,
        type_index: usize,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page, ApiFailure>> + Send;

    /// The list call `list_page` makes for the type at `type_index`, to name it when it fails.
    fn list_operation(&self, type_index: usize) -> &'static str;

    fn judge(&self, listed: &Listed) -> impl Future<Output = Outcome> + Send;

    /// Distinct job definitions described (for the summary).
    fn job_definitions(&self) -> usize {
        0
    }

    /// The verdict for a result Config holds for a type this sweep does not list.
    fn beyond_scope(&self, resource_type: &str) -> Verdict {
        Verdict::not_applicable(format!(
            "{resource_type} is out of this rule's scope, so this earlier result no longer applies."
        ))
    }
}

/// Outcomes waiting for delivery while Config's resource ids are still being listed.
const CHANNEL_DEPTH: usize = 1024;
/// Listed resources waiting for a judging slot: two pages.
const LISTED_DEPTH: usize = 2 * PAGE_SIZE as usize;

pub async fn sweep<I: Inventory, C: ConfigReads, D: Deliver>(
    inventory: &I,
    config: &C,
    settings: &SweepSettings,
    recorder: &mut Recorder<'_, D>,
) -> SweepFacts {
    // What Config holds is read before anything is listed: a result recorded while the sweep
    // runs (a schedule created and judged by its change event meanwhile) is not in it, so it is
    // never taken for the result of something gone.
    let held = match &settings.rule_name {
        Some(rule) => Some(stale::Held::read(config, rule).await),
        None => {
            tracing::info!("no rule name in the event; stale results not checked");
            None
        }
    };
    let listed = AtomicUsize::new(0);
    let started = AtomicUsize::new(0);
    let more_pages = AtomicBool::new(false);
    let list_failure: Mutex<Option<ApiFailure>> = Mutex::new(None);
    let (sender, mut receiver) = mpsc::channel::<(Listed, Outcome)>(CHANNEL_DEPTH);
    let (listed_sender, listed_receiver) = mpsc::channel::<Listed>(LISTED_DEPTH);

    // Listing runs ahead of the judging, so a page boundary never leaves slots idle.
    let list = async {
        // Owned by this future, so the judging sees the end of the list when it finishes.
        let listed_sender = listed_sender;
        let mut seen = HashSet::new();
        for (index, resource_type) in inventory.resource_types().iter().enumerate() {
            let mut pager = Pager::new(inventory.list_operation(index));
            let mut next_token = None;
            loop {
                let page = match inventory.list_page(index, next_token).await {
                    Ok(page) => page,
                    Err(failure) => {
                        tracing::error!(%failure, resource_type, "could not list resources");
                        *list_failure.lock().expect("never poisoned") = Some(failure);
                        return;
                    }
                };
                for Summary { name, arn } in page.items {
                    // A list that shifts between pages can name a resource twice.
                    if !seen.insert((index, name.clone())) {
                        continue;
                    }
                    listed.fetch_add(1, Ordering::Relaxed);
                    let item = Listed {
                        resource_type,
                        name,
                        arn,
                    };
                    if listed_sender.send(item).await.is_err() {
                        // Judging stopped (deadline): what is left stays unlisted.
                        more_pages.store(true, Ordering::Relaxed);
                        return;
                    }
                }
                match pager.next(page.next_token.as_deref()) {
                    Ok(Some(token)) => next_token = Some(token),
                    Ok(None) => break,
                    Err(failure) => {
                        tracing::error!(%failure, resource_type, "stopped listing");
                        *list_failure.lock().expect("never poisoned") = Some(failure);
                        return;
                    }
                }
            }
        }
    };
    let produce = async {
        let stop_starting = settings.deadline.map(|deadline| deadline.stop_starting);
        let items = stream::unfold(listed_receiver, |mut receiver| async {
            let item = receiver.recv().await?;
            Some((item, receiver))
        });
        let outcomes = items
            .take_while(|_| {
                std::future::ready(stop_starting.is_none_or(|stop| Instant::now() < stop))
            })
            .map(|item| {
                started.fetch_add(1, Ordering::Relaxed);
                judge_one(inventory, item, settings.deadline)
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
        let recorded = recorded_ids(config, inventory.resource_types()).await;
        let mut present = stale::Present::new(recorded.keys().copied());
        while let Some((item, outcome)) = receiver.recv().await {
            let recorded_id = recorded
                .get(item.resource_type)
                .and_then(|ids| ids.get(&item.name))
                .cloned();
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
    let ((), (), present) = futures::join!(list, produce, consume);

    let listed = listed.load(Ordering::Relaxed);
    let started = started.load(Ordering::Relaxed);
    let mut facts = SweepFacts {
        not_started: listed.saturating_sub(started),
        unlisted_pages: more_pages.load(Ordering::Relaxed),
        job_definitions: inventory.job_definitions(),
        stale: 0,
    };
    let listing_failed = match list_failure.into_inner().expect("never poisoned") {
        Some(failure) => {
            recorder.unjudged("resources beyond those listed", failure);
            true
        }
        None => false,
    };
    // Only a complete listing says what no longer exists.
    let complete = !listing_failed && facts.not_started == 0 && !facts.unlisted_pages;
    match held {
        Some(held) if complete => {
            facts.stale = held.clear(inventory, &present, settings, recorder).await;
        }
        Some(_) => {
            tracing::warn!("the sweep was incomplete; stale results are left for the next one")
        }
        None => {}
    }
    facts
}

/// Config's ids for every listed type. A type Config does not list (or a role that may not
/// ask) is left out: its resources are reported under their ARNs, which is what Config
/// records for these CloudFormation types, and none of its held results can be proven stale.
async fn recorded_ids<C: ConfigReads>(
    config: &C,
    types: &[&'static str],
) -> HashMap<&'static str, RecordedIds> {
    let mut recorded = HashMap::new();
    for resource_type in types {
        match config.recorded_ids(resource_type, None).await {
            Ok(ids) => {
                recorded.insert(*resource_type, ids);
            }
            Err(failure) => tracing::warn!(
                %failure,
                resource_type,
                "could not list the resource ids Config records; reporting each resource under its ARN, and stale results are left"
            ),
        }
    }
    recorded
}

async fn judge_one<I: Inventory>(
    inventory: &I,
    item: Listed,
    deadline: Option<Deadline>,
) -> (Listed, Outcome) {
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
    let outcome = match deadline {
        None => work.await,
        Some(deadline) => match tokio::time::timeout_at(deadline.abandon, work).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Unknown(Reason::Deadline),
        },
    };
    (item, outcome)
}
