//! Safe by construction: no write without consent, only the intended write, credentials that
//! never lapse, an event that cannot choose another account, and nothing sensitive in logs.

use crate::support::*;
use fake_aws::FakeAws;
use fake_aws::seed::{DEFAULT_SECRET_KEY, Seed};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Child, Stdio};
use std::time::Duration;

const B: &str = "222222222222";
const C: &str = "333333333333";
const KINDS: [&str; 4] = [
    "DataQuality",
    "ModelQuality",
    "ModelBias",
    "ModelExplainability",
];
const WAIT: Duration = Duration::from_secs(120);

fn with_params(mut event: Value, params: &str) -> Value {
    event["ruleParameters"] = json!(params);
    event
}

/// Operations that change something in the account.
fn write_calls(fake: &FakeAws) -> Vec<String> {
    fake.calls()
        .into_iter()
        .map(|call| call.operation)
        .filter(|op| op.starts_with("Create") || op.starts_with("Update") || op == "PutEvaluations")
        .collect()
}

#[test]
fn a_dry_run_never_writes_even_when_the_event_asks_for_remediation() {
    let fake = start(sample_seed());
    let change = with_params(
        event_file("change-embedded-not-isolated-vpc.json"),
        r#"{"Remediate":"true"}"#,
    );
    let run = evaluate(&fake, &change, true, &[]);
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
    let run = evaluate(&fake, &periodic, true, &[]);
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

#[test]
fn remediation_points_every_schedule_at_a_copy_of_its_own_job_definition() {
    let fake = start(remediation_account());
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
    let apply = |name: &str| {
        run(
            &fake,
            &["remediate", "--schedule", name, "--apply"],
            None,
            &[],
        )
    };
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

#[test]
fn a_copy_made_by_an_earlier_run_is_reused_when_the_schedule_points_back_at_its_source() {
    let fake = start(remediation_account());
    let apply = |name: &str| {
        run(
            &fake,
            &["remediate", "--schedule", name, "--apply"],
            None,
            &[],
        )
    };
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

/// The binary under the fake's Runtime API, its output read as it comes (a verbose log fills
/// a pipe quickly).
struct Function {
    child: Child,
    readers: Vec<std::thread::JoinHandle<String>>,
}

impl Function {
    fn start(fake: &FakeAws, env: &[(&str, &str)]) -> Function {
        let mut child = lambda_command(fake)
            .envs(env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the function starts");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let read = |mut stream: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = stream.read_to_string(&mut text);
                text
            })
        };
        Function {
            child,
            readers: vec![read(Box::new(stdout)), read(Box::new(stderr))],
        }
    }

    /// Stops the function and returns everything it wrote.
    fn output(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.readers
            .drain(..)
            .map(|reader| reader.join().unwrap_or_default())
            .collect()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn embedded_schedule(account: &str, name: &str, isolated: bool) -> Value {
    json!({
        "MonitoringScheduleArn": format!("arn:aws:sagemaker:us-east-1:{account}:monitoring-schedule/{name}"),
        "MonitoringScheduleName": name,
        "MonitoringScheduleStatus": "Scheduled",
        "MonitoringScheduleConfig": {"MonitoringJobDefinition": {"NetworkConfig": {"EnableNetworkIsolation": isolated}}},
    })
}

fn member_account(schedules: usize) -> Seed {
    let schedules: Vec<Value> = (0..schedules)
        .map(|i| embedded_schedule(B, &format!("b-{i:03}"), i % 2 == 0))
        .collect();
    Seed::from_json(&json!({"accounts": {B: {"schedules": schedules}, C: {}}}).to_string()).unwrap()
}

#[test]
fn assumed_role_credentials_are_renewed_before_they_lapse_mid_sweep() {
    let fake = start(member_account(60));
    // The first credentials last 4 s, inside the renewal buffer (10 s less the SDK's jitter of
    // up to 5 s) from the start: the first call uses them (they are live), the next renews
    // them, and the renewed set lasts an hour.
    fake.with_state(|state| state.next_lifetimes.push_back(Duration::from_secs(4)));
    let function = Function::start(&fake, &[]);
    let mut event = periodic_event(
        r#"{"ExecutionRoleName":"sm14-member-reader","DescribeConcurrency":"2"}"#,
        "token",
    );
    event["accountId"] = json!(B);
    let response = fake.invoke(&event, Duration::from_secs(300), WAIT);
    let output = function.output();
    let response = response.unwrap_or_else(|error| panic!("{error}\n{output}"));
    assert_eq!(response["delivered"], 60, "{response}");
    let assumed = fake.with_state(|state| state.assumed_roles.clone());
    assert_eq!(
        assumed.len(),
        2,
        "credentials were renewed once: {assumed:?}"
    );
    assert_eq!(
        fake.with_state(|state| state.expired_calls),
        0,
        "no call was signed with expired credentials"
    );
    assert!(
        assumed
            .iter()
            .all(|role| role == &format!("arn:aws:iam::{B}:role/sm14-member-reader")),
        "{assumed:?}"
    );
}

#[test]
fn an_execution_role_in_another_account_than_the_event_is_refused() {
    let fake = start(member_account(1));
    let function = Function::start(&fake, &[]);
    let mut event = periodic_event(r#"{"AssumeExecutionRole":"true"}"#, "token");
    event["accountId"] = json!(B);
    event["executionRoleArn"] = json!(format!("arn:aws:iam::{C}:role/config-role"));
    let error = fake
        .invoke(&event, Duration::from_secs(60), WAIT)
        .expect_err("refused");
    drop(function);
    let message = error["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains(B) && message.contains(C), "{message}");
    assert_eq!(error["errorType"], "AccountAccess", "{error}");
    assert!(fake.with_state(|state| state.assumed_roles.is_empty()));
    assert!(fake.evaluations().is_empty());
}

#[test]
fn a_role_is_never_assumed_for_an_event_without_an_account() {
    let fake = start(member_account(1));
    let function = Function::start(&fake, &[]);
    for params in [
        r#"{"AssumeExecutionRole":"true"}"#,
        r#"{"ExecutionRoleName":"sm14-member-reader"}"#,
    ] {
        let mut event = periodic_event(params, "token");
        event.as_object_mut().unwrap().remove("accountId");
        let error = fake
            .invoke(&event, Duration::from_secs(60), WAIT)
            .expect_err("refused");
        let message = error["errorMessage"].as_str().unwrap_or_default();
        assert!(message.contains("accountId"), "{params}: {message}");
    }
    drop(function);
    assert!(fake.with_state(|state| state.assumed_roles.is_empty()));
}

#[test]
fn the_role_arn_takes_the_partition_of_the_functions_own_arn() {
    let fake = start(member_account(2));
    fake.set_function_arn("arn:aws-cn:lambda:cn-north-1:123456789012:function:sm14");
    let function = Function::start(&fake, &[]);
    let mut event = periodic_event(r#"{"ExecutionRoleName":"sm14-member-reader"}"#, "token");
    event["accountId"] = json!(B);
    let response = fake.invoke(&event, Duration::from_secs(60), WAIT);
    drop(function);
    response.expect("success");
    assert_eq!(
        fake.with_state(|state| state.assumed_roles.clone()),
        [format!("arn:aws-cn:iam::{B}:role/sm14-member-reader")]
    );
}

const SECRET_TOKEN: &str = "result-token-that-must-never-be-logged-5b1e";
const CONFIGURATION_MARKER: &str = "configuration-body-marker-7f3a";

/// A change event whose token and configuration body must stay out of every log line.
fn sensitive_change() -> Value {
    let mut event = event_file("change-embedded-not-isolated-vpc.json");
    let mut invoking: Value =
        serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
    invoking["configurationItem"]["configuration"]["MonitoringScheduleConfig"]["ScheduleConfig"] =
        json!({"ScheduleExpression": CONFIGURATION_MARKER});
    event["invokingEvent"] = json!(invoking.to_string());
    event["resultToken"] = json!(SECRET_TOKEN);
    event
}

fn assert_nothing_sensitive(output: &str, secrets: &[&str]) {
    assert!(output.len() > 200, "the log was captured: {output}");
    for secret in [SECRET_TOKEN, CONFIGURATION_MARKER, DEFAULT_SECRET_KEY]
        .iter()
        .chain(secrets)
    {
        if let Some(at) = output.find(secret) {
            let start = output[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = output[at..].find('\n').map_or(output.len(), |i| at + i);
            panic!("'{secret}' appears in the log: {}", &output[start..end]);
        }
    }
}

#[test]
fn the_most_verbose_lambda_log_holds_no_token_configuration_or_credential() {
    let fake = start(member_account(3));
    issue_token(&fake, SECRET_TOKEN);
    let verbose = [("AWS_LAMBDA_LOG_LEVEL", "TRACE"), ("RUST_LOG", "trace")];
    let function = Function::start(&fake, &verbose);
    fake.invoke(&sensitive_change(), Duration::from_secs(60), WAIT)
        .expect("success");
    let mut member = periodic_event(
        r#"{"ExecutionRoleName":"sm14-member-reader"}"#,
        SECRET_TOKEN,
    );
    member["accountId"] = json!(B);
    fake.invoke(&member, Duration::from_secs(60), WAIT)
        .expect("success");
    let output = function.output();
    let (secret, token) = fake.with_state(|state| {
        let assumed = state
            .credentials
            .values()
            .find(|credential| credential.account == B)
            .expect("a role was assumed")
            .clone();
        (assumed.secret, assumed.session_token.unwrap())
    });
    assert_nothing_sensitive(&output, &[&secret, &token]);
}

#[test]
fn the_most_verbose_command_line_log_holds_no_token_or_configuration() {
    let fake = start(sample_seed());
    issue_token(&fake, SECRET_TOKEN);
    let run = evaluate(&fake, &sensitive_change(), false, &[("RUST_LOG", "trace")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_nothing_sensitive(&format!("{}{}", run.stdout, run.stderr), &[]);
    let run = run_verbose(&fake, &sensitive_change());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_nothing_sensitive(&format!("{}{}", run.stdout, run.stderr), &[]);
}

fn run_verbose(fake: &FakeAws, event: &Value) -> Run {
    run(
        fake,
        &["-vv", "evaluate", "--event", "-"],
        Some(event.to_string().as_bytes()),
        &[],
    )
}
