//! The service both front doors call: one invocation in, one report out. `handle` carries
//! the rule's decision table (the plan, `core/plan.rs`) out in one pass: the plan's work
//! (a sweep, `sweep.rs`, or one changed item, `change.rs`) hands back outcomes; only this file
//! records them, through the one [`Recorder`]; what follows the verdicts (remediation,
//! `fix.rs`, and the command line's rows) reads what was recorded; the report says what was
//! done.

// Within the rule only.
mod change;
mod delivery;
mod fix;
mod held;
mod inventory;
mod lookups;
mod recorder;
mod sweep;

// What the doors and the edges use.
pub mod deadline;
pub mod outcome;
pub mod ports;
pub mod report;
pub use delivery::RetryPolicy;
pub use recorder::Row;

use crate::core::event::{Invocation, ItemHeader};
use crate::core::params::{Control, RuleParams};
use crate::core::plan::{Plan, Step, plan, plan_item};
use crate::error::Error;
use deadline::Deadline;
use delivery::Delivery;
use held::Held;
use inventory::{Inventory, JobDefinitionInventory, ScheduleInventory};
use outcome::Outcome;
use ports::{ConfigReads, Deliver, Fixer, SageMakerReads};
use recorder::{Ending, Keep, Recorder};
use report::{Report, SweepFacts};
use std::time::Instant;
use sweep::SweepSettings;

/// The rule over its edges: SageMaker and AWS Config reads, the evaluations' delivery (a
/// printer, in a dry run), and the fixer remediation uses (one that only plans, in a dry run).
pub struct Service<S, C, D, F> {
    sagemaker: S,
    config: C,
    deliver: D,
    fixer: F,
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub deadline: Option<Deadline>,
    pub delivery: RetryPolicy,
    /// Keep every evaluation with its resource's name (the command line prints them).
    pub keep_rows: bool,
}

/// An invocation's report, and its rows when they were asked for.
#[derive(Debug)]
pub struct Handled {
    pub report: Report,
    pub rows: Vec<Row>,
}

impl<S: SageMakerReads, C: ConfigReads, D: Deliver, F: Fixer> Service<S, C, D, F> {
    pub fn new(sagemaker: S, config: C, deliver: D, fixer: F) -> Self {
        Service {
            sagemaker,
            config,
            deliver,
            fixer,
        }
    }

    /// Handles one invocation. `Err` only for input that cannot be acted on; work left undone
    /// is in the report (see [`Report::outcome`]).
    pub async fn handle(
        &self,
        invocation: &Invocation,
        options: &RunOptions,
    ) -> Result<Handled, Error> {
        let started = Instant::now();
        let plan = plan(invocation)?;
        let params = &invocation.params;
        let deadline = options.deadline;
        // What Config holds is read before anything is listed (see `held.rs`).
        let held = match plan {
            Plan::Sweep { .. } => {
                let rule = invocation.rule_name.as_deref();
                Held::read(&self.config, rule, params.refresh(), deadline).await
            }
            Plan::Fetch { .. } | Plan::Item { .. } => Held::not_asked(),
        };
        let delivery = Delivery::new(
            &self.deliver,
            &invocation.result_token,
            options.delivery,
            deadline,
        );
        let keep = Keep {
            rows: options.keep_rows,
            to_fix: params.remediates(),
        };
        let mut recorder = Recorder::new(delivery, &held, keep);
        let facts = match plan {
            Plan::Sweep { notified_at } => {
                let settings = SweepSettings::new(params, notified_at, deadline);
                self.sweep(params, &settings, &held, &mut recorder).await
            }
            Plan::Fetch { header } => {
                match change::fetch(&self.sagemaker, &self.config, header, deadline).await {
                    Ok(item) => {
                        let step = plan_item(params, header, item);
                        self.change(params, header, step, deadline, &mut recorder)
                            .await
                    }
                    Err(reason) => {
                        recorder.record(change::unjudged(header, reason)).await;
                        SweepFacts::default()
                    }
                }
            }
            Plan::Item { header, step } => {
                self.change(params, header, step, deadline, &mut recorder)
                    .await
            }
        };
        let ending = match (held.asked(), facts.complete()) {
            (false, _) => Ending::Send,
            (true, true) => Ending::Confirm,
            (true, false) => {
                tracing::warn!("the sweep was incomplete; stale results are left for the next one");
                Ending::Restate
            }
        };
        let mut recorded = recorder.finish(ending).await;
        // What follows the verdicts reads what was recorded, here and only here: remediation,
        // the command line's rows, and next Security Hub's reconciliation (issue 19), which
        // asks `Keep` for what it needs of each verdict (see `recorder.rs`).
        let fixes = fix::fix(&self.fixer, &recorded.to_fix, deadline).await;
        let rows = std::mem::take(&mut recorded.rows);
        let mut report = Report::new(invocation.trigger.name(), recorded, facts, fixes);
        report.elapsed = started.elapsed();
        Ok(Handled { report, rows })
    }

    /// One changed item: its own outcome, after the schedules it re-judges when it is a job
    /// definition they name.
    async fn change(
        &self,
        params: &RuleParams,
        header: &ItemHeader,
        step: Step,
        deadline: Option<Deadline>,
        recorder: &mut Recorder<'_, D>,
    ) -> SweepFacts {
        let facts = match &step {
            Step::Rejudge { reference, state } => {
                // Its schedules change verdict though their own items did not change.
                let settings = SweepSettings::new(params, header.captured_at, deadline);
                let inventory =
                    ScheduleInventory::new(&self.sagemaker, params.reading, &params.exemptions)
                        .naming(reference.clone(), state.clone());
                self.sweep_over(&inventory, &settings, &Held::not_asked(), recorder)
                    .await
            }
            _ => SweepFacts::default(),
        };
        let outcome = change::judge(&self.sagemaker, params, header, step, deadline).await;
        recorder.record(outcome).await;
        facts
    }

    /// A periodic sweep of the control's resources.
    async fn sweep(
        &self,
        params: &RuleParams,
        settings: &SweepSettings,
        held: &Held,
        recorder: &mut Recorder<'_, D>,
    ) -> SweepFacts {
        match params.control {
            Control::MonitoringSchedules => {
                let inventory =
                    ScheduleInventory::new(&self.sagemaker, params.reading, &params.exemptions);
                self.sweep_over(&inventory, settings, held, recorder).await
            }
            Control::JobDefinitions => {
                let inventory =
                    JobDefinitionInventory::new(&self.sagemaker, &params.kinds, &params.exemptions);
                self.sweep_over(&inventory, settings, held, recorder).await
            }
        }
    }

    /// Lists, orders and judges `inventory`, recording each outcome as it comes while judging
    /// goes on; after a complete sweep, clears the held results it proved stale.
    async fn sweep_over<I: Inventory>(
        &self,
        inventory: &I,
        settings: &SweepSettings,
        held: &Held,
        recorder: &mut Recorder<'_, D>,
    ) -> SweepFacts {
        let listing = sweep::list(inventory, &self.config, held, settings).await;
        let (judging, mut outcomes) = sweep::judge(inventory, listing, settings);
        let recording = async {
            while let Some(outcome) = outcomes.recv().await {
                recorder.record(outcome).await;
            }
        };
        let (swept, ()) = futures::join!(judging, recording);
        let mut facts = swept.facts;
        if facts.complete() {
            let stale = held.stale(inventory, &swept.present, settings.ordering_timestamp);
            facts.stale = stale.len();
            for judged in stale {
                recorder.record(Outcome::Judged(judged)).await;
            }
        }
        facts
    }
}

#[cfg(test)]
mod tests;
