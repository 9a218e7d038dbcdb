//! JSON logs on Lambda (one object a line, as CloudWatch Logs Insights reads them), plain text
//! on a terminal. Events and credentials are never logged: only names, ids and counts.

use tracing_subscriber::EnvFilter;

pub fn init_lambda() {
    let filter = EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stdout)
        .init();
}

/// `verbosity` 0 shows warnings and errors, 1 adds the summary and verdicts, 2 adds detail.
pub fn init_cli(verbosity: u8) {
    let level = match verbosity {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{level},aws_config=warn,aws_smithy_runtime=warn"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}
