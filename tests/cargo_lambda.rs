//! The function under cargo-lambda's Lambda emulator (`cargo lambda watch` + `cargo lambda
//! invoke`), the way developers run Rust Lambdas locally.

mod support;

use serde_json::json;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const FUNCTION: &str = "monitoring-schedule-isolation";

/// Kills `cargo lambda watch` and the function it started (one process group).
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

fn invoke(port: u16, data: &[&str]) -> std::process::Output {
    Command::new("cargo")
        .args([
            "lambda",
            "invoke",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
        ])
        .arg(port.to_string())
        .args(["--output-format", "json"])
        .args(data)
        .arg(FUNCTION)
        .output()
        .expect("cargo lambda invoke runs")
}

#[test]
#[ignore = "needs cargo-lambda on PATH; `make test` installs it and runs this test"]
fn the_function_answers_under_cargo_lambdas_emulator() {
    let installed = Command::new("cargo").args(["lambda", "--version"]).output();
    assert!(
        installed.is_ok_and(|out| out.status.success()),
        "cargo-lambda is not installed: `pip install cargo-lambda` (make test does it)"
    );
    let fake = start(sample_seed());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new("cargo");
    command
        .current_dir(root())
        .args(["lambda", "watch", "--package", FUNCTION, "--bin", FUNCTION])
        .args([
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port.to_string(),
        ])
        .args(["--ignore-changes", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    for (key, value) in aws_env(&fake) {
        command.arg("--env-var").arg(format!("{key}={value}"));
    }
    let _watch = Watch(command.spawn().expect("cargo lambda watch starts"));
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "the emulator never listened"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let event = root().join("events/change-named-model-bias-isolated.json");
    let output = invoke(port, &["--data-file", event.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        response,
        json!({"compliant": 1, "nonCompliant": 0, "notApplicable": 0, "delivered": 1})
    );
    let recorded = fake.evaluations();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        recorded[0].evaluation["ComplianceResourceId"],
        schedule_arn("fraud-model-bias-weekly")
    );
    assert_eq!(recorded[0].evaluation["ComplianceType"], "COMPLIANT");

    // The emulator sends its timeout where Lambda sends an epoch deadline: the sweep must
    // still run to the end.
    let periodic = root().join("events/periodic.json");
    let output = invoke(port, &["--data-file", periodic.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        response,
        json!({"compliant": 5, "nonCompliant": 10, "notApplicable": 0, "delivered": 15})
    );
    assert_eq!(fake.evaluations().len(), 16);

    let output = invoke(
        port,
        &[
            "--data-ascii",
            r#"{"invokingEvent": "{", "resultToken": "t"}"#,
        ],
    );
    let answer = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "{answer}");
    assert!(
        answer.contains("invokingEvent is not valid JSON"),
        "{answer}"
    );
    assert_eq!(fake.evaluations().len(), 16);
}
