//! Pacing calls per operation, so a sweep stays fast when AWS pushes back.
//!
//! Throttling has two causes that want opposite answers. A real rate limit (SageMaker's per-
//! account limits, as a token bucket per operation) is met by sending slower: faster only buys
//! more throttles. Throttling this rule did not cause (other callers sharing the account's
//! limits) is met by retrying soon: slowing down only makes the sweep slower. The SDK's adaptive
//! mode treats every throttle as the first kind and collapses under the second.
//!
//! So the SDK does not retry throttled calls here ([`ThrottlesToPacer`] forbids it); every
//! attempt of a call goes through the [`Pacer`] of its account and region, which spaces the
//! sends of each operation at its current rate and retries a throttled call after a short
//! jittered pause. Per operation, a controller watches the share of attempts throttled, window
//! by window (a second each; a second with no send starts a new one, so idle time never counts).
//! When the share rises above the noise it knows, it cuts the rate to just under what was
//! admitted, on trial: the cut stays only if the next window's share is lower beyond what
//! chance gives; if it is no lower, the throttling is not this rate's doing, so the rate is
//! restored and that share remembered as noise. This holds at any share, so others' load never
//! ratchets the rate down. A first cut never goes below what the last clean window admitted;
//! only a cut that lowered the share lets the next go further. While windows are clean the rate
//! rises by a tenth. It never exceeds `MaxCallsPerSecond` when that is set.

use crate::error::is_throttle;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How long the controller watches before it judges a rate; a send slot unused this long ends
/// the window.
const WINDOW: Duration = Duration::from_secs(1);
/// Fewer attempts than this in a window say nothing.
const WINDOW_ATTEMPTS: u32 = 10;
/// A window that judges a cut has at least this many attempts, unless it has run this long:
/// a small sample hides the fall a cut below a bucket's rate makes.
const TRIAL_ATTEMPTS: u32 = 8 * WINDOW_ATTEMPTS;
const TRIAL_LONGEST: Duration = Duration::from_secs(4);
/// While no rate is set, a window cuts one only with this many attempts, some of them sent
/// side by side, unless nearly all of them (`REFUSED`) were throttled: an operation called a
/// few times, or one call after another (list pages, deliveries), cannot send faster than its
/// answers come, so a cut only slows it, while its throttles cost little.
const FIRST_CUT_ATTEMPTS: u32 = 4 * WINDOW_ATTEMPTS;
const REFUSED: f64 = 0.9;
/// A throttled share below this is clean: the rate may rise.
const CLEAN: f64 = 0.02;
/// A rate is never cut below this, calls per second.
const FLOOR: f64 = 0.5;
/// A share this high is answered early, after `QUICK_WINDOW` and twice `WINDOW_ATTEMPTS`, while
/// no noise is known.
const HEAVY: f64 = 0.5;
const QUICK_WINDOW: Duration = Duration::from_millis(20);
/// How many standard errors apart two windows' shares must be to differ (chance puts them that
/// far apart about once in 400 comparisons).
const SURE: f64 = 3.0;

/// What a window has seen so far.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    attempts: u32,
    throttles: u32,
    /// The first window after a start or an idle gap, when a token bucket is full.
    fresh: bool,
    /// When its first throttle came, and how many attempts came before it.
    first_throttle: Option<(Instant, u32)>,
    /// The most attempts that were in flight at once.
    most_in_flight: u32,
}

impl Window {
    fn new(start: Instant, fresh: bool) -> Self {
        Window {
            start,
            attempts: 0,
            throttles: 0,
            fresh,
            first_throttle: None,
            most_in_flight: 0,
        }
    }

    fn count(&mut self, now: Instant, throttled: bool) {
        if throttled && self.first_throttle.is_none() {
            self.first_throttle = Some((now, self.attempts));
        }
        self.attempts += 1;
        self.throttles += u32::from(throttled);
    }

    /// The window's counts over its length; a fresh window's from its first throttle on, as
    /// what a bucket admits before that is what it stored, not a rate it sustains.
    fn judged(&self, now: Instant) -> Judged {
        let (since, before) = match self.first_throttle {
            Some(first) if self.fresh => first,
            _ => (self.start, 0),
        };
        Judged {
            attempts: self.attempts - before,
            throttles: self.throttles,
            seconds: (now - since).as_secs_f64().max(1e-3),
        }
    }
}

/// A window's counts over its length.
#[derive(Debug, Clone, Copy)]
struct Judged {
    attempts: u32,
    throttles: u32,
    seconds: f64,
}

impl Judged {
    fn share(&self) -> f64 {
        f64::from(self.throttles) / f64::from(self.attempts.max(1))
    }

    fn sent(&self) -> f64 {
        f64::from(self.attempts) / self.seconds
    }

    fn admitted(&self) -> f64 {
        f64::from(self.attempts - self.throttles) / self.seconds
    }
}

/// How the share throttled changed from one window to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Fell,
    Rose,
    Same,
}

impl Change {
    /// The two windows' shares as two samples: a difference counts only when chance would
    /// hardly give it.
    fn between(before: &Judged, after: &Judged) -> Change {
        let (n1, n2) = (f64::from(before.attempts), f64::from(after.attempts));
        if n1 == 0.0 || n2 == 0.0 {
            return Change::Same;
        }
        let pooled = f64::from(before.throttles + after.throttles) / (n1 + n2);
        let spread = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
        let difference = before.share() - after.share();
        if spread == 0.0 || difference.abs() < SURE * spread {
            Change::Same
        } else if difference > 0.0 {
            Change::Fell
        } else {
            Change::Rose
        }
    }
}

/// A cut on trial: the window that caused it, the rate to go back to if it does not help,
/// whether the last clean window's rate held it up, and where its chain of cuts began (the
/// window and the rate before the first).
#[derive(Debug, Clone, Copy)]
struct Trial {
    before: Judged,
    restore: Option<f64>,
    floored: bool,
    origin: (Judged, Option<f64>),
}

/// A cut whose trial showed a fall too small to be sure of beside the window before it (a
/// short one): the old rate is back for a window, measured afresh beside the window at the cut.
#[derive(Debug, Clone, Copy)]
struct Probe {
    at_cut: Judged,
    cut_rate: Option<f64>,
    origin: (Judged, Option<f64>),
}

#[derive(Debug)]
struct Controller {
    /// Calls per second; `None` while nothing says to slow down.
    rate: Option<f64>,
    /// The earliest time the next call may be sent.
    next_send: Instant,
    window: Window,
    trial: Option<Trial>,
    probe: Option<Probe>,
    /// A throttled share that cutting the rate did not lower, decaying window by window.
    noise: f64,
    /// What the last clean window admitted, per second, since the last idle gap.
    clean: Option<f64>,
    /// Attempts sent and not yet answered.
    in_flight: u32,
}

impl Controller {
    fn new(now: Instant) -> Self {
        Controller {
            rate: None,
            next_send: now,
            window: Window::new(now, true),
            trial: None,
            probe: None,
            noise: 0.0,
            clean: None,
            in_flight: 0,
        }
    }

    /// After a second in which no call was sent, what follows is a new stretch of work: idle
    /// time says nothing about a rate.
    fn wake(&mut self, now: Instant) {
        if now >= self.next_send + WINDOW {
            self.window = Window::new(now, true);
            self.next_send = now;
            self.clean = None;
        }
    }

    /// Reserves the next send slot and says how long to wait for it.
    fn slot(&mut self, now: Instant, max_rate: Option<f64>) -> Duration {
        self.wake(now);
        let rate = match (self.rate, max_rate) {
            (Some(rate), Some(max)) => Some(rate.min(max)),
            (rate, max) => rate.or(max),
        };
        self.in_flight += 1;
        self.window.most_in_flight = self.window.most_in_flight.max(self.in_flight);
        let at = self.next_send.max(now);
        self.next_send =
            at + rate.map_or(Duration::ZERO, |rate| Duration::from_secs_f64(1.0 / rate));
        at - now
    }

    /// The share above which throttling is taken as this rate's doing, given the noise known.
    fn threshold(&self) -> f64 {
        (self.noise * 1.5 + CLEAN)
            .min(self.noise + (1.0 - self.noise) / 2.0)
            .max(CLEAN)
    }

    /// Whether `judged` (what the current window saw) is throttled enough, and says enough,
    /// to cut the rate.
    fn calls_for_a_cut(&self, judged: &Judged) -> bool {
        let side_by_side = self.window.most_in_flight > 1;
        judged.share() > self.threshold()
            && (self.rate.is_some()
                || judged.share() >= REFUSED
                || (side_by_side && judged.attempts >= FIRST_CUT_ATTEMPTS))
    }

    fn observe(&mut self, now: Instant, throttled: bool, max_rate: Option<f64>) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.wake(now);
        self.window.count(now, throttled);
        let window = self.window;
        let elapsed = now - window.start;
        let judged = window.judged(now);
        let needed = match self.trial {
            Some(_) if elapsed < TRIAL_LONGEST => TRIAL_ATTEMPTS,
            _ => WINDOW_ATTEMPTS,
        };
        // A cut after which the share is no lower at all has been answered: only a fall too
        // small to be sure of needs the longer watch.
        let no_fall = self.trial.is_some_and(|trial| {
            judged.attempts >= 4 * WINDOW_ATTEMPTS
                && (judged.share() >= trial.before.share()
                    || judged.share() >= trial.origin.0.share())
        });
        let full = elapsed >= WINDOW && (window.attempts >= needed || no_fall);
        // Heavy throttling, or a cut whose effect is already plain, is answered within a few
        // calls; looked at after 20, 40, 80... attempts, so that chance has few tries.
        let checks = window.attempts / (2 * WINDOW_ATTEMPTS);
        let counted =
            window.attempts.is_multiple_of(2 * WINDOW_ATTEMPTS) && checks.is_power_of_two();
        // A rate needs some time to measure; a probe compares counts only.
        let checkpoint = counted && (elapsed >= QUICK_WINDOW || self.probe.is_some());
        let early = checkpoint
            && match (&self.trial, &self.probe) {
                (Some(trial), _) => {
                    no_fall
                        || (trial.before.share() >= REFUSED
                            && judged.share() < trial.before.share())
                        || Change::between(&trial.before, &judged) != Change::Same
                }
                (None, Some(probe)) => {
                    (judged.attempts >= 4 * WINDOW_ATTEMPTS
                        && judged.share() <= probe.at_cut.share())
                        || Change::between(&probe.at_cut, &judged) != Change::Same
                }
                (None, None) => {
                    judged.share() >= HEAVY && self.noise < CLEAN && self.calls_for_a_cut(&judged)
                }
            };
        if full || early {
            self.judge(judged, max_rate);
            if elapsed >= WINDOW {
                self.noise *= 0.9;
            }
            self.window = Window::new(now, false);
        }
    }

    fn judge(&mut self, window: Judged, max_rate: Option<f64>) {
        let share = window.share();
        if let Some(probe) = self.probe.take() {
            if Change::between(&probe.at_cut, &window) == Change::Rose {
                // Higher at the old rate than at the cut: the limit is this rate's after all.
                self.rate = probe.cut_rate;
                if probe.at_cut.share() > CLEAN {
                    self.cut(&probe.at_cut, probe.cut_rate, None, Some(probe.origin));
                }
            } else {
                self.noise = self.noise.max(share);
                tracing::debug!(share, "slowing down did not help; rate restored");
            }
            return;
        }
        match self.trial.take() {
            Some(trial) => match Change::between(&trial.before, &window) {
                // Sending slower lowered the share: the limit is this rate's. The cut stays, and
                // the next may go below what was admitted cleanly.
                Change::Fell if share > CLEAN => {
                    self.cut(&window, self.rate, None, Some(trial.origin));
                }
                Change::Fell => {}
                // The window before admitted more than this rate does (a bucket's stored
                // tokens), or others' load grew: a step further tells which.
                Change::Rose => self.cut(&window, trial.restore, None, Some(trial.origin)),
                // Nearly everything refused, and the cut did not slow the sending (the callers
                // were sending less than that anyway): nothing was tried, so a step further.
                Change::Same
                    if trial.before.share() >= HEAVY
                        && share >= trial.before.share()
                        && window.sent() > 0.8 * trial.before.sent() =>
                {
                    self.cut(&window, trial.restore, None, Some(trial.origin));
                }
                // Clean at the cut rate: it stays, and clean windows raise it again.
                Change::Same if share < CLEAN => {}
                // The rate that was clean is clean no more, so that figure is stale: only a cut
                // below it tells whether the throttling is this rate's.
                Change::Same if trial.floored => {
                    self.clean = None;
                    self.cut(&window, trial.restore, None, Some(trial.origin));
                }
                // Lower after nearly everything was refused: what got through then was mostly a
                // bucket's store (or chance), so the comparison says little; a step further.
                Change::Same if trial.before.share() >= REFUSED && share < trial.before.share() => {
                    self.cut(&window, trial.restore, None, Some(trial.origin));
                }
                // Lower, but too little to be sure of: the old rate again, measured afresh.
                Change::Same if share < trial.before.share() => {
                    self.probe = Some(Probe {
                        at_cut: window,
                        cut_rate: self.rate,
                        origin: trial.origin,
                    });
                    self.rate = Self::undone(&trial, &window);
                }
                // Sending slower did not lower the share: the throttling is not this rate's
                // doing, so slowing down would only make the sweep slower.
                Change::Same => {
                    self.rate = Self::undone(&trial, &window);
                    self.noise = self.noise.max(share);
                    tracing::debug!(share, "slowing down did not help; rate restored");
                }
            },
            None if self.calls_for_a_cut(&window) => {
                self.cut(&window, self.rate, self.clean, None);
            }
            None if share > self.threshold() => {}
            None if share < CLEAN => {
                self.clean = Some(window.admitted());
                self.rate = self.rate.map(|rate| {
                    let raised = rate * 1.1;
                    max_rate.map_or(raised, |max| raised.min(max))
                });
            }
            // Throttled about as much as the noise known: that is still the noise.
            None => self.noise = self.noise.max(share),
        }
    }

    /// The rate to go back to when `trial`'s cut did not help: the one before it, or if the
    /// share is no lower than where the chain of cuts began either (an earlier "lower" was
    /// chance, a short window after a high one), the one before the whole chain.
    fn undone(trial: &Trial, window: &Judged) -> Option<f64> {
        let (origin, origin_rate) = trial.origin;
        match Change::between(&origin, window) {
            Change::Fell => trial.restore,
            _ => origin_rate,
        }
    }

    /// Cuts the rate to just under what `window` admitted (no lower than `floor`), on trial; a
    /// step of the chain that began at `origin`, or the first.
    fn cut(
        &mut self,
        window: &Judged,
        restore: Option<f64>,
        floor: Option<f64>,
        origin: Option<(Judged, Option<f64>)>,
    ) {
        let mut cut = (window.admitted() * 0.95).min(window.sent() * 0.9);
        if window.share() >= HEAVY {
            // When nearly everything is refused, at least halve; a short window may admit
            // none, so divide by 32 at most.
            cut = cut.clamp(window.sent() / 32.0, window.sent() / 2.0);
        }
        let floored = floor.is_some_and(|floor| floor > cut);
        let cut = cut.max(floor.unwrap_or(0.0)).max(FLOOR);
        self.rate = Some(self.rate.map_or(cut, |rate| rate.min(cut)));
        self.trial = Some(Trial {
            before: *window,
            restore,
            floored,
            origin: origin.unwrap_or((*window, restore)),
        });
        tracing::debug!(
            share = window.share(),
            rate = self.rate,
            "throttled; rate cut to what was admitted"
        );
    }
}

/// The pacing of one account and region's calls, per operation. Each account and region has
/// its own: their limits are their own, and what one account's throttling taught must not
/// slow another.
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
        let _span = tracing::debug_span!("pacing", operation).entered();
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
            // Short, jittered, longer each time (up to 5, 10, 20... 100 ms): a throttle the rate
            // did not cause is best met by trying again soon; one it did cause is met by the
            // slower turn the controller now gives.
            let most = (5u64 << (attempt - 2).min(5)).min(100);
            tokio::time::sleep(Duration::from_millis(1 + fastrand::u64(..most))).await;
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

/// The error code of an AWS error response, in the shapes the protocols give it: the
/// `x-amzn-errortype` header, or the body's `__type` or `code` (JSON protocols), or its
/// `<Code>` (XML protocols); without a namespace (`aws.protocoltests#`) or a suffix (`:http://`).
fn error_code(header: Option<&str>, body: &[u8]) -> Option<String> {
    let sanitize = |code: &str| {
        let code = code.split(':').next().unwrap_or(code);
        code.rsplit('#').next().unwrap_or(code).to_owned()
    };
    if let Some(code) = header.filter(|code| !code.is_empty()) {
        return Some(sanitize(code));
    }
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) {
        return ["__type", "code"]
            .iter()
            .find_map(|key| fields.get(*key)?.as_str())
            .map(sanitize);
    }
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    Some(sanitize(text[start..end].trim()))
}

/// Tells the SDK not to retry a throttled call itself: the [`Pacer`] does, in its turn.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlesToPacer;

impl ClassifyRetry for ThrottlesToPacer {
    fn classify_retry(&self, context: &InterceptorContext) -> RetryAction {
        let throttled = context.response().is_some_and(|response| {
            !response.status().is_success()
                && response.body().bytes().is_some_and(|body| {
                    error_code(response.headers().get("x-amzn-errortype"), body)
                        .is_some_and(|code| is_throttle(&code))
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
    use aws_smithy_types::error::ErrorMetadata;

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
    fn a_throttle_after_hours_idle_does_not_cut_the_rate() {
        let t0 = Instant::now();
        let mut c = Controller::new(t0);
        for i in 0..9 {
            c.observe(t0 + Duration::from_secs(600 * i), false, None);
        }
        c.observe(t0 + Duration::from_secs(86_400), true, None);
        assert!(c.rate.is_none_or(|r| r > 50.0), "{:?}", c.rate);
    }

    #[test]
    fn under_heavy_random_throttling_it_keeps_its_speed() {
        for throttled in [6, 7] {
            let mut n = 0u32;
            let (rate, share) = drive(60, |_, _| {
                n += 1;
                n % 10 >= throttled
            });
            // 500 a second unthrottled; slowing down would not lower the share.
            assert!(rate > 400.0, "{throttled}0%: {rate} calls a second");
            assert!((share * 10.0 - f64::from(throttled)).abs() < 0.1, "{share}");
        }
    }

    /// What a sweep through the pacer did, on tokio's paused clock.
    #[derive(Debug)]
    struct Swept {
        elapsed: Duration,
        attempts: u32,
        throttles: u32,
        failed: u32,
    }

    /// `calls` calls through `pacer`, `concurrency` at a time, each answered after `latency` and
    /// throttled when `throttle(now)` says (decided as the call arrives, as the fake does).
    async fn sweep(
        pacer: &Pacer,
        calls: u32,
        concurrency: usize,
        latency: Duration,
        throttle: impl FnMut(Instant) -> bool,
    ) -> Swept {
        use futures::StreamExt;
        use std::cell::{Cell, RefCell};
        // The pacer's jitter, from this thread's generator: the same every run.
        fastrand::seed(u64::from(calls));
        let throttle = RefCell::new(throttle);
        let (attempts, throttles) = (Cell::new(0), Cell::new(0));
        let start = Instant::now();
        let results: Vec<Result<(), SdkError<ErrorMetadata, ()>>> = futures::stream::iter(0..calls)
            .map(|_| {
                pacer.call("Operation", || {
                    let throttled = (throttle.borrow_mut())(Instant::now());
                    attempts.set(attempts.get() + 1);
                    throttles.set(throttles.get() + u32::from(throttled));
                    async move {
                        tokio::time::sleep(latency).await;
                        if throttled {
                            let code = ErrorMetadata::builder().code("ThrottlingException");
                            Err(SdkError::service_error(code.build(), ()))
                        } else {
                            Ok(())
                        }
                    }
                })
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        Swept {
            elapsed: start.elapsed(),
            attempts: attempts.get(),
            throttles: throttles.get(),
            failed: results.iter().filter(|result| result.is_err()).count() as u32,
        }
    }

    fn random(share: f64, seed: u64) -> impl FnMut(Instant) -> bool {
        let mut dice = fastrand::Rng::with_seed(seed);
        move |_| dice.f64() < share
    }

    /// A token bucket: `rate` a second, `burst` deep, starting full.
    fn bucket(rate: f64, burst: f64) -> impl FnMut(Instant) -> bool {
        let (mut tokens, mut last) = (burst, None::<Instant>);
        move |now| {
            let elapsed = last.map_or(0.0, |then| (now - then).as_secs_f64());
            last = Some(now);
            tokens = (tokens + elapsed * rate).min(burst);
            let admitted = tokens >= 1.0;
            tokens -= f64::from(u8::from(admitted));
            !admitted
        }
    }

    const ATTEMPTS: u32 = crate::aws::sdk::THROTTLED_ATTEMPTS;

    #[tokio::test(start_paused = true)]
    async fn a_sweep_throttled_mostly_by_others_takes_a_few_times_as_long_not_hours() {
        let latency = Duration::from_millis(20);
        let quiet = sweep(&Pacer::new(ATTEMPTS), 1000, 8, latency, |_| false).await;
        for (share, within) in [(0.55, 4.0), (0.6, 6.0)] {
            let swept = sweep(&Pacer::new(ATTEMPTS), 1000, 8, latency, random(share, 7)).await;
            let ratio = swept.elapsed.as_secs_f64() / quiet.elapsed.as_secs_f64();
            assert!(ratio <= within, "{share}: {ratio:.2}x, {swept:?}");
            assert_eq!(swept.failed, 0, "{swept:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn no_run_of_others_throttling_ratchets_the_rate_down() {
        // Chance sometimes makes a short window look much better than the one before; across
        // many runs, none may keep a cut for it.
        let latency = Duration::from_millis(20);
        let quiet = sweep(&Pacer::new(ATTEMPTS), 1000, 8, latency, |_| false).await;
        for seed in 0..50 {
            for (share, within) in [(0.55, 4.0), (0.6, 6.0)] {
                let swept =
                    sweep(&Pacer::new(ATTEMPTS), 1000, 8, latency, random(share, seed)).await;
                let ratio = swept.elapsed.as_secs_f64() / quiet.elapsed.as_secs_f64();
                assert!(
                    ratio <= within,
                    "seed {seed}, {share}: {ratio:.2}x, {swept:?}"
                );
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn pages_read_one_after_another_under_others_throttling_are_not_slowed_further() {
        let latency = Duration::from_millis(20);
        let quiet = sweep(&Pacer::new(ATTEMPTS), 30, 1, latency, |_| false).await;
        let swept = sweep(&Pacer::new(ATTEMPTS), 30, 1, latency, random(0.6, 3)).await;
        // 2.5 attempts a page at 60%, and the pauses between them: no slower rate on top.
        let ratio = swept.elapsed.as_secs_f64() / quiet.elapsed.as_secs_f64();
        assert!(ratio <= 3.5, "{ratio:.2}x, {swept:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_sweep_under_a_token_bucket_keeps_to_its_rate_with_few_throttles() {
        let swept = sweep(
            &Pacer::new(ATTEMPTS),
            500,
            8,
            Duration::from_millis(5),
            bucket(20.0, 10.0),
        )
        .await;
        // 500 calls at 20 a second: 25 s, less the burst.
        let ratio = swept.elapsed.as_secs_f64() / 25.0;
        let share = f64::from(swept.throttles) / f64::from(swept.attempts);
        assert!((0.9..=1.3).contains(&ratio), "{ratio:.2}x, {swept:?}");
        assert!(share <= 0.15, "{share:.3} throttled, {swept:?}");
        assert_eq!(swept.failed, 0, "{swept:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_fast_sweep_under_a_token_bucket_cuts_once_its_burst_is_spent() {
        // Answers in a millisecond, and few calls: the burst and the first cut are most of it.
        let swept = sweep(
            &Pacer::new(ATTEMPTS),
            160,
            8,
            Duration::from_millis(1),
            bucket(20.0, 10.0),
        )
        .await;
        let share = f64::from(swept.throttles) / f64::from(swept.attempts);
        assert!(share < 0.25, "{share:.3} throttled, {swept:?}");
        assert_eq!(swept.failed, 0, "{swept:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_warm_pacer_after_idle_and_one_throttle_is_as_fast_as_a_fresh_one() {
        let latency = Duration::from_millis(5);
        // Ten list pages, one after another: the calls a sweep cannot overlap.
        let pages = |pacer| async move {
            let mut first = true;
            let once = move |_| std::mem::replace(&mut first, false);
            sweep(pacer, 10, 1, latency, once).await
        };
        let warm = Pacer::new(ATTEMPTS);
        sweep(&warm, 10, 1, latency, |_| false).await;
        tokio::time::advance(Duration::from_secs(3 * 3600)).await;
        let second = pages(&warm).await;
        let fresh = pages(&Pacer::new(ATTEMPTS)).await;
        let ratio = second.elapsed.as_secs_f64() / fresh.elapsed.as_secs_f64();
        assert!(ratio <= 1.5, "{ratio:.2}x: {second:?} against {fresh:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn every_code_the_sdk_counts_as_throttling_is_retried_in_turn_and_no_other() {
        for (code, attempts) in [
            ("ThrottlingException", 2),
            ("LimitExceededException", 2),
            ("SlowDown", 2),
            ("RequestLimitExceeded", 2),
            ("AccessDeniedException", 1),
            ("ValidationException", 1),
        ] {
            let pacer = Pacer::new(ATTEMPTS);
            let mut sent = 0;
            let result = pacer
                .call("Operation", || {
                    sent += 1;
                    let answer = if sent == 1 {
                        let error = ErrorMetadata::builder().code(code).build();
                        Err(SdkError::<_, ()>::service_error(error, ()))
                    } else {
                        Ok(())
                    };
                    async move { answer }
                })
                .await;
            assert_eq!((sent, result.is_ok()), (attempts, attempts == 2), "{code}");
        }
    }

    fn classified(status: u16, header: Option<&str>, body: &str) -> RetryAction {
        use aws_smithy_runtime_api::client::interceptors::context::Input;
        use aws_smithy_types::body::SdkBody;
        let mut response = aws_smithy_runtime_api::http::Response::new(
            status.try_into().unwrap(),
            SdkBody::from(body),
        );
        if let Some(code) = header {
            response
                .headers_mut()
                .insert("x-amzn-errortype", code.to_owned());
        }
        let mut context = InterceptorContext::new(Input::doesnt_matter());
        context.set_response(response);
        ThrottlesToPacer.classify_retry(&context)
    }

    #[test]
    fn the_pacer_takes_a_throttle_by_its_error_code_in_each_protocols_shape() {
        let paced = RetryAction::RetryForbidden;
        let sdk = RetryAction::NoActionIndicated;
        for (status, header, body, expected) in [
            // awsJson: `__type`, with or without a namespace.
            (
                400,
                None,
                r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
                &paced,
            ),
            (
                400,
                None,
                r#"{"__type":"com.amazonaws.sagemaker#LimitExceededException"}"#,
                &paced,
            ),
            // restJson: the header wins, with its suffix; or the body's `code`.
            (
                429,
                Some("TooManyRequestsException:http://internal.amazon.com/"),
                "{}",
                &paced,
            ),
            (
                400,
                None,
                r#"{"code":"SlowDown","message":"slow down"}"#,
                &paced,
            ),
            // awsQuery: XML.
            (
                400,
                None,
                "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
                &paced,
            ),
            // A message that mentions throttling is not a throttle.
            (
                400,
                None,
                r#"{"__type":"ValidationException","message":"Throttling settings are invalid"}"#,
                &sdk,
            ),
            (
                400,
                None,
                "<Error><Code>InvalidParameterValue</Code><Message>TooManyRequests</Message></Error>",
                &sdk,
            ),
            (500, None, r#"{"__type":"InternalFailure"}"#, &sdk),
            (200, None, r#"{"Throttling":true}"#, &sdk),
        ] {
            assert_eq!(
                &classified(status, header, body),
                expected,
                "{status} {header:?} {body}"
            );
        }
    }
}
