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
        // What follows the verdicts reads what was recorded, here: remediation, the rows.
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
                self.swept(&inventory, &settings, &Held::not_asked(), recorder)
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
                self.swept(&inventory, settings, held, recorder).await
            }
            Control::JobDefinitions => {
                let inventory =
                    JobDefinitionInventory::new(&self.sagemaker, &params.kinds, &params.exemptions);
                self.swept(&inventory, settings, held, recorder).await
            }
        }
    }

    /// Lists, orders and judges `inventory`, recording each outcome as it comes while judging
    /// goes on; after a complete sweep, clears the held results it proved stale.
    async fn swept<I: Inventory>(
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
mod tests {
    use super::ports::memory::{Memory, periodic};
    use super::*;
    use crate::core::resource::{MonitoringKind, SCHEDULE_TYPE};
    use crate::core::schedule::{JobSpec, Network};
    use crate::core::verdict::Compliance::{self, *};
    use crate::rule::outcome::Reason;
    use crate::rule::ports::HeldResult;
    use serde_json::json;
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::Duration;

    fn named(name: &str, kind: &str) -> JobSpec {
        JobSpec::Named {
            name: name.into(),
            monitoring_type: Some(kind.into()),
        }
    }

    fn embedded(isolated: bool) -> JobSpec {
        JobSpec::Embedded(Some(Network {
            isolation: Some(isolated),
            vpc: false,
        }))
    }

    /// A NON_COMPLIANT result Config has held for a day.
    fn held(id: &str) -> HeldResult {
        HeldResult {
            resource_type: SCHEDULE_TYPE.into(),
            resource_id: id.into(),
            compliance: NonCompliant,
            annotation: "held".into(),
            recorded_at: 1_795_860_000.0 - 86_400.0,
        }
    }

    /// Seven schedules: embedded both ways, the same job-definition name under two types with
    /// opposite settings, one naming nothing that exists.
    fn account() -> Memory {
        Memory::new()
            .schedule("a-embedded-on", embedded(true))
            .schedule("b-embedded-off", embedded(false))
            .schedule("c-dq", named("shared", "DataQuality"))
            .schedule("d-bias", named("shared", "ModelBias"))
            .schedule("e-bias-too", named("shared", "ModelBias"))
            .schedule("f-missing", named("gone", "ModelQuality"))
            .schedule("g-nothing", JobSpec::Missing)
            .job_definition(MonitoringKind::DataQuality, "shared", false)
            .job_definition(MonitoringKind::ModelBias, "shared", true)
    }

    fn expected() -> BTreeMap<String, Compliance> {
        [
            ("a-embedded-on", Compliant),
            ("b-embedded-off", NonCompliant),
            ("c-dq", NonCompliant),
            ("d-bias", Compliant),
            ("e-bias-too", Compliant),
            ("f-missing", NonCompliant),
            ("g-nothing", NonCompliant),
        ]
        .into_iter()
        .map(|(name, compliance)| (format!("arn:schedule/{name}"), compliance))
        .collect()
    }

    async fn run(memory: &Memory, invocation: &Invocation, options: &RunOptions) -> Handled {
        Service::new(memory, memory, memory, memory)
            .handle(invocation, options)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_sweep_judges_every_schedule_once_by_the_job_definition_its_type_picks() {
        let memory = account();
        let handled = run(&memory, &periodic("{}"), &RunOptions::default()).await;
        assert_eq!(memory.delivered(), expected());
        assert_eq!(memory.delivered.lock().unwrap().len(), 7, "once each");
        assert_eq!(handled.report.of(Compliant), 3);
        assert_eq!(handled.report.sweep.job_definitions, 3);
        // Only the schedules whose summary names no job definition are described.
        assert_eq!(*memory.describes.lock().unwrap(), 3);
        assert!(handled.report.outcome().is_ok());
        assert!(
            memory.fixed.lock().unwrap().is_empty(),
            "remediation is off"
        );
    }

    #[tokio::test]
    async fn results_go_under_the_ids_config_records() {
        let mut memory = account();
        let ids = [("c-dq".to_owned(), "config-id-c".to_owned())].into();
        memory.recorded.insert(SCHEDULE_TYPE.into(), ids);
        run(&memory, &periodic("{}"), &RunOptions::default()).await;
        let delivered = memory.delivered();
        assert_eq!(delivered.get("config-id-c"), Some(&NonCompliant));
        assert!(!delivered.contains_key("arn:schedule/c-dq"));
    }

    #[tokio::test]
    async fn stale_results_are_cleared_only_after_a_complete_listing() {
        let gone = held("arn:schedule/deleted");
        let mut memory = account();
        memory.held = vec![gone.clone(), held("arn:schedule/a-embedded-on")];
        let handled = run(&memory, &periodic("{}"), &RunOptions::default()).await;
        assert_eq!(handled.report.sweep.stale, 1);
        assert_eq!(memory.delivered()["arn:schedule/deleted"], NotApplicable);
        assert_eq!(memory.delivered()["arn:schedule/a-embedded-on"], Compliant);

        let mut memory = account();
        memory.held = vec![gone];
        memory.listing_fails_after = Some(1);
        let handled = run(&memory, &periodic("{}"), &RunOptions::default()).await;
        assert_eq!(handled.report.sweep.stale, 0);
        assert!(!memory.delivered().contains_key("arn:schedule/deleted"));
        assert_eq!(memory.delivered().len(), 3, "the first page was delivered");
        let error = handled.report.outcome().unwrap_err().to_string();
        assert!(error.contains("resources beyond those listed"), "{error}");
    }

    #[tokio::test]
    async fn an_unreadable_schedule_is_named_and_never_guessed() {
        let mut memory = account();
        memory.unreadable.insert("a-embedded-on".into());
        let handled = run(&memory, &periodic("{}"), &RunOptions::default()).await;
        assert!(
            !memory
                .delivered()
                .contains_key("arn:schedule/a-embedded-on")
        );
        assert_eq!(memory.delivered().len(), 6);
        let unjudged = &handled.report.unjudged;
        assert_eq!(unjudged.len(), 1);
        assert_eq!(unjudged[0].resource, "a-embedded-on");
        assert!(handled.report.outcome().is_err());
    }

    #[tokio::test]
    async fn remediation_fixes_exactly_the_non_compliant_schedules_when_asked() {
        let memory = account();
        let handled = run(
            &memory,
            &periodic(r#"{"Remediate":"true"}"#),
            &RunOptions::default(),
        )
        .await;
        let mut fixed = memory.fixed.lock().unwrap().clone();
        fixed.sort();
        assert_eq!(fixed, ["b-embedded-off", "c-dq", "f-missing", "g-nothing"]);
        assert_eq!(handled.report.fixes.remediated.len(), 4);
        // The job-definition control never remediates.
        let memory = account();
        run(
            &memory,
            &periodic(r#"{"Remediate":"true","Control":"JobDefinitions"}"#),
            &RunOptions::default(),
        )
        .await;
        assert!(memory.fixed.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_job_definition_change_rejudges_only_the_schedules_that_name_it() {
        let memory = account();
        let change = Invocation::from_value(json!({
            "invokingEvent": json!({
                "messageType": "ConfigurationItemChangeNotification",
                "configurationItem": {
                    "resourceType": "AWS::SageMaker::ModelBiasJobDefinition",
                    "resourceId": "arn:bias/shared",
                    "resourceName": "shared",
                    "configurationItemCaptureTime": "2026-11-28T10:00:00.000Z",
                    "configurationItemStatus": "OK",
                    "configuration": {"JobDefinitionName": "shared", "NetworkConfig": {"EnableNetworkIsolation": false}},
                }
            }).to_string(),
            "resultToken": "t",
        }))
        .unwrap();
        let handled = run(&memory, &change, &RunOptions::default()).await;
        let delivered = memory.delivered();
        assert_eq!(delivered.len(), 3, "{delivered:?}");
        // Judged against the item (now not isolated), without describing the definition.
        assert_eq!(delivered["arn:schedule/d-bias"], NonCompliant);
        assert_eq!(delivered["arn:schedule/e-bias-too"], NonCompliant);
        assert_eq!(delivered["arn:bias/shared"], NotApplicable);
        assert_eq!(handled.report.sweep.stale, 0);
    }

    #[tokio::test]
    async fn at_the_deadline_nothing_is_started_and_nothing_cleared() {
        let mut memory = account();
        memory.held = vec![held("arn:schedule/deleted")];
        let options = RunOptions {
            deadline: Some(Deadline::within(Duration::ZERO, Duration::ZERO)),
            ..RunOptions::default()
        };
        let handled = run(&memory, &periodic("{}"), &options).await;
        assert!(memory.delivered().is_empty());
        assert!(handled.report.sweep.not_started > 0 || handled.report.sweep.unlisted_pages);
        assert_eq!(*memory.describes.lock().unwrap(), 0);
        let error = handled.report.outcome().unwrap_err().to_string();
        assert!(error.contains("Raise the function's Timeout"), "{error}");
    }

    /// `Deadline::within(2 s, 1 s)`: judging stops at 1 s, reads are given up at 1.5 s.
    fn two_seconds() -> RunOptions {
        RunOptions {
            deadline: Some(Deadline::within(
                Duration::from_secs(2),
                Duration::from_secs(1),
            )),
            ..RunOptions::default()
        }
    }

    const ABANDON: Duration = Duration::from_millis(1_500);
    /// A call that would outlast any Lambda invocation.
    const HANG: Duration = Duration::from_secs(60);

    /// Handles `invocation` within [`two_seconds`]: what it reported, and how long it took on
    /// the test's paused clock (which only moves when every task waits, so exactly).
    async fn within_two_seconds(memory: &Memory, invocation: &Invocation) -> (Report, Duration) {
        let start = tokio::time::Instant::now();
        let handled = run(memory, invocation, &two_seconds()).await;
        (handled.report, tokio::time::Instant::now() - start)
    }

    #[tokio::test(start_paused = true)]
    async fn a_sweep_read_that_hangs_is_given_up_at_the_deadline_and_named() {
        for operation in [
            "GetComplianceDetailsByConfigRule",
            "ListDiscoveredResources",
            "ListMonitoringSchedules",
        ] {
            let mut memory = account();
            memory.held = vec![held("arn:schedule/deleted")];
            memory.latency.insert(operation, HANG);
            let (report, took) = within_two_seconds(&memory, &periodic("{}")).await;
            assert_eq!(took, ABANDON, "{operation}");
            assert!(memory.delivered().is_empty(), "{operation}");
            assert_eq!(report.sweep.stale, 0, "{operation}");
            let error = report.outcome().unwrap_err().to_string();
            assert!(
                error.contains(&format!("given up at the Lambda deadline: {operation}")),
                "{error}"
            );
            assert!(error.contains("Raise the function's Timeout"), "{error}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_list_page_in_flight_when_judging_stops_is_given_up_and_what_was_left_named() {
        let mut memory = account();
        // The second page starts at 0.8 s, before judging stops at 1 s, and would end at 1.6 s.
        memory
            .latency
            .insert("ListMonitoringSchedules", Duration::from_millis(800));
        let (report, took) = within_two_seconds(&memory, &periodic("{}")).await;
        assert_eq!(took, ABANDON);
        assert_eq!(report.sweep.not_started, 3, "the first page's schedules");
        assert!(report.sweep.unlisted_pages);
        let error = report.outcome().unwrap_err().to_string();
        assert!(
            error.contains(
                "3 listed schedule(s) unjudged and more pages of schedules not yet listed"
            ),
            "{error}"
        );
        assert!(
            error.contains("given up at the Lambda deadline: ListMonitoringSchedules"),
            "{error}"
        );
    }

    /// An oversized change event for `name`, whose item the Config history does not hold.
    fn oversized(name: &str, params: &str) -> Invocation {
        Invocation::from_value(json!({
            "invokingEvent": json!({
                "messageType": "OversizedConfigurationItemChangeNotification",
                "configurationItemSummary": {
                    "resourceType": SCHEDULE_TYPE,
                    "resourceId": format!("arn:schedule/{name}"),
                    "resourceName": name,
                    "configurationItemCaptureTime": "2026-11-28T10:00:00.000Z",
                    "configurationItemStatus": "OK",
                },
                "notificationCreationTime": "2026-11-28T10:00:01.000Z",
            })
            .to_string(),
            "ruleParameters": params,
            "resultToken": "t",
        }))
        .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_read_that_hangs_is_given_up_at_the_deadline_and_its_resource_named() {
        for (operation, schedule, params) in [
            ("GetResourceConfigHistory", "a-embedded-on", "{}"),
            ("DescribeMonitoringSchedule", "a-embedded-on", "{}"),
            ("DescribeJobDefinition", "c-dq", "{}"),
            ("ListTags", "a-embedded-on", r#"{"ExemptTag":"exempt"}"#),
        ] {
            let mut memory = account();
            memory.latency.insert(operation, HANG);
            let (report, took) = within_two_seconds(&memory, &oversized(schedule, params)).await;
            assert_eq!(took, ABANDON, "{operation}");
            assert!(memory.delivered().is_empty(), "{operation}");
            assert_eq!(report.unjudged.len(), 1, "{operation}");
            assert_eq!(report.unjudged[0].resource, schedule, "{operation}");
            assert_eq!(report.unjudged[0].reason, Reason::Deadline, "{operation}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn what_was_judged_before_the_deadline_is_delivered_and_the_rest_named() {
        let mut memory = account();
        // The four schedules whose summaries name their job definition need no describe.
        memory.latency.insert("DescribeMonitoringSchedule", HANG);
        let (report, took) =
            within_two_seconds(&memory, &periodic(r#"{"DescribeConcurrency":"3"}"#)).await;
        assert_eq!(took, ABANDON);
        let delivered = memory.delivered();
        assert_eq!(
            delivered.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "arn:schedule/c-dq",
                "arn:schedule/d-bias",
                "arn:schedule/e-bias-too",
                "arn:schedule/f-missing"
            ]
        );
        let mut unjudged: Vec<&str> = report
            .unjudged
            .iter()
            .map(|u| u.resource.as_str())
            .collect();
        unjudged.sort_unstable();
        assert_eq!(unjudged, ["a-embedded-on", "b-embedded-off", "g-nothing"]);
        assert!(report.unjudged.iter().all(|u| u.reason == Reason::Deadline));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cut_short_sweep_restates_unchanged_results_only_as_time_allows_and_never_as_undelivered()
     {
        let mut memory = Memory::new();
        memory.page_size = 100;
        for i in 0..3_000 {
            memory = memory.schedule(&format!("s-{i:05}"), embedded(true));
        }
        // What Config holds: this very verdict for each, an hour old, but for every hundredth
        // schedule, which was NON_COMPLIANT and is now COMPLIANT.
        run(&memory, &periodic("{}"), &RunOptions::default()).await;
        let an_hour_ago = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            - 3_600.0;
        let delivered = std::mem::take(&mut *memory.delivered.lock().unwrap());
        let changed: BTreeSet<String> = delivered
            .iter()
            .step_by(100)
            .map(|e| e.compliance_resource_id.clone())
            .collect();
        memory.held = delivered
            .into_iter()
            .map(|e| HeldResult {
                compliance: if changed.contains(&e.compliance_resource_id) {
                    NonCompliant
                } else {
                    e.compliance_type
                },
                resource_type: e.compliance_resource_type,
                resource_id: e.compliance_resource_id,
                annotation: e.annotation,
                recorded_at: an_hour_ago,
            })
            .collect();
        // About 2,000 judged before judging stops at 2 s; each PutEvaluations takes 200 ms, and
        // none is started after 3.5 s.
        memory
            .latency
            .insert("DescribeMonitoringSchedule", Duration::from_millis(1));
        memory
            .latency
            .insert("PutEvaluations", Duration::from_millis(200));
        let options = RunOptions {
            deadline: Some(Deadline::within(
                Duration::from_secs(4),
                Duration::from_secs(2),
            )),
            keep_rows: true,
            ..RunOptions::default()
        };
        let handled = run(
            &memory,
            &periodic(r#"{"DescribeConcurrency":"1"}"#),
            &options,
        )
        .await;
        let report = &handled.report;
        assert!(report.sweep.not_started > 0, "the sweep was cut short");
        // What the window allowed was re-stated, the rest counted apart, after the changes.
        assert!(report.restated > 0 && report.not_restated > 0, "{report:?}");
        assert_eq!(report.restated + report.not_restated, report.unchanged);
        let error = report.outcome().unwrap_err().to_string();
        assert!(!error.contains("computed but not delivered"), "{error}");
        assert!(
            report.undelivered.is_empty(),
            "{:?}",
            report.undelivered.len()
        );
        let emf: serde_json::Value = serde_json::from_str(&report.emf("rule", "f")).unwrap();
        assert_eq!(emf["Undelivered"], 0);
        // Every changed verdict that was judged reached Config.
        let delivered = memory.delivered();
        let judged_changed: Vec<&Row> = handled
            .rows
            .iter()
            .filter(|row| changed.contains(&row.evaluation.compliance_resource_id))
            .collect();
        assert!(judged_changed.len() > 10, "{}", judged_changed.len());
        for row in judged_changed {
            assert_eq!(
                delivered.get(&row.evaluation.compliance_resource_id),
                Some(&Compliant)
            );
        }
    }

    #[tokio::test]
    async fn the_command_line_keeps_rows_with_names_only_when_asked() {
        let memory = account();
        let options = RunOptions {
            keep_rows: true,
            ..RunOptions::default()
        };
        let handled = run(&memory, &periodic("{}"), &options).await;
        assert_eq!(handled.rows.len(), 7);
        assert!(
            handled
                .rows
                .iter()
                .any(|row| row.name.as_deref() == Some("d-bias"))
        );
        let handled = run(&account(), &periodic("{}"), &RunOptions::default()).await;
        assert!(handled.rows.is_empty());
    }
}
