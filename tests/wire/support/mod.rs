//! Shared by the wire-level tests: start the local fake, run the real binary against it, and
//! build synthetic accounts whose expected verdicts the test knows independently of the code.
#![allow(dead_code, unused_macros)]

#[macro_use]
mod macros;
mod binary;

// The benches and tests/repo include this module and run the binary without it.
#[allow(unused_imports)]
pub use binary::Binary;

use fake_aws::FakeAws;
use fake_aws::seed::Seed;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

pub const BINARY: &str = env!("CARGO_BIN_EXE_monitoring-schedule-isolation");
pub const ACCOUNT: &str = "123456789012";
pub const SCHEDULE_TYPE: &str = "AWS::SageMaker::MonitoringSchedule";

/// The commit the binary says it was built from: the one the build was given (cargo builds the
/// tests and the binary with the same environment), or `unknown`.
pub fn built_from() -> &'static str {
    match option_env!("MONITORING_SCHEDULE_ISOLATION_COMMIT") {
        Some(commit) if !commit.is_empty() => commit,
        _ => "unknown",
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample_seed() -> Seed {
    let text = std::fs::read_to_string(root().join("fake/sample-account.json")).unwrap();
    Seed::from_json(&text).unwrap()
}

pub fn start(seed: Seed) -> FakeAws {
    FakeAws::start(seed).expect("the fake starts")
}

/// The environment a deployed function or a shell would have, pointed at the fake.
pub fn aws_env(fake: &FakeAws) -> Vec<(String, String)> {
    fake.client_env()
}

/// The binary as Lambda starts it: `AWS_LAMBDA_RUNTIME_API` pointing at the fake's Runtime API,
/// with the environment Lambda sets. Output goes nowhere unless the caller says otherwise.
pub fn lambda_command(fake: &FakeAws) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .envs(fake.lambda_env("monitoring-schedule-isolation"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// The binary running as Lambda runs it, its log stream (stdout) kept; stopped when dropped.
pub struct Function {
    child: Child,
}

impl Function {
    pub fn start(fake: &FakeAws) -> Function {
        let child = lambda_command(fake)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the function starts");
        Function { child }
    }

    /// Stops the function and returns what it wrote to stdout (its CloudWatch log stream).
    pub fn logs(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            stdout.read_to_string(&mut out).unwrap();
        }
        let _ = self.child.wait();
        out.lines().map(str::to_owned).collect()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON lines on stdout.
    pub fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }
}

/// Runs the real binary with the fake's environment, plus `extra`.
pub fn run(fake: &FakeAws, args: &[&str], stdin: Option<&[u8]>, extra: &[(&str, &str)]) -> Run {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(aws_env(fake))
        .envs(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// `evaluate --event -` with the event on stdin.
pub fn evaluate(fake: &FakeAws, event: &Value, dry_run: bool, extra: &[(&str, &str)]) -> Run {
    let mut args = vec!["evaluate", "--event", "-"];
    if dry_run {
        args.push("--dry-run");
    }
    run(fake, &args, Some(event.to_string().as_bytes()), extra)
}

/// Makes the fake's Config take `token` as one it issued.
pub fn issue_token(fake: &FakeAws, token: &str) {
    fake.with_state(|state| state.result_tokens.insert(token.to_owned(), String::new()));
}

pub fn event_file(name: &str) -> Value {
    let path = root().join("events").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

pub fn periodic_event(params: &str, token: &str) -> Value {
    json!({
        "version": "1.0",
        "invokingEvent": json!({
            "awsAccountId": ACCOUNT,
            "notificationCreationTime": "2026-11-28T10:00:00.000Z",
            "messageType": "ScheduledNotification",
            "recordVersion": "1.0"
        }).to_string(),
        "ruleParameters": params,
        "resultToken": token,
        "eventLeftScope": false,
        "executionRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/config-role"),
        "configRuleArn": format!("arn:aws:config:us-east-1:{ACCOUNT}:config-rule/config-rule-sm14ab"),
        "configRuleName": "sagemaker-monitoring-schedule-isolation",
        "configRuleId": "config-rule-sm14ab",
        "accountId": ACCOUNT
    })
}

/// A periodic event of the Config rule `rule`, with a result token the fake issued for it.
pub fn rule_event(rule: &str, params: &str) -> Value {
    let mut event = periodic_event(params, &format!("fake-token:{rule}"));
    event["configRuleName"] = json!(rule);
    event
}

/// A result Config holds for `rule` (what GetComplianceDetailsByConfigRule answers), as the
/// fake's seed takes it.
pub fn held(rule: &str, resource_type: &str, id: &str, compliance: &str) -> Value {
    json!({"ConfigRuleName": rule, "ResourceType": resource_type, "ResourceId": id, "ComplianceType": compliance})
}

/// The id the fake's Config records a schedule under: not its ARN, so a result reported under
/// the ARN where Config's id belongs is caught (the sample account uses ARNs, as AWS does).
pub fn schedule_id(name: &str) -> String {
    fake_aws::config::config_id(SCHEDULE_TYPE, name)
}

/// The schedule a Config id of [`schedule_id`] names.
pub fn name_of(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

pub fn schedule_arn(name: &str) -> String {
    format!(
        "arn:aws:sagemaker:us-east-1:{ACCOUNT}:monitoring-schedule/{}",
        name.to_lowercase()
    )
}

/// A synthetic account of `count` schedules in four shapes. The same job definition names exist
/// as DataQuality and ModelBias definitions with opposite settings, so resolving by the wrong
/// type gives the wrong verdict. Returns the seed and each schedule's expected compliance, by
/// the id Config records it under ([`schedule_id`]).
pub fn synthetic_account(count: usize) -> (Seed, BTreeMap<String, &'static str>) {
    let shared_names = 50;
    let mut schedules = Vec::new();
    let mut expected = BTreeMap::new();
    for i in 0..count {
        let name = format!("schedule-{i:05}");
        let config = match i % 4 {
            0 => {
                json!({"MonitoringJobDefinition": {"NetworkConfig": {"EnableNetworkIsolation": true}}, "MonitoringType": "DataQuality"})
            }
            1 => {
                json!({"MonitoringJobDefinition": {"NetworkConfig": {"EnableNetworkIsolation": false, "VpcConfig": {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}}}, "MonitoringType": "DataQuality"})
            }
            2 => {
                json!({"MonitoringJobDefinitionName": format!("jd-{:02}", i % shared_names), "MonitoringType": "DataQuality"})
            }
            _ => {
                json!({"MonitoringJobDefinitionName": format!("jd-{:02}", i % shared_names), "MonitoringType": "ModelBias"})
            }
        };
        let verdict = match i % 4 {
            0 => "COMPLIANT",
            1 => "NON_COMPLIANT",
            // DataQuality jd-k is isolated when k is even, ModelBias jd-k when k is odd.
            2 if (i % shared_names) % 2 == 0 => "COMPLIANT",
            3 if (i % shared_names) % 2 == 1 => "COMPLIANT",
            _ => "NON_COMPLIANT",
        };
        expected.insert(schedule_id(&name), verdict);
        schedules.push(json!({
            "MonitoringScheduleArn": schedule_arn(&name),
            "MonitoringScheduleName": name,
            "MonitoringScheduleStatus": "Scheduled",
            "CreationTime": 1_793_000_000 + i,
            "LastModifiedTime": 1_793_000_000 + i,
            "MonitoringScheduleConfig": config,
        }));
    }
    let mut job_definitions = Vec::new();
    for k in 0..shared_names {
        for (kind, isolated) in [("DataQuality", k % 2 == 0), ("ModelBias", k % 2 == 1)] {
            job_definitions.push(json!({
                "MonitoringType": kind,
                "JobDefinitionName": format!("jd-{k:02}"),
                "JobDefinitionArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:{}-job-definition/jd-{k:02}",
                    if kind == "DataQuality" { "data-quality" } else { "model-bias" }),
                "CreationTime": 1_793_000_000,
                "RoleArn": format!("arn:aws:iam::{ACCOUNT}:role/monitor"),
                "NetworkConfig": {"EnableNetworkIsolation": isolated},
            }));
        }
    }
    let seed = Seed::from_json(
        &json!({"schedules": schedules, "job_definitions": job_definitions}).to_string(),
    )
    .unwrap();
    (seed, expected)
}

/// Evaluations the fake accepted, by resource id.
pub fn delivered_by_id(fake: &FakeAws) -> BTreeMap<String, Vec<Value>> {
    let mut by_id: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for recorded in fake.evaluations() {
        let id = recorded.evaluation["ComplianceResourceId"]
            .as_str()
            .unwrap()
            .to_owned();
        by_id.entry(id).or_default().push(recorded.evaluation);
    }
    by_id
}

pub fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join("tests/fixtures").join(path)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A synthetic account of `count` schedules swept once through `evaluate` with these faults,
/// rule parameters and environment: the fake afterwards, what each schedule should get, and
/// the run.
pub struct Swept {
    pub fake: FakeAws,
    pub expected: BTreeMap<String, &'static str>,
    pub run: Run,
}

pub fn sweep(
    count: usize,
    faults: fake_aws::faults::Faults,
    params: &str,
    env: &[(&str, &str)],
) -> Swept {
    let (seed, expected) = synthetic_account(count);
    let fake = start(seed);
    fake.set_faults(faults);
    let run = evaluate(&fake, &periodic_event(params, "token"), false, env);
    Swept {
        fake,
        expected,
        run,
    }
}

/// Every expected schedule delivered exactly once, with its verdict, under the schedule type
/// and the notification time.
pub fn assert_exactly_one_correct(fake: &FakeAws, expected: &BTreeMap<String, &str>) {
    let delivered = delivered_by_id(fake);
    assert_eq!(
        delivered.len(),
        expected.len(),
        "every schedule gets an evaluation"
    );
    for (id, evaluations) in &delivered {
        assert_eq!(
            evaluations.len(),
            1,
            "{id} was delivered {} times",
            evaluations.len()
        );
        let want = expected
            .get(id)
            .unwrap_or_else(|| panic!("unexpected resource {id}"));
        assert_eq!(
            evaluations[0]["ComplianceType"], *want,
            "{id}: {}",
            evaluations[0]["Annotation"]
        );
        assert_eq!(evaluations[0]["ComplianceResourceType"], SCHEDULE_TYPE);
        assert_eq!(evaluations[0]["OrderingTimestamp"], 1_795_860_000.0);
    }
}

/// Calls that reached their handler (not answered by an injected fault), per operation.
pub fn served(fake: &FakeAws) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for call in fake
        .calls()
        .into_iter()
        .filter(|call| call.injected == fake_aws::faults::Injected::None)
    {
        *counts.entry(call.operation).or_default() += 1;
    }
    counts
}

/// Calls the fake answered with `fault`.
pub fn injected(fake: &FakeAws, fault: fake_aws::faults::Injected) -> usize {
    fake.calls().iter().filter(|c| c.injected == fault).count()
}

/// Asserts that `text` (a command's stdout or stderr) cannot drive a terminal or a CI log: no
/// byte below 0x20 but the line break (so no ESC), no DEL, C1 or bidirectional control, and
/// no line that GitHub Actions would run as a workflow command (`::`, after leading blanks).
pub fn assert_inert(text: &str, what: &str) {
    if let Some(byte) = text.bytes().find(|b| *b < 0x20 && *b != b'\n') {
        panic!("{what}: byte {byte:#04x} in {text:?}");
    }
    if let Some(c) = text.chars().find(|c| {
        ('\u{7f}'..='\u{9f}').contains(c)
            || ('\u{202a}'..='\u{202e}').contains(c)
            || ('\u{2066}'..='\u{2069}').contains(c)
    }) {
        panic!("{what}: {:?} in {text:?}", c);
    }
    if let Some(line) = text.lines().find(|l| l.trim_start().starts_with("::")) {
        panic!("{what}: a workflow command line {line:?}");
    }
}

pub fn with_params(mut event: Value, params: &str) -> Value {
    event["ruleParameters"] = json!(params);
    event
}

pub fn job_definition_change(
    kind: &str,
    name: &str,
    status: &str,
    isolation: Option<bool>,
) -> Value {
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

/// A held result with its annotation and the time Config recorded it.
pub fn held_recorded(rule: &str, resource_type: &str, id: &str, compliance: &str) -> Value {
    let mut result = held(rule, resource_type, id, compliance);
    result["Annotation"] = json!("held");
    result["ResultRecordedTime"] = json!(1_795_000_000);
    result
}

/// A schedule with its job definition embedded, isolated or not.
pub fn embedded(name: &str, isolated: bool) -> Value {
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

/// The Config rule a test's sweeps report under.
pub const RULE: &str = "r1";

/// Evaluations the fake accepted from the `count` most recent PutEvaluations calls on, by id.
pub fn reported_since(fake: &FakeAws, before: usize) -> BTreeMap<String, Value> {
    fake.evaluations()
        .into_iter()
        .skip(before)
        .map(|recorded| {
            let id = recorded.evaluation["ComplianceResourceId"]
                .as_str()
                .unwrap()
                .to_owned();
            (id, recorded.evaluation)
        })
        .collect()
}
