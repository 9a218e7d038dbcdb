//! The function under cargo-lambda's Lambda emulator (`cargo lambda watch` + `cargo lambda
//! invoke`), the way developers run Rust Lambdas locally.

use crate::support::*;
use fake_aws::cargo_lambda::Emulator;
use serde_json::{Value, json};
use std::ffi::OsStr;
use std::process::Stdio;
use std::time::Duration;

const FUNCTION: &str = Emulator::APIS_ONLY_FUNCTION;

/// Invokes with an event file and returns the function's answer, which must be a success.
fn invoke_file(emulator: &Emulator, event: &str) -> Value {
    let path = root().join("events").join(event);
    let output = emulator
        .invoke(FUNCTION, &[OsStr::new("--data-file"), path.as_os_str()])
        .expect("cargo lambda invoke runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap()
}

#[test]
#[ignore = "needs cargo-lambda on PATH; `make test` installs it and runs this test"]
fn the_function_answers_under_cargo_lambdas_emulator() {
    assert!(
        Emulator::installed(),
        "cargo-lambda is not installed: `pip install cargo-lambda` (make test does it)"
    );
    let fake = start(sample_seed());
    // The emulator's Runtime API drives the binary this test build holds: left to build the
    // function itself, cargo-lambda would compile the AWS SDK again with other features.
    let emulator =
        Emulator::apis_only(Stdio::null, Duration::from_secs(60)).expect("the emulator listens");
    let mut function = std::process::Command::new(BINARY)
        .env_clear()
        .envs(aws_env(&fake))
        .envs(emulator.function_env())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the function starts");

    let response = invoke_file(&emulator, "change-named-model-bias-isolated.json");
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
    let response = invoke_file(&emulator, "periodic.json");
    assert_eq!(
        response,
        json!({"compliant": 5, "nonCompliant": 10, "notApplicable": 0, "delivered": 15})
    );
    assert_eq!(fake.evaluations().len(), 16);

    let output = emulator
        .invoke(
            FUNCTION,
            &[
                OsStr::new("--data-ascii"),
                OsStr::new(r#"{"invokingEvent": "{", "resultToken": "t"}"#),
            ],
        )
        .expect("cargo lambda invoke runs");
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
    let _ = function.kill();
    let _ = function.wait();
}
