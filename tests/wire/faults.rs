//! Faults on the wire. In every case: no panic, no guessed verdict, and each judged evaluation
//! delivered exactly once or counted (and, up to the first twenty, named) in the final error.

use crate::support::*;
use fake_aws::FakeAws;
use fake_aws::faults::{Faults, Injected};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Reads "N resource(s) could not be judged" and "M evaluation(s) were computed but not
/// delivered" out of the error.
fn counted(stderr: &str, marker: &str) -> usize {
    stderr
        .split(marker)
        .next()
        .filter(|head| head.len() < stderr.len())
        .and_then(|head| {
            head.rsplit(|c: char| !c.is_ascii_digit())
                .find(|s| !s.is_empty())
        })
        .map_or(0, |n| n.parse().unwrap())
}

/// Checks the invariant and returns how many schedules were delivered.
fn assert_nothing_lost_or_guessed(
    fake: &FakeAws,
    expected: &BTreeMap<String, &str>,
    run: &Run,
) -> usize {
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    let delivered = delivered_by_id(fake);
    for (id, evaluations) in &delivered {
        assert_eq!(
            evaluations.len(),
            1,
            "{id} delivered {} times",
            evaluations.len()
        );
        let want = expected
            .get(id)
            .unwrap_or_else(|| panic!("unknown resource {id}"));
        assert_eq!(
            evaluations[0]["ComplianceType"], *want,
            "{id} guessed: {}",
            evaluations[0]["Annotation"]
        );
    }
    let unjudged = counted(&run.stderr, " resource(s) could not be judged");
    let undelivered = counted(
        &run.stderr,
        " evaluation(s) were computed but not delivered",
    );
    assert_eq!(
        delivered.len() + unjudged + undelivered,
        expected.len(),
        "every schedule is delivered or counted in the error: {}",
        run.stderr
    );
    assert_eq!(run.code == 0, unjudged + undelivered == 0, "{}", run.stderr);
    for name in run.stderr.split("schedule-").skip(1).map(|rest| &rest[..5]) {
        let id = schedule_id(&format!("schedule-{name}"));
        assert!(
            expected.contains_key(&id) && !delivered.contains_key(&id),
            "schedule-{name} named but delivered"
        );
    }
    delivered.len()
}

fn sweep_with(count: usize, faults: Faults, env: &[(&str, &str)]) -> (usize, usize, Run) {
    let Swept {
        fake,
        expected,
        run,
    } = sweep(count, faults, "{}", env);
    let delivered = assert_nothing_lost_or_guessed(&fake, &expected, &run);
    let faulted = fake
        .calls()
        .iter()
        .filter(|c| c.injected != Injected::None)
        .count();
    (delivered, faulted, run)
}

#[test]
fn thirty_percent_throttling_loses_nothing() {
    let (delivered, injected, run) = sweep_with(
        400,
        Faults {
            throttle: 0.3,
            seed: 11,
            ..Faults::default()
        },
        &[],
    );
    assert_eq!(delivered, 400, "{}", run.stderr);
    assert!(injected > 100, "{injected} throttled");
}

#[test]
fn server_errors_are_retried() {
    let (delivered, injected, run) = sweep_with(
        300,
        Faults {
            server_error: 0.2,
            seed: 12,
            ..Faults::default()
        },
        &[],
    );
    assert_eq!(delivered, 300, "{}", run.stderr);
    assert!(injected > 40, "{injected} server errors");
}

#[test]
fn reset_connections_are_retried() {
    let (delivered, injected, run) = sweep_with(
        300,
        Faults {
            reset: 0.1,
            seed: 13,
            ..Faults::default()
        },
        &[],
    );
    assert_eq!(delivered, 300, "{}", run.stderr);
    assert!(injected > 15, "{injected} resets");
}

#[test]
fn answers_slower_than_the_attempt_timeout_are_abandoned_and_retried() {
    // The slow answers would come after 60 s: the client gives each up at its attempt timeout
    // (the fake counts the connections closed before their answer) and retries.
    let faults = Faults {
        slow: 0.1,
        slow_ms: 60_000,
        seed: 14,
        ..Faults::default()
    };
    let Swept {
        fake,
        expected,
        run,
    } = sweep(
        200,
        faults,
        "{}",
        &[
            ("AWS_RETRY_MODE", "standard"),
            ("ATTEMPT_TIMEOUT_MS", "250"),
        ],
    );
    assert_eq!(
        assert_nothing_lost_or_guessed(&fake, &expected, &run),
        200,
        "{}",
        run.stderr
    );
    let calls = fake.calls();
    let slow: Vec<&str> = calls
        .iter()
        .filter(|call| call.injected == Injected::Slow)
        .map(|call| call.operation.as_str())
        .collect();
    assert!(slow.len() > 10, "{} slow answers", slow.len());
    let abandoned: usize = slow
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|operation| fake.abandoned(operation))
        .sum();
    let injected = slow.len();
    assert_eq!(abandoned, injected, "every slow answer was given up on");
}

#[test]
fn malformed_answers_are_retried() {
    let (delivered, injected, run) = sweep_with(
        300,
        Faults {
            malformed: 0.1,
            seed: 15,
            ..Faults::default()
        },
        &[],
    );
    assert_eq!(delivered, 300, "{}", run.stderr);
    assert!(injected > 20, "{injected} malformed answers");
}

#[test]
fn answers_that_stay_unreadable_leave_their_schedules_unjudged_not_guessed() {
    let faults = Faults {
        malformed: 1.0,
        operations: vec!["DescribeModelBiasJobDefinition".into()],
        ..Faults::default()
    };
    let (delivered, _, run) = sweep_with(
        100,
        faults,
        &[("AWS_RETRY_MODE", "standard"), ("AWS_MAX_ATTEMPTS", "2")],
    );
    // Schedules 3, 7, 11, ... name ModelBias job definitions: 25 of the 100.
    assert_eq!(delivered, 75, "{}", run.stderr);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("25 resource(s) could not be judged"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("unreadable response"), "{}", run.stderr);
}

#[test]
fn failed_evaluations_are_retried() {
    let (delivered, _, run) = sweep_with(
        300,
        Faults {
            put_failures: 0.2,
            seed: 16,
            ..Faults::default()
        },
        &[],
    );
    assert_eq!(delivered, 300, "{}", run.stderr);
}

#[test]
fn every_fault_at_once() {
    let faults = Faults {
        throttle: 0.2,
        server_error: 0.05,
        reset: 0.05,
        slow: 0.02,
        slow_ms: 2_000,
        malformed: 0.02,
        put_failures: 0.1,
        seed: 17,
        ..Faults::default()
    };
    let (delivered, injected, run) = sweep_with(
        500,
        faults,
        &[
            ("AWS_RETRY_MODE", "standard"),
            ("ATTEMPT_TIMEOUT_MS", "300"),
        ],
    );
    assert!(injected > 150, "{injected}");
    assert_eq!(delivered, 500, "{}", run.stderr);
}

wire_test!(
    faults_on_a_change_event_never_produce_a_verdict_they_did_not_earn,
    sample_seed(),
    Faults {
        malformed: 1.0,
        operations: vec!["DescribeModelBiasJobDefinition".into()],
        ..Faults::default()
    },
    |fake, bin| {
        let run = evaluate(
            &fake,
            &event_file("change-named-model-bias-isolated.json"),
            false,
            &[("AWS_MAX_ATTEMPTS", "2")],
        );
        assert_eq!(run.code, 1);
        assert!(fake.evaluations().is_empty());
        assert!(
            run.stderr.contains("fraud-model-bias-weekly"),
            "{}",
            run.stderr
        );
    }
);

wire_test!(
    a_refused_type_in_a_mixed_batch_is_named_and_the_rest_is_delivered,
    sample_seed(),
    Faults {
        refuse_resource_types: vec!["AWS::SageMaker::ModelBiasJobDefinition".into()],
        ..Faults::default()
    },
    |fake, bin| {
        let run = bin.evaluate(&rule_event("r1", r#"{"Control":"JobDefinitions"}"#));
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("refused ComplianceResourceType AWS::SageMaker::ModelBiasJobDefinition"),
            "{}",
            run.stderr
        );
        let types: Vec<String> = fake
            .evaluations()
            .iter()
            .map(|e| {
                e.evaluation["ComplianceResourceType"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            types.len(),
            7,
            "every other job definition was delivered: {types:?}"
        );
        assert!(!types.iter().any(|t| t.contains("ModelBias")));
    }
);

/// The binary, stopped after `limit` if it has not finished by then. Real time, as a watchdog
/// only: a list that loops never ends, so the test must end it; no speed is asserted.
fn evaluate_within(fake: &FakeAws, event: &Value, limit: Duration) -> (Option<Run>, Duration) {
    let started = Instant::now();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let _ = done.send(evaluate(
                fake,
                event,
                false,
                &[("ATTEMPT_TIMEOUT_MS", "2000")],
            ));
        });
        let run = finished.recv_timeout(limit).ok();
        if run.is_none() {
            // Stop the runaway: the fake refuses everything from now on.
            fake.set_faults(Faults {
                deny: [
                    "ListMonitoringSchedules",
                    "ListDiscoveredResources",
                    "GetComplianceDetailsByConfigRule",
                    "DescribeMonitoringSchedule",
                    "PutEvaluations",
                ]
                .map(String::from)
                .to_vec(),
                ..Faults::default()
            });
        }
        (run, started.elapsed())
    })
}

#[test]
fn an_endpoint_that_repeats_its_token_cannot_make_a_list_loop() {
    for operation in [
        "ListMonitoringSchedules",
        "ListDiscoveredResources",
        "GetComplianceDetailsByConfigRule",
    ] {
        let (mut seed, expected) = synthetic_account(150);
        // Enough held results for a second page.
        seed.account.results = (0..150)
            .map(|i| {
                held_recorded(
                    "r1",
                    SCHEDULE_TYPE,
                    &schedule_id(&format!("schedule-{i:05}")),
                    "COMPLIANT",
                )
            })
            .collect();
        let fake = start(seed);
        fake.set_faults(Faults {
            repeat_tokens: vec![operation.into()],
            ..Faults::default()
        });
        let (run, took) = evaluate_within(&fake, &rule_event("r1", "{}"), Duration::from_secs(30));
        let run = run.unwrap_or_else(|| panic!("{operation}: still paging after {took:?}"));
        let calls = fake.call_counts()[operation];
        assert!(calls <= 3, "{operation} was called {calls} times");
        assert!(
            run.stderr.contains(operation),
            "{operation}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("returned before"),
            "{operation}: {}",
            run.stderr
        );
        // Nothing was delivered twice, and nothing was guessed.
        for (id, evaluations) in delivered_by_id(&fake) {
            assert_eq!(evaluations.len(), 1, "{operation}: {id} delivered twice");
            if let Some(want) = expected.get(&id) {
                assert_eq!(evaluations[0]["ComplianceType"], *want);
            }
        }
    }
}
