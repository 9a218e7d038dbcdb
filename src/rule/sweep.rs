//! The periodic sweep: list every resource, judge each with bounded concurrency, deliver batches
//! as they fill (so memory stays flat however large the account), then report NOT_APPLICABLE
//! for results Config still holds for resources that no longer exist.
//!
//! What is listed and how one resource is judged is an [`Inventory`]: monitoring schedules for
//! SageMaker.14 (`inventory.rs`), or job definitions for the sibling controls.

use crate::core::verdict::Verdict;
use crate::error::ApiFailure;
use crate::rule::ports::{ConfigReads, Deliver, PAGE_SIZE, Page, RecordedIds, Summary};
use crate::rule::recorder::{Reason, Recorder, Subject};
use crate::rule::report::SweepFacts;
use aws_smithy_types::DateTime;
use futures::{StreamExt, stream};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;

/// When to stop: new work is not started after `stop_starting`; reads still running at
/// `abandon` are given up (their resources named as unjudged) so delivery can finish in time.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub stop_starting: Instant,
    pub abandon: Instant,
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

    fn judge(&self, listed: &Listed) -> impl Future<Output = Outcome> + Send;

    /// Distinct job definitions described (for the summary).
    fn job_definitions(&self) -> usize {
        0
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
        for (index, resource_type) in inventory.resource_types().iter().enumerate() {
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
                listed.fetch_add(page.items.len(), Ordering::Relaxed);
                for Summary { name, arn } in page.items {
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
                match page.next_token {
                    Some(token) => next_token = Some(token),
                    None => break,
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
        // Every listed resource's ids, so that stale results are never its own.
        let mut present: HashSet<(&'static str, String)> = HashSet::new();
        while let Some((item, outcome)) = receiver.recv().await {
            let recorded_id = recorded
                .get(item.resource_type)
                .and_then(|ids| ids.get(&item.name))
                .cloned();
            if !matches!(outcome, Outcome::Vanished) {
                present.extend(recorded_id.clone().map(|id| (item.resource_type, id)));
                present.extend(item.arn.clone().map(|arn| (item.resource_type, arn)));
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
    match (&settings.rule_name, complete) {
        (Some(rule), true) => {
            facts.stale = clear_stale(config, rule, &present, settings, recorder).await;
        }
        (Some(_), false) => {
            tracing::warn!("the sweep was incomplete; stale results are left for the next one")
        }
        (None, _) => tracing::info!("no rule name in the event; stale results not checked"),
    }
    facts
}

/// Config's ids for every listed type. A type Config does not list (or a role that may not
/// ask) falls back to ARNs, which is what Config records for these CloudFormation types.
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
                "could not list the resource ids Config records; reporting each resource under its ARN"
            ),
        }
    }
    recorded
}

/// Results Config holds for resources that were not listed: they no longer exist, and would
/// stay COMPLIANT or NON_COMPLIANT forever unless reported NOT_APPLICABLE.
async fn clear_stale<C: ConfigReads, D: Deliver>(
    config: &C,
    rule: &str,
    present: &HashSet<(&'static str, String)>,
    settings: &SweepSettings,
    recorder: &mut Recorder<'_, D>,
) -> usize {
    let held = match config.held_results(rule).await {
        Ok(held) => held,
        Err(failure) => {
            tracing::warn!(%failure, "could not read the results Config holds; stale results are left");
            return 0;
        }
    };
    let present: HashSet<(&str, &str)> = present
        .iter()
        .map(|(resource_type, id)| (*resource_type, id.as_str()))
        .collect();
    let mut stale = 0;
    for result in held {
        if present.contains(&(result.resource_type.as_str(), result.resource_id.as_str())) {
            continue;
        }
        tracing::info!(resource_type = %result.resource_type, resource = %result.resource_id, "stale result");
        stale += 1;
        let verdict = Verdict::not_applicable(
            "The resource no longer exists (the periodic sweep did not find it), so this earlier result no longer applies.",
        );
        let subject = Subject {
            resource_type: &result.resource_type,
            id: &result.resource_id,
            name: None,
        };
        recorder
            .verdict(subject, verdict, settings.ordering_timestamp)
            .await;
    }
    stale
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
