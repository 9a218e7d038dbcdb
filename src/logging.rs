//! JSON logs on Lambda (one object a line, as CloudWatch Logs Insights reads them), plain text
//! on a terminal. Events, result tokens, configurations and credentials are never logged: only
//! names, ids and counts.
//!
//! The runtime and the SDK are less careful at their most verbose levels: `lambda_runtime` logs
//! the raw event (result token and whole configuration item included) at TRACE, and the SDK's
//! HTTP stack logs headers and bodies. Those crates are capped at INFO whatever level is asked
//! for, so no setting (`AWS_LAMBDA_LOG_LEVEL`, `RUST_LOG`, `-vv`) can make them leak.

use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, FilterExt, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// Crates that can log payloads, headers or the raw event below INFO.
const CAPPED: [&str; 14] = [
    "lambda_runtime",
    "lambda_runtime_api_client",
    "aws_config",
    "aws_runtime",
    "aws_sigv4",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_types",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
];

/// Where `aws-config` warns of a failure with `DisplayErrorContext`, which ends in a `Debug` dump
/// of the whole error, and the rule reports the same failure itself, readably (an AssumeRole
/// refused, credentials not found): only their errors are shown.
const DUMPING: [&str; 2] = [
    "aws_config::sts::assume_role",
    "aws_config::meta::credentials::chain",
];

fn caps() -> Targets {
    Targets::new()
        .with_default(Level::TRACE)
        .with_targets(CAPPED.map(|target| (target, Level::INFO)))
        .with_targets(
            ["aws_sdk_sagemaker", "aws_sdk_config", "aws_sdk_sts"].map(|t| (t, Level::INFO)),
        )
        .with_targets(DUMPING.map(|target| (target, Level::ERROR)))
}

pub fn init_lambda() {
    let filter = EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let layer = fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stdout)
        .with_filter(filter.and(caps()));
    tracing_subscriber::registry().with(layer).init();
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
    // Colour only for a terminal: logs captured to a file or a CI log stay plain text.
    let layer = fmt::layer()
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_filter(filter.and(caps()));
    tracing_subscriber::registry().with(layer).init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_logging_crates_stop_at_info() {
        let caps = caps();
        assert!(caps.would_enable("lambda_runtime::layers", &Level::INFO));
        assert!(!caps.would_enable("lambda_runtime::layers", &Level::DEBUG));
        assert!(!caps.would_enable("aws_smithy_runtime::client", &Level::TRACE));
        assert!(caps.would_enable("monitoring_schedule_isolation::sweep", &Level::TRACE));
        assert!(!caps.would_enable("aws_config::sts::assume_role", &Level::WARN));
        assert!(caps.would_enable("aws_config::sts::assume_role", &Level::ERROR));
    }
}
