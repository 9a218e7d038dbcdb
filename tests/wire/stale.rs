//! Honest under faults: a result is never wrong, a failure is never silent, and the fake that
//! proves it is as strict as AWS.

use crate::support::*;
use fake_aws::FakeAws;
use fake_aws::faults::Faults;
use fake_aws::seed::Seed;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A held result with its annotation and the time Config recorded it.
fn held_recorded(rule: &str, resource_type: &str, id: &str, compliance: &str) -> Value {
    let mut result = held(rule, resource_type, id, compliance);
    result["Annotation"] = json!("held");
    result["ResultRecordedTime"] = json!(1_795_000_000);
    result
}

/// The evaluations delivered for one resource id.
fn delivered_with(fake: &FakeAws, id: &str) -> Vec<Value> {
    delivered_by_id(fake).remove(id).unwrap_or_default()
}

#[test]
fn stale_results_are_left_alone_when_config_ids_are_unknown() {
    // Config holds results under its own ids; ListDiscoveredResources fails, so which listed
    // schedule each id belongs to is unknown and nothing is provably gone.
    let (mut seed, _) = synthetic_account(20);
    seed.account.results = vec![
        held_recorded(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("schedule-00003"),
            "NON_COMPLIANT",
        ),
        held_recorded(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("schedule-00004"),
            "COMPLIANT",
        ),
    ];
    let fake = start(seed);
    fake.set_faults(Faults {
        deny: vec!["ListDiscoveredResources".into()],
        ..Faults::default()
    });
    let run = evaluate(&fake, &rule_event("r1", "{}"), false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in ["schedule-00003", "schedule-00004"] {
        assert!(
            delivered_with(&fake, &schedule_id(name)).is_empty(),
            "{name}'s live result was cleared: {}",
            run.stderr
        );
        assert_eq!(delivered_with(&fake, &schedule_arn(name)).len(), 1);
    }
    assert!(
        run.stderr.contains("stale results are left"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_result_recorded_while_the_sweep_runs_is_not_cleared() {
    let (seed, expected) = synthetic_account(80);
    let fake = start(seed);
    // A schedule created after SageMaker was listed, and judged by its change event meanwhile:
    // its result is recorded as Config answers the sweep's read of held results, so the
    // clean-up finds it held and not listed, and clears it at the sweep's OrderingTimestamp.
    // The change event's is later (its configuration item was captured after the sweep's
    // event), so Config keeps the live result.
    let created = schedule_id("created-during-the-sweep");
    let recorded = created.clone();
    fake.on_call("GetComplianceDetailsByConfigRule", 1, move |state| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        state.account(ACCOUNT).results.insert(
            ("r1".into(), SCHEDULE_TYPE.into(), recorded.clone()),
            json!({"ConfigRuleName": "r1", "ResourceType": SCHEDULE_TYPE, "ResourceId": recorded,
                   "ComplianceType": "NON_COMPLIANT", "Annotation": "judged by its change event",
                   "OrderingTimestamp": now, "ResultRecordedTime": now}),
        );
    });
    let params = r#"{"DescribeConcurrency":"2"}"#;
    let sweeping = evaluate(&fake, &rule_event("r1", params), false, &[]);
    assert_eq!(sweeping.code, 0, "{}", sweeping.stderr);
    let held = fake.with_state(|state| state.account(ACCOUNT).results.clone());
    assert_eq!(
        held[&("r1".to_owned(), SCHEDULE_TYPE.to_owned(), created.clone())]["ComplianceType"],
        "NON_COMPLIANT",
        "a schedule created during the sweep was cleared as gone"
    );
    let delivered = delivered_by_id(&fake);
    assert!(expected.keys().all(|id| delivered.contains_key(id)));
    assert_eq!(
        delivered.len(),
        expected.len() + 1,
        "the 80, and the clean-up"
    );
}

#[test]
fn narrowed_job_definition_types_are_out_of_scope_not_gone() {
    let seed = sample_seed();
    let bias_id = "arn:aws:sagemaker:us-east-1:123456789012:model-bias-job-definition/test-c7n-mdl-bias-job-def";
    let gone_id =
        "arn:aws:sagemaker:us-east-1:123456789012:data-quality-job-definition/deleted-long-ago";
    let mut seed = seed;
    seed.account.results = vec![
        held_recorded(
            "r1",
            "AWS::SageMaker::ModelBiasJobDefinition",
            bias_id,
            "COMPLIANT",
        ),
        held_recorded(
            "r1",
            "AWS::SageMaker::DataQualityJobDefinition",
            gone_id,
            "NON_COMPLIANT",
        ),
    ];
    let fake = start(seed);
    let params = r#"{"Control":"JobDefinitions","JobDefinitionTypes":"DataQuality"}"#;
    let run = evaluate(&fake, &rule_event("r1", params), false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bias = delivered_with(&fake, bias_id);
    assert_eq!(bias.len(), 1, "{}", run.stderr);
    assert_eq!(bias[0]["ComplianceType"], "NOT_APPLICABLE");
    let annotation = bias[0]["Annotation"].as_str().unwrap();
    assert!(
        annotation.contains("out of this rule's scope"),
        "{annotation}"
    );
    assert!(annotation.contains("JobDefinitionTypes"), "{annotation}");
    // The job-definition rule clears what no longer exists, as the schedule rule does.
    let gone = delivered_with(&fake, gone_id);
    assert_eq!(gone.len(), 1);
    assert!(
        gone[0]["Annotation"]
            .as_str()
            .unwrap()
            .contains("no longer exists")
    );
}

#[test]
fn a_refused_type_in_a_mixed_batch_is_named_and_the_rest_is_delivered() {
    let fake = start(sample_seed());
    fake.set_faults(Faults {
        refuse_resource_types: vec!["AWS::SageMaker::ModelBiasJobDefinition".into()],
        ..Faults::default()
    });
    let run = evaluate(
        &fake,
        &rule_event("r1", r#"{"Control":"JobDefinitions"}"#),
        false,
        &[],
    );
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

fn embedded(name: &str, isolated: bool) -> Value {
    json!({
        "MonitoringScheduleArn": schedule_arn(name),
        "MonitoringScheduleName": name,
        "MonitoringScheduleStatus": "Scheduled",
        "MonitoringScheduleConfig": {"MonitoringType": "DataQuality", "MonitoringJobDefinition": {
            "MonitoringInputs": [{"EndpointInput": {"EndpointName": "e", "LocalPath": "/in"}}],
            "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {"S3Uri": "s3://b/o", "LocalPath": "/out"}}]},
            "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}},
            "MonitoringAppSpecification": {"ImageUri": "image"},
            "RoleArn": "arn:aws:iam::123456789012:role/monitor",
            "NetworkConfig": {"EnableNetworkIsolation": isolated}
        }}
    })
}

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
fn items_that_are_not_recorded_are_not_applicable() {
    let fake = start(sample_seed());
    for status in ["ResourceNotRecorded", "ResourceDeletedNotRecorded"] {
        let mut event = event_file("change-deleted.json");
        let mut invoking: Value =
            serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
        invoking["configurationItem"]["configurationItemStatus"] = json!(status);
        event["invokingEvent"] = json!(invoking.to_string());
        let run = evaluate(&fake, &event, false, &[]);
        assert_eq!(run.code, 0, "{status}: {}", run.stderr);
        let last = fake.evaluations().pop().unwrap().evaluation;
        assert_eq!(last["ComplianceType"], "NOT_APPLICABLE", "{status}");
        assert!(last["Annotation"].as_str().unwrap().contains(status));
    }
    assert!(
        !fake
            .calls()
            .iter()
            .any(|c| c.operation.starts_with("Describe")),
        "nothing to describe"
    );
}

#[test]
fn an_oversized_job_definition_change_rejudges_its_schedules_from_configs_history() {
    let mut seed = sample_seed();
    let arn = "arn:aws:sagemaker:us-east-1:123456789012:model-bias-job-definition/test-c7n-mdl-bias-job-def";
    // Config's copy says the definition is no longer isolated.
    seed.account.config_items.push(json!({
        "resourceType": "AWS::SageMaker::ModelBiasJobDefinition",
        "resourceId": arn,
        "resourceName": "test-c7n-mdl-bias-job-def",
        "configurationItemCaptureTime": "2026-11-28T10:05:12.250Z",
        "configurationItemStatus": "OK",
        "configuration": {"JobDefinitionName": "test-c7n-mdl-bias-job-def",
                          "NetworkConfig": {"EnableNetworkIsolation": false}},
    }));
    let fake = start(seed);
    let mut event = event_file("oversized-embedded-not-isolated.json");
    event["invokingEvent"] = json!(
        json!({
            "messageType": "OversizedConfigurationItemChangeNotification",
            "notificationCreationTime": "2026-11-28T10:05:13.000Z",
            "configurationItemSummary": {
                "resourceType": "AWS::SageMaker::ModelBiasJobDefinition",
                "resourceId": arn,
                "resourceName": "test-c7n-mdl-bias-job-def",
                "configurationItemCaptureTime": "2026-11-28T10:05:12.250Z",
                "configurationItemStatus": "OK",
            }
        })
        .to_string()
    );
    let run = evaluate(&fake, &event, false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let delivered = delivered_by_id(&fake);
    let schedule = &delivered[&schedule_arn("fraud-model-bias-weekly")][0];
    assert_eq!(schedule["ComplianceType"], "NON_COMPLIANT", "{schedule}");
    assert_eq!(delivered[arn][0]["ComplianceType"], "NOT_APPLICABLE");
    let calls = fake.call_counts();
    assert_eq!(calls["GetResourceConfigHistory"], 1);
    assert!(
        !calls.contains_key("DescribeModelBiasJobDefinition"),
        "{calls:?}"
    );
}

#[test]
fn what_config_holds_after_a_sweep_is_the_account_even_when_it_held_newer_looking_results() {
    // Config keeps, per resource, the evaluation with the newest OrderingTimestamp (the fake
    // does too): a sweep whose evaluations carried a timestamp older than the results held an
    // hour before its event would leave every wrong verdict in place.
    let (mut seed, expected) = synthetic_account(30);
    let event_time = 1_795_860_000.0; // the periodic event's notificationCreationTime
    seed.account.results = expected
        .iter()
        .map(|(id, want)| {
            let wrong = if *want == "COMPLIANT" {
                "NON_COMPLIANT"
            } else {
                "COMPLIANT"
            };
            let mut result = held_recorded("r1", SCHEDULE_TYPE, id, wrong);
            result["OrderingTimestamp"] = json!(event_time - 3_600.0);
            result
        })
        .collect();
    let fake = start(seed);
    let run = evaluate(&fake, &rule_event("r1", "{}"), false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.with_state(|state| state.superseded.len()), 0);
    let held = fake.with_state(|state| state.account(ACCOUNT).results.clone());
    for (id, want) in &expected {
        let key = ("r1".to_owned(), SCHEDULE_TYPE.to_owned(), id.clone());
        assert_eq!(held[&key]["ComplianceType"], *want, "{id}");
    }
}

#[test]
/// N14: Config's inventory lags SageMaker's, so a live schedule has no Config id yet; the
/// results Config holds for that type cannot be proven stale in this sweep.
fn a_schedule_missing_from_configs_inventory_keeps_its_live_result() {
    let (mut seed, expected) = synthetic_account(10);
    let lagging = schedule_id("schedule-00003");
    seed.account.results = expected
        .iter()
        .map(|(id, want)| held_recorded("r1", SCHEDULE_TYPE, id, want))
        .collect();
    let fake = start(seed);
    fake.set_faults(Faults {
        undiscovered: vec!["schedule-00003".into()],
        ..Faults::default()
    });
    let run = evaluate(&fake, &rule_event("r1", "{}"), false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for evaluation in delivered_with(&fake, &lagging) {
        assert_ne!(
            evaluation["ComplianceType"], "NOT_APPLICABLE",
            "a live schedule's result was cleared: {}",
            run.stderr
        );
    }
    let held = fake.with_state(|state| state.account(ACCOUNT).results.clone());
    let key = ("r1".to_owned(), SCHEDULE_TYPE.to_owned(), lagging.clone());
    assert_eq!(held[&key]["ComplianceType"], expected[&lagging]);
}
