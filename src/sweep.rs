//! The periodic sweep: list every schedule, describe each with bounded concurrency, judge, and
//! deliver batches as they fill, so memory stays flat however large the account.

use crate::SCHEDULE_TYPE;
use crate::deliver::{Delivery, RetryPolicy};
use crate::error::ApiFailure;
use crate::evaluation::{Evaluation, Judged};
use crate::evaluations::{Evaluations, RecordedIds};
use crate::event::ResultToken;
use crate::resolve::JobDefinitions;
use crate::sagemaker::{PAGE_SIZE, ScheduleSummary, Schedules};
use crate::summary::{Report, Unjudged};
use crate::verdict::{Reading, Verdict};
use aws_smithy_types::DateTime;
use futures::{StreamExt, stream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;

/// When to stop: new describes are not started after `stop_starting`; ones still running at
/// `abandon` are given up (their schedules named as unjudged) so delivery can finish in time.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub stop_starting: Instant,
    pub abandon: Instant,
}

#[derive(Debug, Clone)]
pub struct SweepSettings {
    pub reading: Reading,
    pub concurrency: usize,
    pub ordering_timestamp: DateTime,
    pub deadline: Option<Deadline>,
    pub delivery: RetryPolicy,
    /// Keep every evaluation with its schedule name in the report (for the command line).
    pub keep_judged: bool,
}

enum Outcome {
    Judged {
        name: String,
        arn: Option<String>,
        verdict: Verdict,
    },
    Vanished,
    Unknown(Unjudged),
}

/// Outcomes waiting for delivery while Config's resource ids are still being listed.
const CHANNEL_DEPTH: usize = 1024;
/// Listed schedules waiting for a describe slot: two pages.
const LISTED_DEPTH: usize = 2 * PAGE_SIZE as usize;

pub async fn sweep<S: Schedules, E: Evaluations>(
    schedules: &S,
    evaluations: &E,
    token: &ResultToken,
    settings: &SweepSettings,
    report: &mut Report,
) {
    let job_definitions = JobDefinitions::new(schedules);
    let listed = AtomicUsize::new(0);
    let started = AtomicUsize::new(0);
    let more_pages = AtomicBool::new(false);
    let list_failure: Mutex<Option<ApiFailure>> = Mutex::new(None);
    let (sender, mut receiver) = mpsc::channel::<Outcome>(CHANNEL_DEPTH);
    let (listed_sender, listed_receiver) = mpsc::channel::<ScheduleSummary>(LISTED_DEPTH);

    // Listing runs ahead of the describes, so a page boundary never leaves describe slots idle.
    let list = async {
        // Owned by this future, so the describes see the end of the list when it finishes.
        let listed_sender = listed_sender;
        let mut next_token = None;
        loop {
            let page = match schedules.list_page(next_token).await {
                Ok(page) => page,
                Err(failure) => {
                    tracing::error!(%failure, "could not list monitoring schedules");
                    *list_failure.lock().expect("never poisoned") = Some(failure);
                    return;
                }
            };
            listed.fetch_add(page.schedules.len(), Ordering::Relaxed);
            for summary in page.schedules {
                if listed_sender.send(summary).await.is_err() {
                    // The describes stopped (deadline): what is left stays unlisted.
                    more_pages.store(page.next_token.is_some(), Ordering::Relaxed);
                    return;
                }
            }
            match page.next_token {
                Some(token) => next_token = Some(token),
                None => return,
            }
        }
    };
    let produce = async {
        let stop_starting = settings.deadline.map(|deadline| deadline.stop_starting);
        let summaries = stream::unfold(listed_receiver, |mut receiver| async {
            let summary = receiver.recv().await?;
            Some((summary, receiver))
        });
        let outcomes = summaries
            .take_while(|_| {
                std::future::ready(stop_starting.is_none_or(|stop| Instant::now() < stop))
            })
            .map(|summary| {
                started.fetch_add(1, Ordering::Relaxed);
                judge_one(&job_definitions, schedules, summary, settings)
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
        let recorded = match evaluations.recorded_ids(SCHEDULE_TYPE).await {
            Ok(ids) => ids,
            Err(failure) => {
                tracing::warn!(
                    %failure,
                    "could not list the resource ids Config records; reporting each schedule under its ARN"
                );
                RecordedIds::new()
            }
        };
        let mut delivery = Delivery::new(evaluations, token, settings.delivery);
        while let Some(outcome) = receiver.recv().await {
            match outcome {
                Outcome::Judged { name, arn, verdict } => {
                    let Some(id) = recorded.get(&name).cloned().or(arn) else {
                        report.unjudged.push(Unjudged {
                            resource: name,
                            reason: "SageMaker returned no ARN to report it under".into(),
                        });
                        continue;
                    };
                    report.count(verdict.compliance);
                    let evaluation =
                        Evaluation::new(SCHEDULE_TYPE, id, verdict, settings.ordering_timestamp);
                    if settings.keep_judged {
                        report.judged_items.push(Judged {
                            schedule_name: Some(name),
                            evaluation: evaluation.clone(),
                        });
                    }
                    delivery.push(evaluation).await;
                }
                Outcome::Vanished => report.vanished += 1,
                Outcome::Unknown(unjudged) => report.unjudged.push(unjudged),
            }
        }
        delivery.finish().await;
        delivery
    };
    let ((), (), delivery) = futures::join!(list, produce, consume);

    report.delivered += delivery.delivered;
    report.undelivered.extend(delivery.undelivered);
    report.refused_type = delivery.refused_type;
    report.job_definitions += job_definitions.distinct();
    let listed = listed.load(Ordering::Relaxed);
    let started = started.load(Ordering::Relaxed);
    report.not_started += listed.saturating_sub(started);
    if let Some(failure) = list_failure.into_inner().expect("never poisoned") {
        report.unjudged.push(Unjudged {
            resource: "schedules beyond those listed".into(),
            reason: failure.to_string(),
        });
    } else {
        report.unlisted_pages |= more_pages.load(Ordering::Relaxed);
    }
}

async fn judge_one<S: Schedules>(
    job_definitions: &JobDefinitions<'_, S>,
    schedules: &S,
    summary: ScheduleSummary,
    settings: &SweepSettings,
) -> Outcome {
    let span = tracing::info_span!("schedule", name = %summary.name);
    let name = summary.name.clone();
    let work = async {
        let view = match schedules.describe(&summary.name).await {
            Ok(Some(view)) => view,
            Ok(None) => {
                tracing::info!("deleted between list and describe; skipped");
                return Outcome::Vanished;
            }
            Err(failure) => return unknown(summary.name, failure),
        };
        match job_definitions.verdict(&view, settings.reading).await {
            Ok(verdict) => {
                tracing::debug!(compliance = %verdict.compliance, "judged");
                Outcome::Judged {
                    name: summary.name,
                    arn: summary.arn.or(view.arn),
                    verdict,
                }
            }
            Err(failure) => unknown(summary.name, failure),
        }
    }
    .instrument(span);
    match settings.deadline {
        None => work.await,
        Some(deadline) => match tokio::time::timeout_at(deadline.abandon, work).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Unknown(Unjudged {
                resource: name,
                reason: "still being read at the Lambda deadline".into(),
            }),
        },
    }
}

fn unknown(name: String, failure: ApiFailure) -> Outcome {
    tracing::warn!(%failure, "could not be judged");
    Outcome::Unknown(Unjudged {
        resource: name,
        reason: failure.to_string(),
    })
}
