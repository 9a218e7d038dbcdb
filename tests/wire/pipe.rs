//! A closed pipe (`audit --json | head -1`, with `--aggregator` too) is the reader's choice, not a failure: the command
//! line stops writing there and exits 0, without a panic or a message.

use crate::support::*;
use fake_aws::seed::Seed;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

/// Schedules enough that their rows (about 300 bytes each) outgrow any pipe's buffer, so the
/// binary is still writing when the reader goes; each names one job definition that is not
/// isolated, so the audit finds them NON_COMPLIANT (exit 3 had it written everything).
fn many_open_schedules() -> Seed {
    let schedules: Vec<Value> = (0..4_000)
        .map(|i| {
            let name = format!("schedule-{i:05}");
            json!({
                "MonitoringScheduleArn": schedule_arn(&name),
                "MonitoringScheduleName": name,
                "MonitoringScheduleStatus": "Scheduled",
                "MonitoringScheduleConfig": {
                    "MonitoringJobDefinitionName": "open", "MonitoringType": "DataQuality"},
            })
        })
        .collect();
    let job_definition = json!({
        "MonitoringType": "DataQuality",
        "JobDefinitionName": "open",
        "JobDefinitionArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:data-quality-job-definition/open"),
        "CreationTime": 1_793_000_000,
        "RoleArn": format!("arn:aws:iam::{ACCOUNT}:role/monitor"),
        "NetworkConfig": {"EnableNetworkIsolation": false},
    });
    Seed::from_json(
        &json!({"schedules": schedules, "job_definitions": [job_definition]}).to_string(),
    )
    .unwrap()
}

/// Runs `audit` with `args` into a pipe closed after one line, as `head -1` does; asserts the
/// line is a NON_COMPLIANT row and the run ended with 0, no panic and no message.
fn closed_after_one_line(fake: &fake_aws::FakeAws, args: &[&str]) {
    let mut child = Command::new(BINARY)
        .args(args)
        .env_clear()
        .envs(aws_env(fake))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    // What `head -1` does: one line read, then the pipe closed.
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    let row: Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("{e}: {first}"));
    assert_eq!(row["ComplianceType"], "NON_COMPLIANT", "{args:?}: {row}");
    assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(!stderr.contains("error"), "{args:?}: {stderr}");
}

#[test]
fn audit_into_a_pipe_closed_after_one_line_exits_zero_quietly() {
    let fake = start(many_open_schedules());
    closed_after_one_line(&fake, &["audit", "--json"]);
}

#[test]
fn audit_aggregator_into_a_pipe_closed_after_one_line_exits_zero_quietly() {
    let fake = start(many_open_schedules());
    fake.with_state(|state| {
        state
            .aggregators
            .owners
            .insert("org".into(), ACCOUNT.into())
    });
    closed_after_one_line(&fake, &["audit", "--aggregator", "org", "--json"]);
}
