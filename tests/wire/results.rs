//! Results that stay true between sweeps, and what goes beyond a verdict: job-definition
//! changes, stale results, exemptions, the job-definition rule and remediation.

use crate::support::*;
use fake_aws::faults::Faults;
use fake_aws::seed::Seed;
use serde_json::{Value, json};

fn with_params(mut event: Value, params: &str) -> Value {
    event["ruleParameters"] = json!(params);
    event
}

fn job_definition_change(kind: &str, name: &str, status: &str, isolation: Option<bool>) -> Value {
    let mut event = event_file("change-job-definition-created.json");
    let mut invoking: Value =
        serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
    let item = &mut invoking["configurationItem"];
    let arn = format!(
        "arn:aws:sagemaker:us-east-1:{ACCOUNT}:{}-job-definition/{name}",
        if kind == "DataQuality" {
            "data-quality"
        } else {
            "model-bias"
        }
    );
    item["resourceType"] = json!(format!("AWS::SageMaker::{kind}JobDefinition"));
    item["resourceId"] = json!(arn);
    item["resourceName"] = json!(name);
    item["ARN"] = json!(arn);
    item["configurationItemStatus"] = json!(status);
    item["configuration"] = match isolation {
        Some(flag) => {
            json!({"JobDefinitionName": name, "NetworkConfig": {"EnableNetworkIsolation": flag}})
        }
        None => Value::Null,
    };
    event["invokingEvent"] = json!(invoking.to_string());
    event
}

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

#[test]
fn stale_results_are_turned_not_applicable_under_their_own_types() {
    let (mut seed, expected) = synthetic_account(30);
    seed.account.results = vec![
        held(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("schedule-00003"),
            "NON_COMPLIANT",
        ),
        held(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("schedule-00005"),
            "COMPLIANT",
        ),
        held(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("deleted-last-week"),
            "NON_COMPLIANT",
        ),
        held(
            "r1",
            "AWS::SageMaker::DataQualityJobDefinition",
            "arn:aws:sagemaker:us-east-1:123456789012:data-quality-job-definition/gone",
            "NON_COMPLIANT",
        ),
        held("r1", "AWS::::Account", ACCOUNT, "NON_COMPLIANT"),
        held(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("already-not-applicable"),
            "NOT_APPLICABLE",
        ),
        held(
            "r2",
            SCHEDULE_TYPE,
            &schedule_id("another-rules-row"),
            "NON_COMPLIANT",
        ),
    ];
    let fake = start(seed);
    // schedule-00005 cannot be read: it exists, so its old result must stay.
    fake.set_faults(Faults {
        deny_resources: vec!["schedule-00005".into()],
        ..Faults::default()
    });
    let event = rule_event("r1", "{}");
    let run = evaluate(&fake, &event, false, &[]);
    assert_eq!(run.code, 1, "schedule-00005 is unjudged: {}", run.stderr);
    let delivered = delivered_by_id(&fake);
    // A schedule that is gone, and types this rule does not sweep (an old account-level row,
    // a job definition judged when the rule had another Control).
    for (resource_type, id, why) in [
        (
            SCHEDULE_TYPE,
            schedule_id("deleted-last-week"),
            "no longer exists",
        ),
        (
            "AWS::SageMaker::DataQualityJobDefinition",
            "arn:aws:sagemaker:us-east-1:123456789012:data-quality-job-definition/gone".to_owned(),
            "out of this rule's scope",
        ),
        (
            "AWS::::Account",
            ACCOUNT.to_owned(),
            "out of this rule's scope",
        ),
    ] {
        let evaluations = delivered
            .get(&id)
            .unwrap_or_else(|| panic!("{id} was not cleared"));
        assert_eq!(evaluations.len(), 1);
        assert_eq!(evaluations[0]["ComplianceResourceType"], resource_type);
        assert_eq!(evaluations[0]["ComplianceType"], "NOT_APPLICABLE");
        let annotation = evaluations[0]["Annotation"].as_str().unwrap();
        assert!(annotation.contains(why), "{annotation}");
    }
    assert_eq!(
        delivered[&schedule_id("schedule-00003")][0]["ComplianceType"],
        expected[&schedule_id("schedule-00003")]
    );
    assert!(!delivered.contains_key(&schedule_id("schedule-00005")));
    assert!(!delivered.contains_key(&schedule_id("already-not-applicable")));
    assert!(!delivered.contains_key(&schedule_id("another-rules-row")));
    assert_eq!(delivered.len(), 29 + 3);

    // A sweep that could not list everything clears nothing.
    let (mut seed, _) = synthetic_account(30);
    seed.account.results = vec![held(
        "r1",
        SCHEDULE_TYPE,
        &schedule_id("deleted-last-week"),
        "NON_COMPLIANT",
    )];
    let fake = start(seed);
    fake.set_faults(Faults {
        deny: vec!["ListMonitoringSchedules".into()],
        ..Faults::default()
    });
    let run = evaluate(&fake, &event, false, &[]);
    assert_eq!(run.code, 1);
    assert!(fake.evaluations().is_empty());
}

#[test]
fn exemptions_by_tag_and_by_name_are_reported_and_cost_no_calls_when_off() {
    let fake = start(sample_seed());
    let params = r#"{"ExemptTag":"compliance-exempt","ExemptNamePatterns":"fraud-*"}"#;
    let run = evaluate(
        &fake,
        &with_params(event_file("periodic.json"), params),
        true,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    let by_id = |name: &str| {
        lines
            .iter()
            .find(|l| l["ComplianceResourceId"] == schedule_arn(name))
            .unwrap()
            .clone()
    };
    let tagged = by_id("recsys-data-quality-open");
    assert_eq!(tagged["ComplianceType"], "NOT_APPLICABLE");
    assert!(
        tagged["Annotation"]
            .as_str()
            .unwrap()
            .contains("ExemptTag: the schedule carries the tag compliance-exempt (SEC-1234)"),
        "{tagged}"
    );
    for name in [
        "fraud-model-bias-weekly",
        "fraud-data-quality-daily",
        "fraud-model-quality-daily",
        "fraud-explainability-weekly",
    ] {
        let line = by_id(name);
        assert_eq!(line["ComplianceType"], "NOT_APPLICABLE");
        assert!(
            line["Annotation"]
                .as_str()
                .unwrap()
                .contains("matches 'fraud-*'"),
            "{line}"
        );
    }
    assert_eq!(
        by_id("churn-data-quality-hourly")["ComplianceType"],
        "COMPLIANT"
    );
    let calls = fake.call_counts();
    assert_eq!(
        calls["ListTags"], 11,
        "every schedule not exempt by name: {calls:?}"
    );
    // Of the 11, the 6 whose summary names no job definition are described; exempt ones and
    // those whose summary names their job definition are not.
    assert_eq!(calls["DescribeMonitoringSchedule"], 6, "{calls:?}");

    let fake = start(sample_seed());
    evaluate(&fake, &event_file("periodic.json"), true, &[]);
    assert!(
        !fake.call_counts().contains_key("ListTags"),
        "no exemption tag, no ListTags"
    );

    // On a change event the item's own tags decide, without a call.
    let fake = start(sample_seed());
    let event = with_params(
        event_file("change-embedded-not-isolated-vpc.json"),
        r#"{"ExemptTag":"env=staging"}"#,
    );
    let run = evaluate(&fake, &event, true, &[]);
    assert_eq!(run.lines()[0]["ComplianceType"], "NOT_APPLICABLE");
    assert!(
        run.lines()[0]["Annotation"]
            .as_str()
            .unwrap()
            .contains("tagged env=staging")
    );
    assert!(fake.calls().is_empty());
}

#[test]
fn the_job_definition_rule_judges_all_four_types() {
    let fake = start(sample_seed());
    let run = evaluate(
        &fake,
        &with_params(
            event_file("periodic.json"),
            r#"{"Control":"JobDefinitions"}"#,
        ),
        true,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    let verdict = |kind: &str, name: &str| {
        let line = lines
            .iter()
            .find(|l| {
                l["ComplianceResourceType"] == format!("AWS::SageMaker::{kind}JobDefinition")
                    && l["ComplianceResourceId"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!("/{}", name.to_lowercase()))
            })
            .unwrap_or_else(|| panic!("no evaluation for {kind} {name}: {lines:#?}"));
        line["ComplianceType"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        verdict("ModelBias", "test-c7n-mdl-bias-job-def"),
        "COMPLIANT"
    );
    assert_eq!(verdict("DataQuality", "c7n-test"), "NON_COMPLIANT");
    assert_eq!(verdict("ModelQuality", "c7n-test"), "NON_COMPLIANT");
    assert_eq!(verdict("ModelExplainability", "c7n-test"), "NON_COMPLIANT");
    assert_eq!(
        verdict("ModelQuality", "recsys-model-quality-isolated"),
        "COMPLIANT"
    );
    assert_eq!(
        verdict("ModelExplainability", "recsys-explainability-isolated"),
        "COMPLIANT"
    );
    assert_eq!(
        verdict("DataQuality", "recsys-data-quality-open"),
        "NON_COMPLIANT"
    );
    assert_eq!(lines.len(), 8);
    assert!(
        !lines
            .iter()
            .any(|l| l["ComplianceResourceType"] == SCHEDULE_TYPE)
    );
    let calls = fake.call_counts();
    for kind in [
        "DataQuality",
        "ModelQuality",
        "ModelBias",
        "ModelExplainability",
    ] {
        assert_eq!(calls[&format!("List{kind}JobDefinitions")], 1);
    }

    // Change events: a job definition is judged itself; a schedule is not this rule's.
    let fake = start(sample_seed());
    let event = with_params(
        job_definition_change("ModelBias", "open-bias", "OK", Some(false)),
        r#"{"Control":"JobDefinitions"}"#,
    );
    let run = evaluate(&fake, &event, true, &[]);
    assert_eq!(run.lines().len(), 1);
    assert_eq!(
        run.lines()[0]["ComplianceResourceType"],
        "AWS::SageMaker::ModelBiasJobDefinition"
    );
    assert_eq!(run.lines()[0]["ComplianceType"], "NON_COMPLIANT");
    let event = with_params(
        event_file("change-embedded-isolated.json"),
        r#"{"Control":"JobDefinitions"}"#,
    );
    assert_eq!(
        evaluate(&fake, &event, true, &[]).lines()[0]["ComplianceType"],
        "NOT_APPLICABLE"
    );
    let event = with_params(
        job_definition_change("DataQuality", "jd-x", "OK", Some(true)),
        r#"{"Control":"JobDefinitions","JobDefinitionTypes":"ModelBias"}"#,
    );
    assert_eq!(
        evaluate(&fake, &event, true, &[]).lines()[0]["ComplianceType"],
        "NOT_APPLICABLE"
    );
}

fn writes(fake: &fake_aws::FakeAws) -> Vec<(String, Value)> {
    fake.with_state(|state| state.writes.clone())
}

fn seeded_schedule(seed: &Seed, name: &str) -> Value {
    seed.account
        .schedules
        .iter()
        .find(|s| s["MonitoringScheduleName"] == name)
        .unwrap()
        .clone()
}

#[test]
fn remediating_an_embedded_definition_changes_only_the_flag() {
    let seed = sample_seed();
    let original = seeded_schedule(&seed, "churn-data-quality-staging");
    let fake = start(seed);
    let dry = run(
        &fake,
        &["remediate", "--schedule", "churn-data-quality-staging"],
        None,
        &[],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("would apply"), "{}", dry.stdout);
    assert!(dry.stdout.contains("UpdateMonitoringSchedule churn-data-quality-staging: MonitoringJobDefinition.NetworkConfig.EnableNetworkIsolation false -> true"), "{}", dry.stdout);
    assert!(dry.stdout.contains("VPC endpoints"), "{}", dry.stdout);
    assert!(writes(&fake).is_empty(), "a dry run writes nothing");

    let applied = run(
        &fake,
        &[
            "remediate",
            "--schedule",
            "churn-data-quality-staging",
            "--apply",
        ],
        None,
        &[],
    );
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let writes = writes(&fake);
    assert_eq!(writes.len(), 1);
    let (operation, request) = &writes[0];
    assert_eq!(operation, "UpdateMonitoringSchedule");
    let mut want = original["MonitoringScheduleConfig"].clone();
    want["MonitoringJobDefinition"]["NetworkConfig"]["EnableNetworkIsolation"] = json!(true);
    assert_eq!(
        request["MonitoringScheduleName"],
        "churn-data-quality-staging"
    );
    assert_eq!(
        request["MonitoringScheduleConfig"], want,
        "the request sends everything else unchanged"
    );
    assert_eq!(request.as_object().unwrap().len(), 2);

    let audit = run(&fake, &["audit", "--json"], None, &[]);
    let line = audit
        .lines()
        .into_iter()
        .find(|l| l["MonitoringScheduleName"] == "churn-data-quality-staging")
        .unwrap();
    assert_eq!(line["ComplianceType"], "COMPLIANT");
}

#[test]
fn remediating_a_named_definition_creates_an_isolated_copy_and_repoints_the_schedule() {
    let seed = sample_seed();
    let original = seeded_schedule(&seed, "fraud-data-quality-daily");
    let fake = start(seed);
    let dry = run(
        &fake,
        &["remediate", "--schedule", "fraud-data-quality-daily"],
        None,
        &[],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("CreateDataQualityJobDefinition c7n-test-isolated: a copy of c7n-test with NetworkConfig.EnableNetworkIsolation=true"), "{}", dry.stdout);
    assert!(
        dry.stdout
            .contains("MonitoringJobDefinitionName c7n-test -> c7n-test-isolated"),
        "{}",
        dry.stdout
    );

    let applied = run(
        &fake,
        &[
            "remediate",
            "--schedule",
            "fraud-data-quality-daily",
            "--apply",
        ],
        None,
        &[],
    );
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let writes = writes(&fake);
    assert_eq!(
        writes.iter().map(|(op, _)| op.as_str()).collect::<Vec<_>>(),
        ["CreateDataQualityJobDefinition", "UpdateMonitoringSchedule"]
    );
    let source = fixture("describe_job_definition/c7n_placebo_data_quality_no_networkconfig.json")
        ["data"]
        .clone();
    let created = &writes[0].1;
    assert_eq!(created["JobDefinitionName"], "c7n-test-isolated");
    assert_eq!(
        created["NetworkConfig"],
        json!({"EnableNetworkIsolation": true})
    );
    for member in [
        "DataQualityAppSpecification",
        "DataQualityJobInput",
        "DataQualityJobOutputConfig",
        "JobResources",
        "RoleArn",
        "StoppingCondition",
    ] {
        assert_eq!(created[member], source[member], "{member} is copied");
    }
    let mut want = original["MonitoringScheduleConfig"].clone();
    want["MonitoringJobDefinitionName"] = json!("c7n-test-isolated");
    assert_eq!(writes[1].1["MonitoringScheduleConfig"], want);

    // Idempotent: a second run finds the schedule isolated.
    let again = run(
        &fake,
        &[
            "remediate",
            "--schedule",
            "fraud-data-quality-daily",
            "--apply",
        ],
        None,
        &[],
    );
    assert!(
        again.stdout.contains("nothing to change"),
        "{}",
        again.stdout
    );
    assert_eq!(self::writes(&fake).len(), 2);
}

#[test]
fn the_lambda_remediates_only_when_the_parameter_says_so() {
    let fake = start(sample_seed());
    evaluate(
        &fake,
        &event_file("change-embedded-not-isolated-vpc.json"),
        false,
        &[],
    );
    assert!(writes(&fake).is_empty());
    let event = with_params(
        event_file("change-embedded-not-isolated-vpc.json"),
        r#"{"Remediate":"true"}"#,
    );
    let run = evaluate(&fake, &event, false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        fake.evaluations().last().unwrap().evaluation["ComplianceType"],
        "NON_COMPLIANT"
    );
    let writes = writes(&fake);
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].0, "UpdateMonitoringSchedule");
}

#[test]
fn a_rule_name_longer_than_config_reads_back_is_named_with_the_limit() {
    // A rule may be named with 128 characters; Config's GetComplianceDetailsByConfigRule takes
    // at most 64, so such a rule's held results cannot be read at all.
    let rule = "r".repeat(65);
    let fake = start(sample_seed());
    let run = evaluate(&fake, &rule_event(&rule, "{}"), false, &[]);
    assert_eq!(
        run.code, 0,
        "the sweep still judges and delivers: {}",
        run.stderr
    );
    assert!(!fake.evaluations().is_empty());
    let said: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("64 characters"))
        .collect();
    assert_eq!(said.len(), 1, "one line names the limit: {}", run.stderr);
    for consequence in ["every verdict is reported again", "never cleared"] {
        assert!(said[0].contains(consequence), "{}", said[0]);
    }
    assert_eq!(
        served(&fake).get("GetComplianceDetailsByConfigRule"),
        None,
        "a read Config must refuse is not sent"
    );
}
