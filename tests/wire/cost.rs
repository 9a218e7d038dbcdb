//! Pay for changes, not for sweeps: a sweep reports a verdict only when it differs from what
//! Config holds, when Config holds none, or when the held one is older than the refresh
//! interval.

use crate::support::*;
use fake_aws::FakeAws;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

fn set_schedule(fake: &FakeAws, name: &str, change: impl FnOnce(&mut Value)) {
    fake.with_state(|state| change(state.account(ACCOUNT).schedules.get_mut(name).unwrap()));
}

#[test]
fn a_second_sweep_reports_only_what_changed() {
    let (seed, expected) = synthetic_account(1000);
    let fake = start(seed);
    let first = evaluate(&fake, &rule_event(RULE, "{}"), false, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        reported_since(&fake, 0).len(),
        1000,
        "a first sweep reports everything"
    );
    assert!(
        first.stderr.contains("1000 reported, 0 unchanged"),
        "{}",
        first.stderr
    );

    // Ten changes: five schedules lose their isolation, five keep their verdict but not their
    // annotation (their VpcConfig goes).
    let mut changed = BTreeMap::new();
    for i in (0..20).step_by(4) {
        let name = format!("schedule-{i:05}");
        set_schedule(&fake, &name, |s| {
            s["MonitoringScheduleConfig"]["MonitoringJobDefinition"]["NetworkConfig"]["EnableNetworkIsolation"] =
                json!(false)
        });
        changed.insert(schedule_id(&name), "NON_COMPLIANT");
    }
    for i in (1..20).step_by(4) {
        let name = format!("schedule-{i:05}");
        set_schedule(&fake, &name, |s| {
            let network =
                &mut s["MonitoringScheduleConfig"]["MonitoringJobDefinition"]["NetworkConfig"];
            network.as_object_mut().unwrap().remove("VpcConfig");
        });
        changed.insert(schedule_id(&name), "NON_COMPLIANT");
    }
    let before = fake.evaluations().len();
    let second = evaluate(&fake, &rule_event(RULE, "{}"), false, &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let reported = reported_since(&fake, before);
    assert_eq!(
        reported.keys().collect::<BTreeSet<_>>(),
        changed.keys().collect::<BTreeSet<_>>(),
        "exactly the changed schedules are reported"
    );
    for (id, evaluation) in &reported {
        assert_eq!(evaluation["ComplianceType"], changed[id], "{id}");
    }
    // The set equality above is by id: each changed schedule was also sent once, not again.
    assert_eq!(
        fake.evaluations().len() - before,
        changed.len(),
        "one evaluation per changed schedule, 1% of the account"
    );
    assert!(
        second.stderr.contains("10 reported, 990 unchanged"),
        "{}",
        second.stderr
    );
    // What Config holds is what the account is.
    let held = fake.with_state(|state| state.account(ACCOUNT).results.clone());
    for (id, want) in expected.iter().filter(|(id, _)| !changed.contains_key(*id)) {
        assert_eq!(
            held[&(RULE.into(), SCHEDULE_TYPE.into(), id.clone())]["ComplianceType"],
            *want
        );
    }
}

#[test]
fn results_older_than_the_refresh_interval_are_reported_again() {
    let (seed, _) = synthetic_account(200);
    let fake = start(seed);
    assert_eq!(evaluate(&fake, &rule_event(RULE, "{}"), false, &[]).code, 0);
    // Five results were recorded 31 days ago.
    let aged: BTreeSet<String> = (0..5)
        .map(|i| schedule_id(&format!("schedule-{i:05}")))
        .collect();
    fake.with_state(|state| {
        for result in state.account(ACCOUNT).results.values_mut() {
            if aged.contains(result["ResourceId"].as_str().unwrap()) {
                let recorded = result["ResultRecordedTime"].as_f64().unwrap();
                result["ResultRecordedTime"] = json!(recorded - 31.0 * 86_400.0);
            }
        }
    });
    let before = fake.evaluations().len();
    assert_eq!(evaluate(&fake, &rule_event(RULE, "{}"), false, &[]).code, 0);
    let reported: BTreeSet<String> = reported_since(&fake, before).into_keys().collect();
    assert_eq!(reported, aged, "the default interval is 30 days");

    // With ResultRefreshDays=0 every sweep re-states everything, as before this saving.
    let before = fake.evaluations().len();
    let every = rule_event(RULE, r#"{"ResultRefreshDays":"0"}"#);
    assert_eq!(evaluate(&fake, &every, false, &[]).code, 0);
    assert_eq!(reported_since(&fake, before).len(), 200);
}

#[test]
fn a_sweep_with_nothing_new_still_tells_config_it_ran_and_clears_what_is_gone() {
    let (seed, _) = synthetic_account(120);
    let fake = start(seed);
    assert_eq!(evaluate(&fake, &rule_event(RULE, "{}"), false, &[]).code, 0);
    let puts_before = fake.puts().len();
    let quiet = evaluate(&fake, &rule_event(RULE, "{}"), false, &[]);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    let puts: Vec<usize> = fake.puts()[puts_before..]
        .iter()
        .map(|p| p.evaluations)
        .collect();
    assert_eq!(puts, [0], "one PutEvaluations, with no evaluations");

    // A schedule deleted since: its held result is cleared, and only that is reported.
    fake.with_state(|state| state.account(ACCOUNT).schedules.remove("schedule-00007"));
    let before = fake.evaluations().len();
    assert_eq!(evaluate(&fake, &rule_event(RULE, "{}"), false, &[]).code, 0);
    let reported = reported_since(&fake, before);
    assert_eq!(reported.len(), 1, "{reported:?}");
    let cleared = &reported[&schedule_id("schedule-00007")];
    assert_eq!(cleared["ComplianceType"], "NOT_APPLICABLE");
}
