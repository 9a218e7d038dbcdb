//! One function for a whole organization: assuming a role in each event's account, with
//! credentials the fake's STS hands out and its SigV4 check holds every later call to.

use crate::support::*;
use fake_aws::faults::Faults;
use fake_aws::seed::{DEFAULT_ACCESS_KEY, Seed};
use serde_json::{Value, json};
use std::process::Child;
use std::time::Duration;

const B: &str = "222222222222";
const C: &str = "333333333333";

fn schedule(account: &str, name: &str, isolated: bool) -> Value {
    json!({
        "MonitoringScheduleArn": format!("arn:aws:sagemaker:us-east-1:{account}:monitoring-schedule/{name}"),
        "MonitoringScheduleName": name,
        "MonitoringScheduleStatus": "Scheduled",
        "MonitoringScheduleConfig": {"MonitoringJobDefinition": {"NetworkConfig": {"EnableNetworkIsolation": isolated}}},
    })
}

fn organization() -> Seed {
    Seed::from_json(
        &json!({
            "schedules": [schedule(ACCOUNT, "management-schedule", true)],
            "accounts": {
                B: {"schedules": [schedule(B, "b-isolated", true), schedule(B, "b-open", false)]},
                C: {"schedules": [schedule(C, "c-open", false)]},
            }
        })
        .to_string(),
    )
    .unwrap()
}

fn member_event(account: &str) -> Value {
    let mut event = periodic_event(r#"{"ExecutionRoleName":"sm14-member-reader"}"#, "token");
    event["accountId"] = json!(account);
    event
}

fn role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/sm14-member-reader")
}

struct Function(Child);

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn function(fake: &fake_aws::FakeAws) -> Function {
    Function(lambda_command(fake).spawn().unwrap())
}

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn two_member_accounts_interleaved_in_one_warm_function_use_their_own_credentials() {
    let fake = start(organization());
    let _function = function(&fake);
    for account in [B, C, B, ACCOUNT] {
        let event = if account == ACCOUNT {
            periodic_event("{}", "token")
        } else {
            member_event(account)
        };
        let response = fake
            .invoke(&event, Duration::from_secs(60), WAIT)
            .expect("success");
        let expected = match account {
            B => json!({"compliant": 1, "nonCompliant": 1, "notApplicable": 0, "delivered": 2}),
            C => json!({"compliant": 0, "nonCompliant": 1, "notApplicable": 0, "delivered": 1}),
            _ => json!({"compliant": 1, "nonCompliant": 0, "notApplicable": 0, "delivered": 1}),
        };
        assert_eq!(response, expected, "{account}");
    }
    let calls = fake.calls();
    // One AssumeRole per member account: the second B event reused the cached credentials.
    let assumed: Vec<&str> = calls
        .iter()
        .filter(|c| c.operation == "AssumeRole")
        .map(|c| c.access_key.as_str())
        .collect();
    assert_eq!(assumed, [DEFAULT_ACCESS_KEY, DEFAULT_ACCESS_KEY]);
    for call in calls.iter().filter(|c| c.operation != "AssumeRole") {
        // The fake verified each signature against the secret of the key it names.
        match call.account.as_str() {
            B | C => assert!(
                call.access_key
                    .starts_with(&format!("ASIAFAKE{}", call.account)),
                "{call:?}"
            ),
            _ => assert_eq!(call.access_key, DEFAULT_ACCESS_KEY, "{call:?}"),
        }
    }
    let evaluations = fake.evaluations();
    let in_account = |account: &str| evaluations.iter().filter(|e| e.account == account).count();
    assert_eq!(
        (in_account(B), in_account(C), in_account(ACCOUNT)),
        (4, 1, 1)
    );
    for recorded in &evaluations {
        let id = recorded.evaluation["ComplianceResourceId"]
            .as_str()
            .unwrap();
        let own = fake.with_state(|state| {
            state
                .account(&recorded.account)
                .schedules
                .contains_key(name_of(id))
        });
        assert!(own, "{id} reported in {}", recorded.account);
    }
}

#[test]
fn access_denied_on_assume_role_names_the_account_the_role_and_the_permission() {
    let fake = start(organization());
    fake.with_state(|state| state.denied_roles.push(role(B)));
    let _function = function(&fake);
    let error = fake
        .invoke(&member_event(B), Duration::from_secs(60), WAIT)
        .expect_err("refused");
    assert_eq!(error["errorType"], "AccountAccess");
    let message = error["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "cannot assume {} in account {B}: AssumeRole: access denied (AccessDenied):",
            role(B)
        )),
        "{message}"
    );
    assert!(
        message.contains("not authorized to perform: sts:AssumeRole"),
        "{message}"
    );
    assert!(message.contains("needs sts:AssumeRole on"), "{message}");
    assert!(
        !fake.calls().iter().any(|c| c.operation != "AssumeRole"),
        "nothing was called in the account"
    );
    // The next account is unaffected.
    let response = fake
        .invoke(&member_event(C), Duration::from_secs(60), WAIT)
        .expect("success");
    assert_eq!(response["delivered"], 1);
}

#[test]
fn an_assume_role_that_hangs_is_given_up_at_the_deadline_and_named() {
    // Real time: the function runs as its own process under the fake's Runtime API.
    let fake = start(organization());
    fake.set_faults(Faults {
        slow: 1.0,
        slow_ms: 30_000,
        operations: vec!["AssumeRole".into()],
        ..Faults::default()
    });
    let _function = function(&fake);
    let deadline = Duration::from_secs(3);
    let started = std::time::Instant::now();
    let error = fake
        .invoke(&member_event(B), deadline, Duration::from_secs(20))
        .expect_err("refused");
    let elapsed = started.elapsed();
    assert!(elapsed < deadline, "answered {elapsed:?} after the start");
    assert_eq!(error["errorType"], "AccountAccess", "{error}");
    let message = error["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "cannot assume {} in account {B}: AssumeRole: timed out: no answer before the Lambda deadline",
            role(B)
        )),
        "{message}"
    );
    assert!(
        !fake.calls().iter().any(|c| c.operation != "AssumeRole"),
        "nothing was called in the account"
    );
}

#[test]
fn an_event_for_another_account_without_a_role_is_refused() {
    let fake = start(organization());
    let _function = function(&fake);
    let mut event = periodic_event("{}", "token");
    event["accountId"] = json!(B);
    let error = fake
        .invoke(&event, Duration::from_secs(60), WAIT)
        .expect_err("refused");
    assert_eq!(error["errorType"], "AccountAccess");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("set the ExecutionRoleName rule parameter"),
        "{error}"
    );
    assert!(fake.calls().is_empty());
}

wire_test!(
    a_permission_the_member_role_lacks_is_named_with_the_role,
    organization(),
    Faults {
        deny_resources: vec!["b-open".into()],
        ..Faults::default()
    },
    |fake, bin| {
        let _function = function(&fake);
        let error = fake
            .invoke(&member_event(B), Duration::from_secs(60), WAIT)
            .expect_err("incomplete");
        assert_eq!(error["errorType"], "Incomplete");
        let message = error["errorMessage"].as_str().unwrap();
        assert!(
            message.starts_with(&format!(
                "acting as {}: 1 resource(s) could not be judged",
                role(B)
            )),
            "{message}"
        );
        assert!(
            message.contains(
                "b-open (DescribeMonitoringSchedule: access denied (AccessDeniedException)"
            ),
            "{message}"
        );
        assert_eq!(fake.evaluations().len(), 1, "b-isolated is still delivered");
    }
);

wire_test!(
    the_command_line_assumes_the_role_too,
    organization(),
    |fake, bin| {
        let run = bin.dry_run(&member_event(C));
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.lines().len(), 1);
        assert!(
            fake.calls()
                .iter()
                .any(|c| c.operation == "DescribeMonitoringSchedule" && c.account == C)
        );
    }
);

/// Real time, by the fake's clock: B's sweep is paced to the rate B's limit admits (seconds for
/// its describes), C's runs at full speed (milliseconds). The margin is a hundredfold.
#[test]
fn what_one_member_accounts_throttling_taught_does_not_slow_the_next_account() {
    let schedules = |account: &str| -> Vec<Value> {
        (0..30)
            .map(|i| schedule(account, &format!("{account}-{i:02}"), i % 2 == 0))
            .collect()
    };
    let seed = json!({
        "schedules": [],
        "accounts": {B: {"schedules": schedules(B)}, C: {"schedules": schedules(C)}},
    });
    let fake = start(Seed::from_json(&seed.to_string()).unwrap());
    // B's calls meet a limit of 5 a second per operation; C's meet none.
    fake.set_faults(Faults {
        latency_ms: 5,
        rate_limit_tps: Some(5.0),
        rate_limit_burst: Some(5.0),
        accounts: vec![B.into()],
        ..Faults::default()
    });
    let _function = function(&fake);
    for account in [B, C] {
        let response = fake
            .invoke(&member_event(account), Duration::from_secs(120), WAIT)
            .expect("success");
        assert_eq!(response["delivered"], 30, "{account}");
    }
    let describes = |account: &str| {
        let arrivals: Vec<_> = fake
            .calls()
            .into_iter()
            .filter(|c| c.operation == "DescribeMonitoringSchedule" && c.account == account)
            .map(|c| c.arrived)
            .collect();
        let span = *arrivals.iter().max().unwrap() - *arrivals.iter().min().unwrap();
        (span, arrivals.len())
    };
    let (b_span, b_attempts) = describes(B);
    let (c_span, c_attempts) = describes(C);
    // B's limit held its 30 describes to seconds, and taught its pacer that rate.
    assert!(b_span >= Duration::from_secs(3), "{b_span:?}");
    assert!(b_attempts > 30, "{b_attempts}");
    assert_eq!(c_attempts, 30);
    assert!(
        c_span < Duration::from_secs(1),
        "C's describes took {c_span:?}"
    );
}
