//! The one place an invocation's outcomes are recorded, and only the service (`mod.rs`) calls
//! it. A verdict is counted, kept for what follows it when that was asked for, and handed to
//! delivery unless Config holds it already; a resource that could not be judged is named with
//! why.

use crate::core::evaluation::Evaluation;
use crate::core::resource::SCHEDULE_TYPE;
use crate::core::verdict::Compliance;
use crate::rule::delivery::{Delivered, Delivery};
use crate::rule::held::Held;
use crate::rule::outcome::{Judged, Outcome, Unjudged};
use crate::rule::ports::Deliver;
use std::collections::BTreeMap;

/// An evaluation with the name of the resource it judges, for people to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: Option<String>,
    pub evaluation: Evaluation,
}

/// What is kept of each verdict for what follows the verdicts. Nothing unless asked, so that a
/// sweep's memory does not grow with the account: the followers read [`Recorded`] once the
/// last verdict is in (`Service::handle`). Security Hub's reconciliation (issue 19) joins them
/// as one more field here, keeping what it needs of each [`Judged`]: the subject's ARN, the
/// verdict and what it rests on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keep {
    /// Every verdict as a [`Row`] (the command line prints them).
    pub rows: bool,
    /// The NON_COMPLIANT schedules' names (remediation fixes them).
    pub to_fix: bool,
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
    /// Kept only with [`Keep::rows`].
    pub rows: Vec<Row>,
    /// Kept only with [`Keep::to_fix`].
    pub to_fix: Vec<String>,
}

/// How delivery ends once the last outcome is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Send what is left.
    Send,
    /// A complete sweep: send what is left, and when nothing at all was sent, say so to Config
    /// (see [`Delivery::confirm_if_silent`]).
    Confirm,
    /// A cut-short sweep: send what is left, then re-state the unchanged verdicts left
    /// unreported, so that Config's recorded time moves them behind what this sweep left
    /// unjudged, and the next sweep, judging the oldest result first, starts there instead of
    /// judging these again (each of them is older than anything left, since this sweep judged
    /// oldest first). Best-effort, in what remains of the delivery window once every changed
    /// verdict is sent: Config holds these verdicts already, so one not re-stated is judged
    /// again next time, not lost.
    Restate,
}

pub struct Recorder<'a, D> {
    delivery: Delivery<'a, D>,
    /// What Config holds, to leave unreported a verdict it already has.
    held: &'a Held,
    keep: Keep,
    recorded: Recorded,
    /// Unchanged verdicts left unreported, for a cut-short sweep to re-state.
    unreported: Vec<Evaluation>,
}

impl<'a, D: Deliver> Recorder<'a, D> {
    pub fn new(delivery: Delivery<'a, D>, held: &'a Held, keep: Keep) -> Self {
        Recorder {
            delivery,
            held,
            keep,
            recorded: Recorded::default(),
            unreported: Vec::new(),
        }
    }

    pub async fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Judged(judged) => self.judged(judged).await,
            Outcome::Unjudged(unjudged) => {
                tracing::warn!(resource = %unjudged.resource, reason = %unjudged.reason, "could not be judged");
                self.recorded.unjudged.push(unjudged);
            }
            Outcome::Vanished => self.recorded.vanished += 1,
        }
    }

    async fn judged(&mut self, judged: Judged) {
        let Judged {
            subject,
            verdict,
            at,
            rests_on,
        } = judged;
        let compliance = verdict.compliance;
        tracing::debug!(
            resource_type = %subject.resource_type,
            resource = %subject.id,
            arn = subject.arn.as_deref(),
            rests_on = ?rests_on,
            %compliance,
            "recorded"
        );
        *self.recorded.counts.entry(compliance).or_default() += 1;
        if self.keep.to_fix
            && compliance == Compliance::NonCompliant
            && subject.resource_type == SCHEDULE_TYPE
        {
            self.recorded.to_fix.extend(subject.name.clone());
        }
        let evaluation = Evaluation::new(subject.resource_type, subject.id, verdict, at);
        if self.keep.rows {
            self.recorded.rows.push(Row {
                name: subject.name,
                evaluation: evaluation.clone(),
            });
        }
        if self.held.unchanged(&evaluation) {
            self.recorded.unchanged += 1;
            self.unreported.push(evaluation);
        } else {
            self.delivery.push(evaluation).await;
        }
    }

    /// Ends delivery as `ending` says and hands over everything recorded.
    pub async fn finish(mut self, ending: Ending) -> Recorded {
        match ending {
            Ending::Send => {}
            Ending::Confirm => self.delivery.confirm_if_silent().await,
            Ending::Restate => {
                let unreported = std::mem::take(&mut self.unreported);
                self.delivery.restate(unreported).await;
            }
        }
        Recorded {
            delivered: self.delivery.finish().await,
            ..self.recorded
        }
    }
}
