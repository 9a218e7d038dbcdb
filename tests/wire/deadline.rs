//! The deadline over the wire: what a run cut short delivers and names. The exact phases and
//! instants are pinned on a paused clock in src/rule/tests/.

use crate::support::*;
use fake_aws::faults::Faults;
use fake_aws::seed::Seed;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

#[test]
fn remediation_after_the_sweep_stops_at_the_deadline_and_names_what_it_left() {
    let schedules: Vec<Value> = (0..40)
        .map(|i| embedded(&format!("open-{i:02}"), i % 2 == 0))
        .collect();
    let seed = Seed::from_json(&json!({"schedules": schedules}).to_string()).unwrap();
    let fake = start(seed);
    fake.set_faults(Faults {
        latency_ms: 150,
        ..Faults::default()
    });
    // Twenty fixes at 150 ms a call cannot all fit in 5 s. When each stops is pinned on a
    // paused clock in src/rule/tests/deadline.rs (remediation_after_the_sweep_starts_no_fix_
    // after_stop_starting_and_names_what_it_left); here, what the function answered.
    let mut function = lambda_command(&fake).spawn().unwrap();
    let answer = fake.invoke(
        &rule_event("r1", r#"{"Remediate":"true"}"#),
        Duration::from_secs(5),
        Duration::from_secs(60),
    );
    let _ = function.kill();
    let _ = function.wait();
    let error = answer.expect_err("remediation was cut short");
    let message = error["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("remediation(s) not started before the Lambda deadline"),
        "{message}"
    );
    assert!(message.contains("open-"), "{message}");
    assert_eq!(
        fake.evaluations().len(),
        40,
        "every verdict was still delivered"
    );
}

#[test]
fn sweeps_cut_short_by_the_deadline_reach_every_schedule_in_turn() {
    // A hundred schedules that each take a describe; about 40% fit before each deadline.
    let schedules: Vec<Value> = (0..100)
        .map(|i| {
            let name = format!("schedule-{i:05}");
            json!({
                "MonitoringScheduleArn": schedule_arn(&name),
                "MonitoringScheduleName": name,
                "MonitoringScheduleConfig": {"MonitoringJobDefinition": {
                    "NetworkConfig": {"EnableNetworkIsolation": i % 3 == 0}}},
            })
        })
        .collect();
    let seed = fake_aws::seed::Seed::from_json(&json!({ "schedules": schedules }).to_string());
    let fake = start(seed.unwrap());
    // Config holds a result for every schedule, all as old as each other: without an order by
    // age, and without re-stating what a cut-short run judged unchanged, every run would judge
    // the same first 40%.
    assert_eq!(evaluate(&fake, &rule_event(RULE, "{}"), false, &[]).code, 0);
    // Real time: the function runs under the fake's Runtime API, and 50 ms a call cuts each
    // 3.2 s invocation short, however fast the machine.
    fake.set_faults(Faults {
        latency_ms: 50,
        ..Faults::default()
    });
    let mut function = lambda_command(&fake).spawn().unwrap();
    let mut judged: Vec<BTreeSet<String>> = Vec::new();
    for _ in 0..3 {
        let before = fake.evaluations().len();
        let answer = fake.invoke(
            &rule_event(RULE, r#"{"DescribeConcurrency":"2"}"#),
            Duration::from_millis(3_200),
            Duration::from_secs(60),
        );
        let error = answer.expect_err("a cut-short sweep fails, naming what it left");
        assert!(
            error["errorMessage"]
                .as_str()
                .unwrap()
                .contains("stopped before the Lambda deadline"),
            "{error}"
        );
        judged.push(reported_since(&fake, before).into_keys().collect());
    }
    let _ = function.kill();
    let _ = function.wait();
    // How many each run judges depends on the machine; which it judges does not. Each run
    // takes first what no run has judged yet, so a run that re-judges a schedule has judged
    // every one not judged before it. The exact count per run is pinned on a paused clock in
    // src/rule/tests/cut_short.rs (sweeps_cut_short_by_the_deadline_reach_every_schedule_in_turn).
    let counts: Vec<usize> = judged.iter().map(BTreeSet::len).collect();
    assert!(counts.iter().all(|count| *count > 0), "{counts:?}");
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for run in &judged {
        if !run.is_disjoint(&seen) {
            assert_eq!(
                seen.union(run).count(),
                100,
                "a schedule was re-judged while another was never judged: {counts:?}"
            );
        }
        seen.extend(run.iter().cloned());
    }
}
