//! The Lambda front door: the real binary under `AWS_LAMBDA_RUNTIME_API`, served by the fake's
//! Runtime API, exactly as Lambda would run it.

use crate::support::*;
use fake_aws::faults::Faults;
use fake_aws::seed::DEFAULT_SECRET_KEY;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn a_change_event_is_judged_and_delivered_through_the_runtime_api() {
    let fake = start(sample_seed());
    let function = Function::start(&fake);
    let event = event_file("change-named-model-bias-isolated.json");
    let response = fake
        .invoke(&event, Duration::from_secs(30), WAIT)
        .expect("success");
    assert_eq!(
        response,
        json!({"compliant": 1, "nonCompliant": 0, "notApplicable": 0, "delivered": 1})
    );
    let recorded = fake.evaluations();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].evaluation["ComplianceType"], "COMPLIANT");
    assert_eq!(
        recorded[0].evaluation["ComplianceResourceId"],
        schedule_arn("fraud-model-bias-weekly")
    );

    // The same warm function serves the next event too.
    let response = fake
        .invoke(&event_file("periodic.json"), Duration::from_secs(30), WAIT)
        .expect("success");
    assert_eq!(response["delivered"], 15);
    assert_eq!(fake.evaluations().len(), 16);

    let logs = function.logs();
    let records: Vec<Value> = logs
        .iter()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|_| panic!("a log line that is not JSON: {line}"))
        })
        .collect();
    // The first line says which build is running; every metrics record carries the version.
    assert_eq!(records[0]["fields"]["message"], "starting", "{logs:#?}");
    assert_eq!(records[0]["fields"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(records[0]["fields"]["commit"], built_from());
    let summaries: Vec<&Value> = records
        .iter()
        .filter(|r| r["fields"]["message"] == "summary")
        .collect();
    assert_eq!(summaries.len(), 2, "{logs:#?}");
    assert_eq!(summaries[1]["fields"]["compliant"], 5);
    assert_eq!(summaries[1]["fields"]["non_compliant"], 10);
    // 1 list page, 6 describes (the other 9 summaries name their job definition), 9 distinct
    // job definitions, 1 discovery page, 1 PutEvaluations, 1 page of the results Config holds.
    assert_eq!(summaries[1]["fields"]["api_calls"], 19);
    assert_eq!(summaries[1]["span"]["trigger"], "ScheduledNotification");
    assert_eq!(summaries[1]["span"]["account"], ACCOUNT);
    let emf: Vec<&Value> = records.iter().filter(|r| r.get("_aws").is_some()).collect();
    assert_eq!(emf.len(), 2);
    assert_eq!(emf[1]["Compliant"], 5);
    assert_eq!(emf[1]["NonCompliant"], 10);
    for record in &emf {
        assert_eq!(record["Version"], env!("CARGO_PKG_VERSION"));
    }
    // The dimension the templates' alarms watch.
    assert_eq!(emf[1]["FunctionName"], "monitoring-schedule-isolation");
    assert!(
        emf[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
            .as_array()
            .unwrap()
            .contains(&json!(["FunctionName"]))
    );
    let token = event["resultToken"].as_str().unwrap();
    for line in &logs {
        assert!(
            !line.contains(token),
            "a result token reached the logs: {line}"
        );
        assert!(
            !line.contains(DEFAULT_SECRET_KEY),
            "a secret reached the logs: {line}"
        );
        assert!(
            !line.contains("invokingEvent"),
            "an event reached the logs: {line}"
        );
    }
}

#[test]
fn a_malformed_event_is_a_bad_input_error_not_a_crash() {
    let fake = start(sample_seed());
    let function = Function::start(&fake);
    let error = fake
        .invoke(
            &json!({"invokingEvent": "{", "resultToken": "t"}),
            Duration::from_secs(30),
            WAIT,
        )
        .expect_err("an error result");
    assert_eq!(error["errorType"], "BadInput");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("invokingEvent is not valid JSON"),
        "{error}"
    );
    // Still alive and serving.
    let response = fake.invoke(
        &event_file("change-deleted.json"),
        Duration::from_secs(30),
        WAIT,
    );
    assert_eq!(response.expect("success")["notApplicable"], 1);
    drop(function.logs());
}

#[test]
fn work_left_at_the_deadline_is_reported_and_everything_judged_is_delivered() {
    // Real time, one of the few: the function runs as its own process under the fake's Runtime
    // API, and Lambda would stop it at the deadline, so it must answer before. The phases of
    // the deadline are pinned exactly on a paused clock in src/rule/tests/deadline.rs.
    let (seed, expected) = synthetic_account(300);
    let fake = start(seed);
    fake.set_faults(Faults {
        latency_ms: 40,
        ..Faults::default()
    });
    let function = Function::start(&fake);
    let started = Instant::now();
    let deadline = Duration::from_secs(4);
    let error = fake
        .invoke(
            &periodic_event(r#"{"DescribeConcurrency":"2"}"#, "token"),
            deadline,
            WAIT,
        )
        .expect_err("an incomplete sweep fails");
    let elapsed = started.elapsed();
    assert!(
        elapsed < deadline,
        "answered after the deadline: {elapsed:?}"
    );
    assert_eq!(error["errorType"], "Incomplete");
    let message = error["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("stopped before the Lambda deadline"),
        "{message}"
    );
    assert!(
        message.contains("Raise the function's Timeout or the DescribeConcurrency rule parameter"),
        "{message}"
    );

    let delivered = delivered_by_id(&fake);
    assert!(
        !delivered.is_empty() && delivered.len() < 300,
        "{} delivered",
        delivered.len()
    );
    for (id, evaluations) in &delivered {
        assert_eq!(evaluations.len(), 1, "{id}");
        assert_eq!(evaluations[0]["ComplianceType"], expected[id]);
    }
    // What was listed but not judged is counted in the message.
    let unjudged: usize = message
        .split(" listed schedule(s) unjudged")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {message}"));
    assert!(unjudged > 0);
    assert!(delivered.len() + unjudged <= 300);
    drop(function.logs());
}
