//! One binary, two front doors: the Lambda runtime when `AWS_LAMBDA_RUNTIME_API` is set, the
//! command line otherwise. Each says how the process ends.

#![recursion_limit = "256"]

use monitoring_schedule_isolation::{cli, lambda};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        lambda::main().await
    } else {
        cli::main().await
    }
}
