//! Building the AWS clients once per process, from the standard AWS environment.

use crate::calls::CallCounter;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_types::retry::RetryMode;
use std::str::FromStr;
use std::time::Duration;

/// Attempts per request unless `AWS_MAX_ATTEMPTS` says otherwise: large sweeps meet bursts of
/// throttling, and a schedule left unjudged costs more than a late answer.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;
/// A single HTTP attempt that takes longer than this is abandoned and retried.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Clients {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub config: aws_sdk_config::Client,
    pub sdk_config: SdkConfig,
    pub counter: CallCounter,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("no AWS region is configured: set AWS_REGION (or a region in your AWS profile)")]
    NoRegion,
    #[error("{name} is not valid: '{value}' ({expected})")]
    BadSetting {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// The retry policy: the SDK's adaptive mode by default, so a throttled account makes the
/// client slow down rather than retry harder. `AWS_RETRY_MODE` and `AWS_MAX_ATTEMPTS` override it.
pub fn retry_config() -> Result<RetryConfig, SetupError> {
    let mode = match std::env::var("AWS_RETRY_MODE") {
        Ok(value) => RetryMode::from_str(value.trim()).map_err(|_| SetupError::BadSetting {
            name: "AWS_RETRY_MODE",
            value,
            expected: "standard or adaptive",
        })?,
        Err(_) => RetryMode::Adaptive,
    };
    let attempts = match std::env::var("AWS_MAX_ATTEMPTS") {
        Ok(value) => match value.trim().parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(SetupError::BadSetting {
                    name: "AWS_MAX_ATTEMPTS",
                    value,
                    expected: "a positive integer",
                });
            }
        },
        Err(_) => DEFAULT_MAX_ATTEMPTS,
    };
    let config = match mode {
        RetryMode::Adaptive => RetryConfig::adaptive(),
        _ => RetryConfig::standard(),
    };
    Ok(config.with_max_attempts(attempts))
}

/// `ATTEMPT_TIMEOUT_MS` bounds each HTTP attempt (default 10 s).
pub fn timeout_config() -> Result<TimeoutConfig, SetupError> {
    let attempt = match std::env::var("ATTEMPT_TIMEOUT_MS") {
        Ok(value) => match value.trim().parse::<u64>() {
            Ok(ms) if ms > 0 => Duration::from_millis(ms),
            _ => {
                return Err(SetupError::BadSetting {
                    name: "ATTEMPT_TIMEOUT_MS",
                    value,
                    expected: "a positive number of milliseconds",
                });
            }
        },
        Err(_) => DEFAULT_ATTEMPT_TIMEOUT,
    };
    Ok(TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3).min(attempt))
        .operation_attempt_timeout(attempt)
        .build())
}

/// Loads the environment (`AWS_REGION`, `AWS_PROFILE`, credentials, `AWS_ENDPOINT_URL`).
pub async fn load() -> Result<Clients, SetupError> {
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config()?)
        .timeout_config(timeout_config()?)
        .load()
        .await;
    if sdk_config.region().is_none() {
        return Err(SetupError::NoRegion);
    }
    Ok(clients_for(sdk_config, CallCounter::default()))
}

/// Retries answers the SDK could not read (a truncated or garbled body from a proxy or a
/// failing load balancer) like transient errors; by default the SDK gives up on them at once.
#[derive(Debug, Clone, Copy)]
pub struct UnreadableResponses;

impl ClassifyRetry for UnreadableResponses {
    fn classify_retry(&self, context: &InterceptorContext) -> RetryAction {
        // A success status with an error that is not a modelled one: the body did not parse.
        let answered = context
            .response()
            .is_some_and(|response| response.status().is_success());
        match context.output_or_error() {
            Some(Err(error)) if answered && !error.is_operation_error() => {
                RetryAction::transient_error()
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "UnreadableResponses"
    }
}

/// Retries a call AWS refused because its credentials had just expired: the identity cache
/// renews them before the next attempt.
#[derive(Debug, Clone, Copy)]
pub struct ExpiredCredentials;

impl ClassifyRetry for ExpiredCredentials {
    fn classify_retry(&self, context: &InterceptorContext) -> RetryAction {
        let expired = context.response().is_some_and(|response| {
            matches!(response.status().as_u16(), 400 | 403)
                && response
                    .body()
                    .bytes()
                    .is_some_and(|body| String::from_utf8_lossy(body).contains("ExpiredToken"))
        });
        if expired {
            RetryAction::transient_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "ExpiredCredentials"
    }
}

/// Clients over one `SdkConfig`, all counted by `counter`.
pub fn clients_for(sdk_config: SdkConfig, counter: CallCounter) -> Clients {
    let sagemaker = aws_sdk_sagemaker::Client::from_conf(
        aws_sdk_sagemaker::config::Builder::from(&sdk_config)
            .interceptor(counter.clone())
            .retry_classifier(UnreadableResponses)
            .retry_classifier(ExpiredCredentials)
            .build(),
    );
    let config = aws_sdk_config::Client::from_conf(
        aws_sdk_config::config::Builder::from(&sdk_config)
            .interceptor(counter.clone())
            .retry_classifier(UnreadableResponses)
            .retry_classifier(ExpiredCredentials)
            .build(),
    );
    Clients {
        sagemaker,
        config,
        sdk_config,
        counter,
    }
}
