//! Credentials: a role's renewed before they lapse, a role assumed only in the event's own
//! account and partition, and none of them, nor a result token or a configuration, in the logs.

use crate::support::*;
use fake_aws::FakeAws;
use fake_aws::seed::{DEFAULT_SECRET_KEY, Seed};
use serde_json::{Value, json};
use std::io::Read;
use std::process::{Child, Stdio};
use std::time::Duration;

const B: &str = "222222222222";

const C: &str = "333333333333";

const WAIT: Duration = Duration::from_secs(120);

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
