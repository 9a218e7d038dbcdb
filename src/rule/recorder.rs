//! One way to record what became of a resource. A verdict is counted, kept for what follows it
//! (the command line's rows, the schedules to fix) and handed to delivery; a resource that
//! could not be judged is named with why. The change path and the sweep both record here.

use crate::core::evaluation::Evaluation;
use crate::core::event::ResultToken;
use crate::core::resource::SCHEDULE_TYPE;
use crate::core::verdict::{Compliance, Verdict};
use crate::rule::deadline::Deadline;
use crate::rule::delivery::{Delivered, Delivery, RetryPolicy};
use crate::rule::outcome::{Reason, Subject, Unjudged};
use crate::rule::ports::ById;
use crate::rule::ports::Deliver;
use aws_smithy_types::DateTime;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An evaluation with the name of the resource it judges, for people to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: Option<String>,
    pub evaluation: Evaluation,
}

/// Everything recorded in one invocation.
#[derive(Debug, Default)]
pub struct Recorded {
    pub counts: BTreeMap<Compliance, usize>,
    /// Verdicts Config already held, unchanged and recent: not reported again (but for those
    /// a cut-short sweep re-stated, counted in `delivered`).
    pub unchanged: usize,
    pub unjudged: Vec<Unjudged>,
    /// Listed, then gone before they could be described: skipped, not judged.
    pub vanished: usize,
    pub delivered: Delivered,
    pub rows: Vec<Row>,
    /// NON_COMPLIANT schedules, for remediation (kept only when it is on).
    pub to_fix: Vec<String>,
}

pub struct Recorder<'a, D> {
    delivery: Delivery<'a, D>,
    keep_rows: bool,
    keep_to_fix: bool,
    recorded: Recorded,
    /// What Config holds, to leave unreported a verdict it already has.
    held: Option<Held>,
    /// Unchanged verdicts left unreported, for a cut-short sweep to re-state.
    unreported: Vec<Evaluation>,
}

/// What Config holds, and how old a held result may be before it is re-stated anyway.
struct Held {
    results: ById,
    refresh_before: f64,
}

impl<'a, D: Deliver> Recorder<'a, D> {
    pub fn new(
        sink: &'a D,
        token: &'a ResultToken,
        policy: RetryPolicy,
        deadline: Option<Deadline>,
        keep_rows: bool,
        keep_to_fix: bool,
    ) -> Self {
        Recorder {
            delivery: Delivery::new(sink, token, policy, deadline),
            keep_rows,
            keep_to_fix,
            recorded: Recorded::default(),
            held: None,
            unreported: Vec::new(),
        }
    }

    /// From now on a verdict Config already holds, with the same annotation and recorded
    /// within `refresh`, is counted as unchanged and not reported: Config bills every
    /// evaluation it records.
    pub fn compare_with(&mut self, held: Option<&ById>, refresh: Duration) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |elapsed| elapsed.as_secs_f64());
        self.held = held.map(|results| Held {
            results: results.clone(),
            refresh_before: now - refresh.as_secs_f64(),
        });
    }

    /// Reports the unchanged verdicts after all: a cut-short sweep does, so that Config's
    /// recorded time moves them behind what this sweep left unjudged, and the next sweep,
    /// judging the oldest result first, starts there instead of judging these again (each of
    /// them is older than anything left, since this sweep judged oldest first). Best-effort,
    /// in what remains of the delivery window once every changed verdict is sent: Config holds
    /// these verdicts already, so one not re-stated is judged again next time, not lost.
    pub async fn restate_unchanged(&mut self) {
        let unreported = std::mem::take(&mut self.unreported);
        self.delivery.restate(unreported).await;
    }

    /// A complete sweep that had nothing to report says so to Config (see
    /// [`Delivery::confirm_if_silent`]).
    pub async fn confirm_if_silent(&mut self) {
        self.delivery.confirm_if_silent().await;
    }

    fn unchanged(&self, evaluation: &Evaluation) -> bool {
        let Some(held) = &self.held else {
            return false;
        };
        let key = (
            evaluation.compliance_resource_type.clone(),
            evaluation.compliance_resource_id.clone(),
        );
        held.results.get(&key).is_some_and(|result| {
            result.compliance == evaluation.compliance_type
                && result.annotation == evaluation.annotation
                && result.recorded_at >= held.refresh_before
        })
    }

    pub async fn verdict(&mut self, subject: Subject<'_>, verdict: Verdict, at: DateTime) {
        let compliance = verdict.compliance;
        *self.recorded.counts.entry(compliance).or_default() += 1;
        if self.keep_to_fix
            && compliance == Compliance::NonCompliant
            && subject.resource_type == SCHEDULE_TYPE
        {
            self.recorded.to_fix.extend(subject.name.map(str::to_owned));
        }
        let evaluation = Evaluation::new(subject.resource_type, subject.id, verdict, at);
        if self.keep_rows {
            self.recorded.rows.push(Row {
                name: subject.name.map(str::to_owned),
                evaluation: evaluation.clone(),
            });
        }
        if self.unchanged(&evaluation) {
            self.recorded.unchanged += 1;
            self.unreported.push(evaluation);
        } else {
            self.delivery.push(evaluation).await;
        }
    }

    pub fn unjudged(&mut self, resource: impl Into<String>, reason: impl Into<Reason>) {
        let unjudged = Unjudged {
            resource: resource.into(),
            reason: reason.into(),
        };
        tracing::warn!(resource = %unjudged.resource, reason = %unjudged.reason, "could not be judged");
        self.recorded.unjudged.push(unjudged);
    }

    pub fn vanished(&mut self) {
        self.recorded.vanished += 1;
    }

    /// Delivers what is left and hands over everything recorded.
    pub async fn finish(self) -> Recorded {
        Recorded {
            delivered: self.delivery.finish().await,
            ..self.recorded
        }
    }
}
