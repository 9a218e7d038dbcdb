//! Change events through `evaluate`: every sample in `events/`, job-definition changes that
//! re-judge the schedules naming them (from Config's history when oversized), items Config
//! does not record, and bad input through the same door.

use crate::support::*;
use fake_aws::faults::Faults;
use monitoring_schedule_isolation::parse_time;
use serde_json::{Value, json};

/// Each sample event, with the evaluation it must produce.
const SAMPLES: &[(&str, &str, &str, &str)] = &[
    (
        "change-embedded-isolated.json",
        SCHEDULE_TYPE,
        "churn-data-quality-hourly",
        "COMPLIANT",
    ),
    (
        "change-embedded-not-isolated-vpc.json",
        SCHEDULE_TYPE,
        "churn-data-quality-staging",
        "NON_COMPLIANT",
    ),
    (
        "change-embedded-no-network-config.json",
        SCHEDULE_TYPE,
        "",
        "NON_COMPLIANT",
    ),
    (
        "change-named-model-bias-isolated.json",
        SCHEDULE_TYPE,
        "fraud-model-bias-weekly",
        "COMPLIANT",
    ),
    (
        "change-named-job-definition-missing.json",
        SCHEDULE_TYPE,
        "",
        "NON_COMPLIANT",
    ),
    (
        "change-named-strict-reading.json",
        SCHEDULE_TYPE,
        "recsys-model-quality-isolated",
        "NON_COMPLIANT",
    ),
    (
        "change-deleted.json",
        SCHEDULE_TYPE,
        "pricing-data-quality-vpc-only",
        "NOT_APPLICABLE",
    ),
    (
        "change-left-scope.json",
        SCHEDULE_TYPE,
        "churn-data-quality-staging",
        "NOT_APPLICABLE",
    ),
    (
        "change-other-resource-type.json",
        "AWS::SageMaker::EndpointConfig",
        "",
        "NOT_APPLICABLE",
    ),
    (
        "oversized-embedded-not-isolated.json",
        SCHEDULE_TYPE,
        "churn-data-quality-staging",
        "NON_COMPLIANT",
    ),
];

fn item_of(event: &Value) -> Value {
    let invoking: Value = serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
    invoking
        .get("configurationItem")
        .or(invoking.get("configurationItemSummary"))
        .cloned()
        .unwrap()
}

wire_test!(
    every_sample_event_gets_its_verdict_in_a_dry_run,
    sample_seed(),
    |fake, bin| {
        for (file, resource_type, name, compliance) in SAMPLES {
            let event = event_file(file);
            let run = bin.dry_run(&event);
            assert_eq!(run.code, 0, "{file}: {}", run.stderr);
            let lines = run.lines();
            assert_eq!(lines.len(), 1, "{file}: {}", run.stdout);
            let line = &lines[0];
            let item = item_of(&event);
            assert_eq!(line["ComplianceResourceType"], *resource_type, "{file}");
            assert_eq!(line["ComplianceResourceId"], item["resourceId"], "{file}");
            if !name.is_empty() {
                assert_eq!(line["ComplianceResourceId"], schedule_arn(name), "{file}");
            }
            assert_eq!(
                line["ComplianceType"], *compliance,
                "{file}: {}",
                line["Annotation"]
            );
            let time = |value: &Value| parse_time("t", value.as_str().unwrap()).unwrap();
            assert_eq!(
                time(&line["OrderingTimestamp"]),
                time(&item["configurationItemCaptureTime"]),
                "{file}"
            );
            let annotation = line["Annotation"].as_str().unwrap();
            assert!(
                !annotation.is_empty() && annotation.chars().count() <= 256,
                "{file}"
            );
            let mut keys: Vec<&String> = line.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(
                keys,
                [
                    "Annotation",
                    "ComplianceResourceId",
                    "ComplianceResourceType",
                    "ComplianceType",
                    "OrderingTimestamp"
                ]
            );
        }
        assert!(fake.evaluations().is_empty(), "dry runs write nothing");
        assert!(
            !fake
                .calls()
                .iter()
                .any(|call| call.operation == "PutEvaluations")
        );
    }
);

wire_test!(
    every_sample_event_is_delivered_once_with_the_event_token,
    sample_seed(),
    |fake, bin| {
        for (file, _, _, compliance) in SAMPLES {
            let event = event_file(file);
            let before = fake.evaluations().len();
            let run = bin.evaluate(&event);
            assert_eq!(run.code, 0, "{file}: {}", run.stderr);
            let recorded = fake.evaluations();
            assert_eq!(recorded.len(), before + 1, "{file}");
            let last = recorded.last().unwrap();
            assert_eq!(last.result_token, event["resultToken"].as_str().unwrap());
            assert!(!last.test_mode);
            assert_eq!(last.evaluation["ComplianceType"], *compliance, "{file}");
            assert_eq!(
                last.evaluation["ComplianceResourceId"],
                item_of(&event)["resourceId"]
            );
        }
    }
);

wire_test!(
    a_testmode_token_asks_config_to_record_nothing,
    sample_seed(),
    |fake, bin| {
        let mut event = event_file("change-embedded-isolated.json");
        event["resultToken"] = json!("TESTMODE");
        let run = bin.evaluate(&event);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let recorded = fake.evaluations();
        assert_eq!(recorded.len(), 1);
        assert!(recorded[0].test_mode);
        assert_eq!(recorded[0].result_token, "TESTMODE");
    }
);

wire_test!(
    change_events_call_sagemaker_only_for_named_job_definitions,
    sample_seed(),
    |fake, bin| {
        bin.dry_run(&event_file("change-embedded-isolated.json"));
        assert!(fake.calls().is_empty(), "{:?}", fake.calls());
        bin.dry_run(&event_file("change-named-model-bias-isolated.json"));
        let operations: Vec<String> = fake.calls().into_iter().map(|c| c.operation).collect();
        assert_eq!(operations, ["DescribeModelBiasJobDefinition"]);
    }
);

wire_test!(
    an_oversized_item_is_read_from_config_history_first,
    sample_seed(),
    |fake, bin| {
        let run = bin.dry_run(&event_file("oversized-embedded-not-isolated.json"));
        assert_eq!(run.code, 0, "{}", run.stderr);
        let operations: Vec<String> = fake.calls().into_iter().map(|c| c.operation).collect();
        assert_eq!(operations, ["GetResourceConfigHistory"]);
    }
);

wire_test!(
    an_oversized_item_config_does_not_hold_is_described_instead,
    sample_seed(),
    |fake, bin| {
        let mut event = event_file("oversized-embedded-not-isolated.json");
        let mut invoking: Value =
            serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
        let summary = &mut invoking["configurationItemSummary"];
        summary["resourceId"] = json!(schedule_arn("fraud-model-bias-weekly"));
        summary["resourceName"] = json!("fraud-model-bias-weekly");
        event["invokingEvent"] = json!(invoking.to_string());
        let run = bin.dry_run(&event);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.lines()[0]["ComplianceType"], "COMPLIANT");
        let operations: Vec<String> = fake.calls().into_iter().map(|c| c.operation).collect();
        assert_eq!(
            operations,
            [
                "GetResourceConfigHistory",
                "DescribeMonitoringSchedule",
                "DescribeModelBiasJobDefinition"
            ]
        );
    }
);

wire_test!(
    a_named_job_definition_survives_throttling_on_a_change_event,
    sample_seed(),
    Faults {
        throttle: 0.5,
        operations: vec!["DescribeModelBiasJobDefinition".into()],
        seed: 3,
        ..Faults::default()
    },
    |fake, bin| {
        let run = evaluate(
            &fake,
            &event_file("change-named-model-bias-isolated.json"),
            true,
            &[("AWS_RETRY_MODE", "standard")],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.lines()[0]["ComplianceType"], "COMPLIANT");
    }
);

wire_test!(
    a_change_whose_job_definition_cannot_be_read_is_not_guessed,
    sample_seed(),
    Faults {
        deny_resources: vec!["test-c7n-mdl-bias-job-def".into()],
        ..Faults::default()
    },
    |fake, bin| {
        let run = bin.evaluate(&event_file("change-named-model-bias-isolated.json"));
        assert_eq!(run.code, 1);
        assert!(fake.evaluations().is_empty());
        assert!(
            run.stderr
                .contains("fraud-model-bias-weekly (DescribeModelBiasJobDefinition: access denied"),
            "{}",
            run.stderr
        );
    }
);

/// Bad input: exit 2, one line on stderr, nothing called.
fn assert_bad_input(input: &[u8], expected: &str) {
    let fake = start(sample_seed());
    let run = run(&fake, &["evaluate", "--event", "-"], Some(input), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].starts_with("error: bad input: "), "{}", lines[0]);
    assert!(lines[0].contains(expected), "{} lacks {expected}", lines[0]);
    assert!(fake.calls().is_empty());
    assert!(run.stdout.is_empty());
}

fn with_invoking(invoking: Value) -> Vec<u8> {
    let mut event = event_file("change-embedded-isolated.json");
    event["invokingEvent"] = json!(invoking.to_string());
    event.to_string().into_bytes()
}

#[test]
fn malformed_events_are_refused_with_a_clear_error() {
    assert_bad_input(b"{\"invokingEvent\": ", "not valid JSON");
    assert_bad_input(b"[1, 2, 3]", "not a Config rule event");
    assert_bad_input(b"{\"resultToken\": \"t\"}", "no invokingEvent");
    let mut event = event_file("change-embedded-isolated.json");
    event["invokingEvent"] = json!("{not json");
    assert_bad_input(
        event.to_string().as_bytes(),
        "invokingEvent is not valid JSON",
    );
    assert_bad_input(
        &with_invoking(json!({"messageType": "ComplianceChangeNotification"})),
        "unsupported messageType 'ComplianceChangeNotification'",
    );
    assert_bad_input(
        &with_invoking(json!({"messageType": "ConfigurationItemChangeNotification"})),
        "configurationItem is missing",
    );
    assert_bad_input(
        &with_invoking(json!({"messageType": "ScheduledNotification"})),
        "missing notificationCreationTime",
    );
}

#[test]
fn bad_rule_parameters_are_named() {
    let mut event = event_file("change-embedded-isolated.json");
    event["ruleParameters"] = json!("{\"DescribeConcurrency\": \"lots\"}");
    assert_bad_input(
        event.to_string().as_bytes(),
        "DescribeConcurrency has an invalid value 'lots'",
    );
    event["ruleParameters"] = json!("{\"Strict\": \"true\"}");
    assert_bad_input(
        event.to_string().as_bytes(),
        "unknown rule parameter 'Strict'",
    );
}

#[test]
fn a_configuration_of_the_wrong_shape_is_refused_not_judged() {
    let mut event = event_file("change-embedded-isolated.json");
    let mut invoking: Value =
        serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
    invoking["configurationItem"]["configuration"]["MonitoringScheduleConfig"]["MonitoringJobDefinition"]
        ["NetworkConfig"]["EnableNetworkIsolation"] = json!("true");
    event["invokingEvent"] = json!(invoking.to_string());
    assert_bad_input(
        event.to_string().as_bytes(),
        "EnableNetworkIsolation: expected a boolean, found a string",
    );
}

wire_test!(
    a_missing_event_file_is_bad_input,
    sample_seed(),
    |fake, bin| {
        let run = bin.run(&["evaluate", "--event", "/nonexistent/event.json"]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr
                .contains("cannot read the event /nonexistent/event.json"),
            "{}",
            run.stderr
        );
    }
);

wire_test!(
    a_missing_event_left_scope_is_read_as_false,
    sample_seed(),
    |fake, bin| {
        let mut event = event_file("change-embedded-isolated.json");
        event.as_object_mut().unwrap().remove("eventLeftScope");
        let run = bin.dry_run(&event);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.lines()[0]["ComplianceType"], "COMPLIANT");
    }
);

wire_test!(
    audit_prints_a_table_and_json_lines_without_writing,
    sample_seed(),
    |fake, bin| {
        let table = bin.run(&["audit"]);
        assert_eq!(table.code, 3, "NON_COMPLIANT found: {}", table.stderr);
        let mut rows = table.stdout.lines();
        assert!(rows.next().unwrap().starts_with("VERDICT         SCHEDULE"));
        let hourly = table
            .stdout
            .lines()
            .find(|row| row.split_whitespace().nth(1) == Some("churn-data-quality-hourly"))
            .unwrap();
        assert!(hourly.starts_with("COMPLIANT "), "{hourly}");
        assert_eq!(table.stdout.lines().count(), 16);

        let json_run = bin.run(&["audit", "--json", "--strict"]);
        assert_eq!(json_run.code, 3, "{}", json_run.stderr);
        let lines = json_run.lines();
        assert_eq!(lines.len(), 15);
        for line in &lines {
            assert_eq!(line["AccountId"], ACCOUNT, "{line}");
            assert_eq!(line["Region"], "us-east-1", "{line}");
        }
        let bias = lines
            .iter()
            .find(|l| l["MonitoringScheduleName"] == "fraud-model-bias-weekly")
            .unwrap();
        assert_eq!(bias["ComplianceType"], "NON_COMPLIANT", "strict reading");
        assert!(fake.evaluations().is_empty());
        assert!(!fake.calls().iter().any(|c| c.operation == "PutEvaluations"));
    }
);

#[test]
fn without_a_region_the_command_says_what_to_set() {
    let fake = start(sample_seed());
    let mut command = std::process::Command::new(BINARY);
    command
        .args(["audit"])
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", fake.url());
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no AWS region is configured: set AWS_REGION"),
        "{stderr}"
    );
}

#[test]
fn every_file_in_events_is_exercised() {
    let mut covered: Vec<&str> = SAMPLES.iter().map(|(file, ..)| *file).collect();
    covered.extend(["periodic.json", "change-job-definition-created.json"]);
    // Sent to the Lambda by tests/wire/security_hub.rs.
    covered.push("periodic-security-hub.json");
    for entry in std::fs::read_dir(root().join("events")).unwrap() {
        let entry = entry.unwrap();
        // Subdirectories hold other doors' samples (check, hook), each tested where it is used.
        if entry.file_type().unwrap().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            covered.contains(&name.as_str()),
            "events/{name} has no test"
        );
    }
}

wire_test!(
    a_job_definition_change_rejudges_the_schedule_that_names_it,
    sample_seed(),
    |fake, bin| {
        let event = event_file("change-job-definition-created.json");
        let run = bin.dry_run(&event);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let lines = run.lines();
        assert_eq!(lines.len(), 2, "{}", run.stdout);
        let schedule = &lines[0];
        assert_eq!(schedule["ComplianceResourceType"], SCHEDULE_TYPE);
        assert_eq!(
            schedule["ComplianceResourceId"],
            "arn:aws:sagemaker:us-west-2:262002448484:monitoring-schedule/demo-xgb-churn-monitoring-schedule-2021-02-05-0415"
        );
        // The seed has no such job definition: the verdict comes from the item in the event.
        assert_eq!(schedule["ComplianceType"], "COMPLIANT");
        assert_eq!(schedule["OrderingTimestamp"], "2026-11-28T10:05:12.25Z");
        let definition = &lines[1];
        assert_eq!(
            definition["ComplianceResourceType"],
            "AWS::SageMaker::ModelQualityJobDefinition"
        );
        assert_eq!(definition["ComplianceType"], "NOT_APPLICABLE");
        let mut operations: Vec<String> = fake.calls().into_iter().map(|c| c.operation).collect();
        operations.sort();
        // One filtered list page and one discovery page: the summary names the job definition,
        // so the schedule is not described, and the item is the job definition's state.
        assert_eq!(
            operations,
            ["ListDiscoveredResources", "ListMonitoringSchedules"]
        );
    }
);

#[test]
fn a_job_definition_change_rejudges_its_two_schedules_and_no_others() {
    let (seed, _) = synthetic_account(200);
    let fake = start(seed);
    // jd-02 is named by the DataQuality schedules 2 and 102. The seed says it is isolated;
    // the changed item says it is not, and the item is what counts.
    let run = evaluate(
        &fake,
        &job_definition_change("DataQuality", "jd-02", "OK", Some(false)),
        false,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let delivered = delivered_by_id(&fake);
    assert_eq!(delivered.len(), 3, "{delivered:#?}");
    for name in ["schedule-00002", "schedule-00102"] {
        let evaluation = &delivered[&schedule_id(name)][0];
        assert_eq!(evaluation["ComplianceType"], "NON_COMPLIANT");
        assert!(
            evaluation["Annotation"]
                .as_str()
                .unwrap()
                .contains("DataQuality job definition 'jd-02' sets EnableNetworkIsolation=false")
        );
    }
    let definition = delivered
        .iter()
        .find(|(_, e)| e[0]["ComplianceResourceType"] == "AWS::SageMaker::DataQualityJobDefinition")
        .unwrap();
    assert_eq!(definition.1[0]["ComplianceType"], "NOT_APPLICABLE");
    let calls = fake.call_counts();
    assert_eq!(calls["ListMonitoringSchedules"], 1);
    // Their summaries name the job definition: nothing to describe.
    assert!(
        !calls.contains_key("DescribeMonitoringSchedule"),
        "{calls:?}"
    );
    assert!(
        !calls.contains_key("DescribeDataQualityJobDefinition"),
        "{calls:?}"
    );

    // Deleted: both schedules now name a job definition that does not exist.
    let fake = start(synthetic_account(200).0);
    let run = evaluate(
        &fake,
        &job_definition_change("DataQuality", "jd-02", "ResourceDeleted", None),
        false,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let delivered = delivered_by_id(&fake);
    assert_eq!(delivered.len(), 3);
    let evaluation = &delivered[&schedule_id("schedule-00102")][0];
    assert!(
        evaluation["Annotation"]
            .as_str()
            .unwrap()
            .contains("which does not exist"),
        "{evaluation}"
    );
}

wire_test!(
    items_that_are_not_recorded_are_not_applicable,
    sample_seed(),
    |fake, bin| {
        for status in ["ResourceNotRecorded", "ResourceDeletedNotRecorded"] {
            let mut event = event_file("change-deleted.json");
            let mut invoking: Value =
                serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
            invoking["configurationItem"]["configurationItemStatus"] = json!(status);
            event["invokingEvent"] = json!(invoking.to_string());
            let run = bin.evaluate(&event);
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
);

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
