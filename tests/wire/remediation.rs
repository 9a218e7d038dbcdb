//! Remediation over the wire: the dry run, consent, and the exact requests `--apply` sends.

use crate::support::*;
use fake_aws::FakeAws;
use fake_aws::seed::Seed;
use serde_json::{Value, json};
use std::collections::BTreeMap;

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

/// `remediate --schedule NAME`, a dry run unless `apply`.
fn remediate(fake: &FakeAws, schedule: &str, apply: bool) -> Run {
    let mut args = vec!["remediate", "--schedule", schedule];
    if apply {
        args.push("--apply");
    }
    run(fake, &args, None, &[])
}

#[test]
fn remediating_an_embedded_definition_changes_only_the_flag() {
    let seed = sample_seed();
    let original = seeded_schedule(&seed, "churn-data-quality-staging");
    let fake = start(seed);
    let dry = remediate(&fake, "churn-data-quality-staging", false);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("would apply"), "{}", dry.stdout);
    assert!(dry.stdout.contains("UpdateMonitoringSchedule churn-data-quality-staging: MonitoringJobDefinition.NetworkConfig.EnableNetworkIsolation false -> true"), "{}", dry.stdout);
    assert!(dry.stdout.contains("VPC endpoints"), "{}", dry.stdout);
    assert!(writes(&fake).is_empty(), "a dry run writes nothing");

    let applied = remediate(&fake, "churn-data-quality-staging", true);
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
    let dry = remediate(&fake, "fraud-data-quality-daily", false);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("CreateDataQualityJobDefinition c7n-test-isolated: a copy of c7n-test with NetworkConfig.EnableNetworkIsolation=true"), "{}", dry.stdout);
    assert!(
        dry.stdout
            .contains("MonitoringJobDefinitionName c7n-test -> c7n-test-isolated"),
        "{}",
        dry.stdout
    );

    let applied = remediate(&fake, "fraud-data-quality-daily", true);
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
    let again = remediate(&fake, "fraud-data-quality-daily", true);
    assert!(
        again.stdout.contains("nothing to change"),
        "{}",
        again.stdout
    );
    assert_eq!(self::writes(&fake).len(), 2);
}

wire_test!(
    the_lambda_remediates_only_when_the_parameter_says_so,
    sample_seed(),
    |fake, bin| {
        bin.evaluate(&event_file("change-embedded-not-isolated-vpc.json"));
        assert!(writes(&fake).is_empty());
        let event = with_params(
            event_file("change-embedded-not-isolated-vpc.json"),
            r#"{"Remediate":"true"}"#,
        );
        let run = bin.evaluate(&event);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            fake.evaluations().last().unwrap().evaluation["ComplianceType"],
            "NON_COMPLIANT"
        );
        let writes = writes(&fake);
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].0, "UpdateMonitoringSchedule");
    }
);

const KINDS: [&str; 4] = [
    "DataQuality",
    "ModelQuality",
    "ModelBias",
    "ModelExplainability",
];

/// Operations that change something in the account.
fn write_calls(fake: &FakeAws) -> Vec<String> {
    fake.calls()
        .into_iter()
        .map(|call| call.operation)
        .filter(|op| op.starts_with("Create") || op.starts_with("Update") || op == "PutEvaluations")
        .collect()
}

wire_test!(
    a_dry_run_never_writes_even_when_the_event_asks_for_remediation,
    sample_seed(),
    |fake, bin| {
        let change = with_params(
            event_file("change-embedded-not-isolated-vpc.json"),
            r#"{"Remediate":"true"}"#,
        );
        let run = bin.dry_run(&change);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.lines()[0]["ComplianceType"], "NON_COMPLIANT");
        assert!(
            run.stderr
                .contains("would remediate churn-data-quality-staging"),
            "the dry run says what it would have fixed: {}",
            run.stderr
        );
        // The sample account has schedules whose job definitions do not exist: their fix cannot be
        // planned, and the run says so (exit 1); every other fix is planned, none made.
        let periodic = periodic_event(r#"{"Remediate":"true"}"#, "token");
        let run = bin.dry_run(&periodic);
        assert!(run.lines().len() > 10, "{}", run.stdout);
        let planned = run.stderr.matches("would remediate ").count();
        assert!(planned >= 5, "{}", run.stderr);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("remediation(s) failed"),
            "{}",
            run.stderr
        );
        assert_eq!(write_calls(&fake), Vec::<String>::new());
        assert!(fake.with_state(|state| state.writes.is_empty()));
    }
);

/// A complete job definition of `kind`, as Describe returns it and Create takes it.
fn job_definition(kind: &str, name: &str, isolated: bool, role: &str) -> Value {
    let segment = match kind {
        "DataQuality" => "data-quality",
        "ModelQuality" => "model-quality",
        "ModelBias" => "model-bias",
        _ => "model-explainability",
    };
    let mut app =
        json!({"ImageUri": format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{segment}:1")});
    let mut input = json!({"EndpointInput": {"EndpointName": "churn", "LocalPath": "/opt/ml/processing/input"}});
    match kind {
        "ModelQuality" => {
            app["ProblemType"] = json!("BinaryClassification");
            input["GroundTruthS3Input"] = json!({"S3Uri": "s3://bucket/ground-truth"});
        }
        "ModelBias" => {
            app["ConfigUri"] = json!("s3://bucket/analysis_config.json");
            input["GroundTruthS3Input"] = json!({"S3Uri": "s3://bucket/ground-truth"});
        }
        "ModelExplainability" => app["ConfigUri"] = json!("s3://bucket/analysis_config.json"),
        _ => {}
    }
    json!({
        "MonitoringType": kind,
        "JobDefinitionName": name,
        "JobDefinitionArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:{segment}-job-definition/{}", name.to_lowercase()),
        "CreationTime": 1_793_000_000,
        "RoleArn": role,
        format!("{kind}AppSpecification"): app,
        format!("{kind}JobInput"): input,
        format!("{kind}JobOutputConfig"): {"MonitoringOutputs": [{"S3Output": {"S3Uri": "s3://bucket/out", "LocalPath": "/opt/ml/processing/output"}}]},
        "JobResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
        "NetworkConfig": {"EnableNetworkIsolation": isolated, "EnableInterContainerTrafficEncryption": true},
    })
}

fn naming_schedule(name: &str, kind: &str, job_definition: &str) -> Value {
    json!({
        "MonitoringScheduleArn": schedule_arn(name),
        "MonitoringScheduleName": name,
        "MonitoringScheduleStatus": "Scheduled",
        "MonitoringType": kind,
        "MonitoringScheduleConfig": {
            "MonitoringJobDefinitionName": job_definition,
            "MonitoringType": kind,
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}
        }
    })
}

/// Two names that share their first 55 characters (SageMaker allows 63).
fn long_names(kind: &str) -> [String; 2] {
    let stem: String = format!("{kind}-churn-model-monitoring-job-definition-production-")
        .chars()
        .chain(std::iter::repeat('x'))
        .take(55)
        .collect();
    [format!("{stem}-1"), format!("{stem}-2")]
}

const OWN_ROLE: &str = "arn:aws:iam::123456789012:role/monitoring";

const FOREIGN_ROLE: &str = "arn:aws:iam::123456789012:role/someone-else";

fn remediation_account() -> Seed {
    let mut schedules = Vec::new();
    let mut definitions = Vec::new();
    for kind in KINDS {
        for (index, name) in long_names(kind).iter().enumerate() {
            definitions.push(job_definition(kind, name, false, OWN_ROLE));
            schedules.push(naming_schedule(&format!("{kind}-long-{index}"), kind, name));
        }
        let short = format!("{kind}-short");
        definitions.push(job_definition(kind, &short, false, OWN_ROLE));
        // Someone else's isolated definition under the name a copy of `short` would take.
        definitions.push(job_definition(
            kind,
            &format!("{short}-isolated"),
            true,
            FOREIGN_ROLE,
        ));
        schedules.push(naming_schedule(&format!("{kind}-short"), kind, &short));
    }
    Seed::from_json(&json!({"schedules": schedules, "job_definitions": definitions}).to_string())
        .unwrap()
}

/// Every member that defines what the job does: all but the name, ARN, creation time and the
/// isolation flag.
fn substance(definition: &Value) -> Value {
    let mut definition = definition.clone();
    let object = definition.as_object_mut().unwrap();
    for member in ["JobDefinitionName", "JobDefinitionArn", "CreationTime"] {
        object.remove(member);
    }
    object
        .get_mut("NetworkConfig")
        .and_then(Value::as_object_mut)
        .map(|network| network.remove("EnableNetworkIsolation"));
    definition
}

wire_test!(
    remediation_points_every_schedule_at_a_copy_of_its_own_job_definition,
    remediation_account(),
    |fake, bin| {
        let schedule_names: Vec<String> = KINDS
            .iter()
            .flat_map(|kind| {
                [
                    format!("{kind}-long-0"),
                    format!("{kind}-long-1"),
                    format!("{kind}-short"),
                ]
            })
            .collect();
        let apply = |name: &str| bin.run(&["remediate", "--schedule", name, "--apply"]);
        for name in &schedule_names {
            let run = apply(name);
            assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        }
        let (schedules, definitions) = fake.with_state(|state| {
            let account = state.account(ACCOUNT);
            (account.schedules.clone(), account.job_definitions.clone())
        });
        let mut copies_used = BTreeMap::new();
        for kind in KINDS {
            let sources = [
                long_names(kind)[0].clone(),
                long_names(kind)[1].clone(),
                format!("{kind}-short"),
            ];
            let schedules_of_kind = [
                format!("{kind}-long-0"),
                format!("{kind}-long-1"),
                format!("{kind}-short"),
            ];
            for (schedule, source) in schedules_of_kind.iter().zip(&sources) {
                let named =
                    schedules[schedule]["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                assert!(named.len() <= 63, "{named} is too long for SageMaker");
                assert_ne!(&named, source, "{schedule} still names its source");
                let copy = &definitions[&(kind.to_owned(), named.clone())];
                let original = &definitions[&(kind.to_owned(), source.clone())];
                assert_eq!(copy["NetworkConfig"]["EnableNetworkIsolation"], true);
                assert_eq!(
                    substance(copy),
                    substance(original),
                    "{schedule} must run a copy of {source}, not {named}"
                );
                assert!(
                    copies_used
                        .insert((kind, named.clone()), schedule.clone())
                        .is_none(),
                    "two schedules share the copy {named}"
                );
            }
            let foreign = &definitions[&(kind.to_owned(), format!("{kind}-short-isolated"))];
            assert_eq!(
                foreign["RoleArn"], FOREIGN_ROLE,
                "the foreign definition is untouched"
            );
        }
        // A second run changes nothing.
        let writes_before = write_calls(&fake).len();
        for name in &schedule_names {
            let run = apply(name);
            assert_eq!(run.code, 0, "{name}: {}", run.stderr);
            assert!(run.stdout.contains("nothing to change"), "{}", run.stdout);
        }
        assert_eq!(write_calls(&fake).len(), writes_before);
    }
);

wire_test!(
    a_copy_made_by_an_earlier_run_is_reused_when_the_schedule_points_back_at_its_source,
    remediation_account(),
    |fake, bin| {
        let apply = |name: &str| bin.run(&["remediate", "--schedule", name, "--apply"]);
        for kind in KINDS {
            let schedule = format!("{kind}-long-0");
            assert_eq!(apply(&schedule).code, 0);
            let copy = fake.with_state(|state| {
            state.account(ACCOUNT).schedules[&schedule]["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"].clone()
        });
            // Someone points the schedule back at the original; the fix reuses the copy.
            fake.with_state(|state| {
            state.account(ACCOUNT).schedules.get_mut(&schedule).unwrap()["MonitoringScheduleConfig"]
                ["MonitoringJobDefinitionName"] = json!(long_names(kind)[0]);
        });
            let creates_before = write_calls(&fake)
                .iter()
                .filter(|op| op.starts_with("Create"))
                .count();
            let again = apply(&schedule);
            assert_eq!(again.code, 0, "{}", again.stderr);
            assert!(again.stdout.contains("reuse"), "{}", again.stdout);
            let creates_after = write_calls(&fake)
                .iter()
                .filter(|op| op.starts_with("Create"))
                .count();
            assert_eq!(creates_after, creates_before, "{kind}: no second copy");
            let named = fake.with_state(|state| {
            state.account(ACCOUNT).schedules[&schedule]["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"].clone()
        });
            assert_eq!(named, copy);
        }
    }
);
