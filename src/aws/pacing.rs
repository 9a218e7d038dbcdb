//! Pacing calls per operation, so a sweep stays fast when AWS pushes back.
//!
//! Throttling has two causes that want opposite answers. A real rate limit (SageMaker's per-
//! account limits, as a token bucket per operation) is met by sending slower: faster only buys
//! more throttles. Throttling this rule did not cause (other callers sharing the account's
//! limits) is met by retrying soon: slowing down only makes the sweep slower. The SDK's adaptive
//! mode treats every throttle as the first kind and collapses under the second.
//!
//! So the SDK does not retry throttled calls here ([`ThrottlesToPacer`] forbids it); every
//! attempt of a call goes through the [`Pacer`], which spaces the sends of each operation at
//! its current rate and retries a throttled call after a short jittered pause. Per operation,
//! a controller watches the share of attempts throttled, window by window (a second each):
//! when it rises, it cuts the rate to what was admitted; if the next window is not markedly
//! better, the cut did not help (the throttling is not ours), so it restores the rate and
//! remembers that share as noise; while windows are clean it raises the rate again by a tenth.
//! The rate never exceeds `MaxCallsPerSecond` when that is set.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How long the controller watches before it judges a rate.
const WINDOW: Duration = Duration::from_secs(1);
/// Fewer attempts than this in a window say nothing.
const WINDOW_ATTEMPTS: u32 = 10;
/// A throttled share below this is clean: the rate may rise.
const CLEAN: f64 = 0.02;
/// A rate is never cut below this, calls per second.
const FLOOR: f64 = 0.5;
/// A share this high is answered at once, after `QUICK_WINDOW`.
const HEAVY: f64 = 0.5;
const QUICK_WINDOW: Duration = Duration::from_millis(20);

/// Error codes AWS uses for throttling (Security Hub's is `LimitExceededException`, HTTP 429).
pub fn is_throttle(code: &str) -> bool {
    code.contains("Throttl")
        || code == "TooManyRequestsException"
        || code == "RequestLimitExceeded"
        || code == "LimitExceededException"
        || code == "SlowDown"
}

#[derive(Debug)]
struct Controller {
    /// Calls per second; `None` while nothing says to slow down.
    rate: Option<f64>,
    /// The earliest time the next call may be sent.
    next_send: Instant,
    window_start: Instant,
    attempts: u32,
    throttles: u32,
    /// The last cut: the rate before it and the throttled share that caused it.
    cut: Option<(Option<f64>, f64)>,
    /// A throttled share that cutting the rate did not lower, decaying window by window.
    noise: f64,
}

impl Controller {
    fn new(now: Instant) -> Self {
        Controller {
            rate: None,
            next_send: now,
            window_start: now,
            attempts: 0,
            throttles: 0,
            cut: None,
            noise: 0.0,
        }
    }

    /// Reserves the next send slot and says how long to wait for it.
    fn slot(&mut self, now: Instant, max_rate: Option<f64>) -> Duration {
        let rate = match (self.rate, max_rate) {
            (Some(rate), Some(max)) => Some(rate.min(max)),
            (rate, max) => rate.or(max),
        };
        let Some(rate) = rate else {
            return Duration::ZERO;
        };
        let at = self.next_send.max(now);
        self.next_send = at + Duration::from_secs_f64(1.0 / rate);
        at - now
    }

    fn observe(&mut self, now: Instant, throttled: bool, max_rate: Option<f64>) {
        self.attempts += 1;
        self.throttles += u32::from(throttled);
        let elapsed = now - self.window_start;
        let share = f64::from(self.throttles) / f64::from(self.attempts);
        // A second says what a rate does; heavy throttling is answered within a few calls.
        let judged = (elapsed >= WINDOW && self.attempts >= WINDOW_ATTEMPTS)
            || (elapsed >= QUICK_WINDOW && self.attempts >= 2 * WINDOW_ATTEMPTS && share >= HEAVY);
        if !judged {
            return;
        }
        let seconds = elapsed.as_secs_f64().max(1e-3);
        let sent = f64::from(self.attempts) / seconds;
        let admitted = f64::from(self.attempts - self.throttles) / seconds;
        match self.cut.take() {
            // Sending slower did not lower the share throttled: the throttling is not this
            // rate's doing, so slowing down would only make the sweep slower.
            Some((before, cause)) if share >= cause * 0.8 && share < HEAVY => {
                self.rate = before;
                self.noise = self.noise.max(share);
                tracing::debug!(share, "slowing down did not help; rate restored");
            }
            Some(_) | None if share > CLEAN.max(self.noise * 1.5 + CLEAN) => {
                self.cut = Some((self.rate, share));
                // Just under what was admitted; when nearly everything is refused, at least
                // halve (a bucket's burst makes the first window admit more than it will) and
                // at most divide by eight (a window of a few calls may admit none).
                let mut cut = admitted * 0.95;
                if share >= HEAVY {
                    cut = cut.clamp(sent / 8.0, sent / 2.0);
                }
                let cut = cut.max(FLOOR);
                self.rate = Some(self.rate.map_or(cut, |rate| rate.min(cut)));
                tracing::debug!(
                    share,
                    rate = self.rate,
                    "throttled; rate cut to what was admitted"
                );
            }
            Some(_) => {}
            None if share < CLEAN => {
                self.rate = self.rate.map(|rate| {
                    let raised = rate * 1.1;
                    max_rate.map_or(raised, |max| raised.min(max))
                });
            }
            None => {}
        }
        self.noise *= 0.9;
        self.window_start = now;
        self.attempts = 0;
        self.throttles = 0;
    }
}

/// The pacing of one process's calls, per operation.
#[derive(Debug)]
pub struct Pacer {
    controllers: Mutex<HashMap<&'static str, Controller>>,
    max_rate: Mutex<Option<f64>>,
    attempts: u32,
}

impl Pacer {
    /// `attempts`: how many times one call is sent when it keeps being throttled.
    pub fn new(attempts: u32) -> Self {
        Pacer {
            controllers: Mutex::new(HashMap::new()),
            max_rate: Mutex::new(None),
            attempts: attempts.max(1),
        }
    }

    /// How many times one call may be sent; 1 when the SDK retries throttled calls itself.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The most calls per second any one operation may be sent at (`MaxCallsPerSecond`).
    pub fn limit(&self, max_rate: Option<f64>) {
        *self.max_rate.lock().expect("never poisoned") = max_rate;
    }

    async fn wait_turn(&self, operation: &'static str) {
        let max_rate = *self.max_rate.lock().expect("never poisoned");
        let wait = {
            let now = Instant::now();
            let mut controllers = self.controllers.lock().expect("never poisoned");
            controllers
                .entry(operation)
                .or_insert_with(|| Controller::new(now))
                .slot(now, max_rate)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    fn observe(&self, operation: &'static str, throttled: bool) {
        let max_rate = *self.max_rate.lock().expect("never poisoned");
        let now = Instant::now();
        let mut controllers = self.controllers.lock().expect("never poisoned");
        controllers
            .entry(operation)
            .or_insert_with(|| Controller::new(now))
            .observe(now, throttled, max_rate);
    }

    /// Sends a call (`send` makes one SDK call, with the SDK's own retries for everything but
    /// throttling) in its turn, again after a short pause each time it is throttled.
    pub async fn call<T, E, R, F, Fut>(
        &self,
        operation: &'static str,
        mut send: F,
    ) -> Result<T, SdkError<E, R>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata,
    {
        let mut attempt = 1;
        loop {
            self.wait_turn(operation).await;
            let result = send().await;
            let throttled = matches!(
                &result,
                Err(SdkError::ServiceError(context)) if context.err().code().is_some_and(is_throttle)
            );
            self.observe(operation, throttled);
            if !throttled || attempt >= self.attempts {
                return result;
            }
            attempt += 1;
            // Short and jittered: a throttle the rate did not cause is best met by trying again
            // soon; one it did cause is met by the slower turn the controller now gives.
            let jitter = 5 + fastrand::u64(..20 * u64::from(attempt.min(5)));
            tokio::time::sleep(Duration::from_millis(jitter)).await;
        }
    }
}

/// Sends a fluent request in its turn: `send!(pacer, "Operation", client.operation().member(x))`
/// is the request's `.send().await`, paced and retried when throttled.
macro_rules! send {
    ($pacer:expr, $operation:expr, $request:expr) => {{
        let request = $request;
        $pacer.call($operation, || request.clone().send()).await
    }};
}
pub(crate) use send;

/// Tells the SDK not to retry a throttled call itself: the [`Pacer`] does, in its turn.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlesToPacer;

impl ClassifyRetry for ThrottlesToPacer {
    fn classify_retry(&self, context: &InterceptorContext) -> RetryAction {
        let throttled = context.response().is_some_and(|response| {
            matches!(response.status().as_u16(), 400 | 429 | 503)
                && response.body().bytes().is_some_and(|body| {
                    let body = String::from_utf8_lossy(body);
                    [
                        "Throttl",
                        "TooManyRequests",
                        "RequestLimitExceeded",
                        "LimitExceededException",
                        "SlowDown",
                    ]
                    .iter()
                    .any(|code| body.contains(code))
                })
        });
        if throttled {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "ThrottlesToPacer"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives a controller through `seconds` of sending as fast as it allows, against a server
    /// that admits what `admit(second, sent)` says, and returns the sends per second.
    fn drive(seconds: u64, mut admit: impl FnMut(&mut f64, Instant) -> bool) -> (f64, f64) {
        let start = Instant::now();
        let mut controller = Controller::new(start);
        let mut clock = start;
        let mut bucket = 10.0;
        let (mut sent, mut throttled) = (0u32, 0u32);
        while clock - start < Duration::from_secs(seconds) {
            let wait = controller.slot(clock, None);
            // Without a rate, the client sends one call every 2 ms (its concurrency and latency).
            clock += wait.max(Duration::from_millis(2));
            let ok = admit(&mut bucket, clock);
            sent += 1;
            throttled += u32::from(!ok);
            controller.observe(clock, !ok, None);
        }
        (
            f64::from(sent) / seconds as f64,
            f64::from(throttled) / f64::from(sent),
        )
    }

    #[test]
    fn under_a_rate_limit_it_settles_near_the_limit_with_few_throttles() {
        let mut last = None;
        let (rate, share) = drive(60, |tokens, now| {
            // 20 per second, bursts of 10.
            let elapsed = last.map_or(0.0, |then: Instant| (now - then).as_secs_f64());
            last = Some(now);
            *tokens = (*tokens + elapsed * 20.0).min(10.0);
            if *tokens >= 1.0 {
                *tokens -= 1.0;
                true
            } else {
                false
            }
        });
        assert!(
            (17.0..=26.0).contains(&rate),
            "{rate} calls a second, {share} throttled"
        );
        assert!(share < 0.15, "{share} throttled");
    }

    #[test]
    fn under_random_throttling_it_keeps_its_speed() {
        let mut n = 0u32;
        let (rate, share) = drive(20, |_, _| {
            n += 1;
            !n.is_multiple_of(5)
        });
        // 500 a second unthrottled; slowing down would not lower the 20%.
        assert!(rate > 400.0, "{rate} calls a second");
        assert!((0.15..0.25).contains(&share), "{share}");
    }

    #[test]
    fn throttling_codes_are_recognised() {
        for code in [
            "ThrottlingException",
            "Throttling",
            "TooManyRequestsException",
            "LimitExceededException",
        ] {
            assert!(is_throttle(code), "{code}");
        }
        assert!(!is_throttle("AccessDeniedException"));
        assert!(!is_throttle("ResourceLimitExceeded"));
    }
}
