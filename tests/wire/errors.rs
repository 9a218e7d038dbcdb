//! An AWS error reaches a person as the operation, AWS's error code and message, and the request
//! id to quote to AWS Support: never as the SDK's `Debug` of the whole HTTP response. Through
//! the real binary, on the command line (its stderr) and under the Lambda runtime (its error
//! result and its log).

use crate::support::*;
use fake_aws::FakeAws;
use fake_aws::faults::Faults;
use serde_json::{Value, json};
use std::time::Duration;

const MEMBER: &str = "222222222222";
const ROLE: &str = "sm14-member-reader";

/// What the SDK's `Debug` of an error shows and a person should never have to read.
const DUMPS: [&str; 7] = [
    "ServiceError",
    "Extensions",
    "SdkBody",
    "Response {",
    "raw:",
    "ErrorMetadata {",
    "Unhandled(",
];

/// `text` names the failed call by its operation, AWS's code and message, and the request id
/// the fake answered that call with; and holds no dump.
fn assert_readable(text: &str, fake: &FakeAws, operation: &str, code: &str, message: &str) {
    let request_id = fake
        .calls()
        .into_iter()
        .rev()
        .find(|call| call.operation == operation)
        .unwrap_or_else(|| panic!("{operation} reached the fake"))
        .request_id;
    let request_id = format!("(request id {request_id})");
    for part in [operation, code, message, &request_id] {
        assert!(text.contains(part), "{part:?} missing from:\n{text}");
    }
    for dump in DUMPS {
        assert!(!text.contains(dump), "{dump:?} in:\n{text}");
    }
}

fn schedule(account: &str, name: &str) -> Value {
    json!({
        "MonitoringScheduleArn": format!("arn:aws:sagemaker:us-east-1:{account}:monitoring-schedule/{name}"),
        "MonitoringScheduleName": name,
        "MonitoringScheduleConfig": {"MonitoringJobDefinition": {"NetworkConfig": {"EnableNetworkIsolation": true}}},
    })
}

/// The caller's account and a member account, one schedule each.
fn fake() -> FakeAws {
    let seed = json!({
        "schedules": [schedule(ACCOUNT, "own-schedule")],
        "accounts": {MEMBER: {"schedules": [schedule(MEMBER, "member-schedule")]}},
    });
    start(fake_aws::seed::Seed::from_json(&seed.to_string()).unwrap())
}

fn member_event() -> Value {
    let mut event = periodic_event(&json!({"ExecutionRoleName": ROLE}).to_string(), "token");
    event["accountId"] = json!(MEMBER);
    event
}

fn deny_role(fake: &FakeAws) {
    let role = format!("arn:aws:iam::{MEMBER}:role/{ROLE}");
    fake.with_state(|state| state.denied_roles.push(role));
}

fn deny(faults: Faults) -> impl Fn(&FakeAws) {
    move |fake| fake.set_faults(faults.clone())
}

/// An AWS call refused, and how its refusal must read.
struct Refusal {
    refuse: Box<dyn Fn(&FakeAws)>,
    event: Value,
    operation: &'static str,
    code: &'static str,
    message: &'static str,
    /// Only the command line makes this call (the Lambda knows its partition from its ARN).
    command_line_only: bool,
}

fn refusals() -> Vec<Refusal> {
    let denied = |operation: &str| Faults {
        deny: vec![operation.into()],
        ..Faults::default()
    };
    vec![
        Refusal {
            refuse: Box::new(deny_role),
            event: member_event(),
            operation: "AssumeRole",
            code: "AccessDenied",
            message: "is not authorized to perform: sts:AssumeRole on resource",
            command_line_only: false,
        },
        Refusal {
            refuse: Box::new(deny(denied("GetCallerIdentity"))),
            event: member_event(),
            operation: "GetCallerIdentity",
            code: "AccessDenied",
            message: "is not authorized to perform: GetCallerIdentity",
            command_line_only: true,
        },
        Refusal {
            refuse: Box::new(deny(Faults {
                deny_resources: vec!["own-schedule".into()],
                ..Faults::default()
            })),
            event: periodic_event("{}", "token"),
            operation: "DescribeMonitoringSchedule",
            code: "AccessDeniedException",
            message: "not authorized to perform: sagemaker:DescribeMonitoringSchedule on resource own-schedule",
            command_line_only: false,
        },
        Refusal {
            refuse: Box::new(deny(denied("PutEvaluations"))),
            event: periodic_event("{}", "token"),
            operation: "PutEvaluations",
            code: "AccessDeniedException",
            message: "is not authorized to perform: PutEvaluations",
            command_line_only: false,
        },
    ]
}

#[test]
fn the_command_line_shows_aws_errors_readably() {
    for refusal in refusals() {
        let fake = fake();
        (refusal.refuse)(&fake);
        let run = evaluate(&fake, &refusal.event, false, &[]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let Refusal {
            operation,
            code,
            message,
            ..
        } = refusal;
        assert_readable(&run.stderr, &fake, operation, code, message);
    }
}

#[test]
fn audit_names_an_account_it_cannot_enter_readably_and_reads_the_rest() {
    let fake = fake();
    deny_role(&fake);
    let accounts = format!("{ACCOUNT},{MEMBER}");
    let audit = run(
        &fake,
        &["audit", "--accounts", &accounts, "--role", ROLE],
        None,
        &[],
    );
    assert_eq!(audit.code, 1, "{}\n{}", audit.stdout, audit.stderr);
    assert!(audit.stdout.contains("own-schedule"), "{}", audit.stdout);
    let refusal = &refusals()[0];
    assert_readable(
        &audit.stdout,
        &fake,
        refusal.operation,
        refusal.code,
        refusal.message,
    );
}

#[test]
fn the_lambda_shows_aws_errors_readably_in_its_error_and_its_log() {
    for refusal in refusals().into_iter().filter(|r| !r.command_line_only) {
        let fake = fake();
        (refusal.refuse)(&fake);
        let function = Function::start(&fake);
        let error = fake
            .invoke(
                &refusal.event,
                Duration::from_secs(30),
                Duration::from_secs(60),
            )
            .expect_err("the invocation fails");
        let logs = function.logs().join("\n");
        for text in [error["errorMessage"].as_str().unwrap(), &logs] {
            assert_readable(
                text,
                &fake,
                refusal.operation,
                refusal.code,
                refusal.message,
            );
        }
    }
}
