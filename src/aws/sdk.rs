//! Building the AWS clients once per process, from the standard AWS environment.

use crate::aws::calls::CallCounter;
use crate::aws::pacing::{Pacer, ThrottlesToPacer};
use crate::error::SetupError;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_types::retry::RetryMode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Attempts per request unless `AWS_MAX_ATTEMPTS` says otherwise: large sweeps meet bursts of
/// throttling, and a schedule left unjudged costs more than a late answer.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;
/// Attempts of a throttled call, or `AWS_MAX_ATTEMPTS` if that is more (1 if it is 1), when
/// the pacer retries throttles.
/// Throttling by others can refuse most attempts, each of which costs milliseconds: with ten,
/// 0.6% of calls would fail at 60% throttled; with forty, one in a billion.
pub const THROTTLED_ATTEMPTS: u32 = 40;
/// A single HTTP attempt that takes longer than this is abandoned and retried.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Clients {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub config: aws_sdk_config::Client,
    pub security_hub: aws_sdk_securityhub::Client,
    pub sdk_config: SdkConfig,
    pub counter: CallCounter,
    /// Paces every call per operation, and retries throttled ones (see `pacing.rs`).
    pub pacer: Arc<Pacer>,
}

/// Who retries what: by default the SDK's standard retries for everything but throttling,
/// which the [`Pacer`] handles; `AWS_RETRY_MODE=standard` or `adaptive` gives the SDK's own
/// modes the whole job (to compare with), and the pacer only sends.
#[derive(Debug, Clone)]
pub struct Retries {
    pub sdk: RetryConfig,
    pub paced: bool,
    pub attempts: u32,
}

/// The retry policy (see [`Retries`]); `AWS_MAX_ATTEMPTS` bounds the attempts of one call.
pub fn retries() -> Result<Retries, SetupError> {
    let mode = match std::env::var("AWS_RETRY_MODE") {
        Ok(value) => {
            Some(
                RetryMode::from_str(value.trim()).map_err(|_| SetupError::BadSetting {
                    name: "AWS_RETRY_MODE",
                    value,
                    expected: "standard or adaptive",
                })?,
            )
        }
        Err(_) => None,
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
    let sdk = match mode {
        Some(RetryMode::Adaptive) => RetryConfig::adaptive(),
        _ => RetryConfig::standard(),
    };
    Ok(Retries {
        sdk: sdk.with_max_attempts(attempts),
        paced: mode.is_none(),
        attempts,
    })
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
    let retries = retries()?;
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retries.sdk.clone())
        .timeout_config(timeout_config()?)
        .load()
        .await;
    if sdk_config.region().is_none() {
        return Err(SetupError::NoRegion);
    }
    let throttled_attempts = if retries.paced && retries.attempts > 1 {
        retries.attempts.max(THROTTLED_ATTEMPTS)
    } else {
        1
    };
    let pacer = Arc::new(Pacer::new(throttled_attempts));
    Ok(clients_for(
        sdk_config,
        CallCounter::default(),
        pacer,
        retries.paced,
    ))
}

/// Retries two kinds of answer the SDK gives up on at once by default: a success status whose
/// body did not parse (a truncated or garbled body from a proxy or a failing load balancer),
/// and a refusal because the credentials had just expired (the identity cache renews them
/// before the next attempt).
#[derive(Debug, Clone, Copy)]
pub struct RetryAlso;

impl ClassifyRetry for RetryAlso {
    fn classify_retry(&self, context: &InterceptorContext) -> RetryAction {
        let Some(response) = context.response() else {
            return RetryAction::NoActionIndicated;
        };
        let unreadable = response.status().is_success()
            && matches!(context.output_or_error(), Some(Err(error)) if !error.is_operation_error());
        let expired = matches!(response.status().as_u16(), 400 | 403)
            && response
                .body()
                .bytes()
                .is_some_and(|body| String::from_utf8_lossy(body).contains("ExpiredToken"));
        if unreadable || expired {
            RetryAction::transient_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "RetryAlso"
    }
}

/// Clients over one `SdkConfig`, all counted by `counter` and paced by `pacer`; with `paced`,
/// the SDK leaves throttled calls to the pacer.
pub fn clients_for(
    sdk_config: SdkConfig,
    counter: CallCounter,
    pacer: Arc<Pacer>,
    paced: bool,
) -> Clients {
    let mut sagemaker = aws_sdk_sagemaker::config::Builder::from(&sdk_config)
        .interceptor(counter.clone())
        .retry_classifier(RetryAlso);
    let mut config = aws_sdk_config::config::Builder::from(&sdk_config)
        .interceptor(counter.clone())
        .retry_classifier(RetryAlso);
    let mut security_hub = aws_sdk_securityhub::config::Builder::from(&sdk_config)
        .interceptor(counter.clone())
        .retry_classifier(RetryAlso);
    if paced {
        sagemaker = sagemaker.retry_classifier(ThrottlesToPacer);
        config = config.retry_classifier(ThrottlesToPacer);
        security_hub = security_hub.retry_classifier(ThrottlesToPacer);
    }
    Clients {
        sagemaker: aws_sdk_sagemaker::Client::from_conf(sagemaker.build()),
        config: aws_sdk_config::Client::from_conf(config.build()),
        security_hub: aws_sdk_securityhub::Client::from_conf(security_hub.build()),
        sdk_config,
        counter,
        pacer,
    }
}

impl Clients {
    /// Whether the SDK leaves throttled calls to the pacer.
    pub fn paced(&self) -> bool {
        self.pacer.attempts() > 1
    }
}
