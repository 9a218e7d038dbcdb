//! Fault injection. Every fault is decided before the request is acted on, so a failed call
//! never has side effects: an evaluation is recorded only when its call succeeds.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Instant;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Added to every AWS call.
    pub latency_ms: u64,
    /// Fractions of calls answered with each fault.
    pub throttle: f64,
    pub server_error: f64,
    /// The connection is closed without an answer.
    pub reset: f64,
    /// No answer for `slow_ms`, then a server error (the client should have timed out first).
    pub slow: f64,
    pub slow_ms: u64,
    /// HTTP 200 with a body that is not JSON.
    pub malformed: f64,
    /// Fraction of the evaluations in each successful PutEvaluations reported as failed.
    pub put_failures: f64,
    /// The faults above apply only to these operations; empty means all.
    pub operations: Vec<String>,
    /// The next this many calls of those operations are throttled, counting down: one
    /// throttle at a moment a test chooses.
    pub throttle_next: u32,
    /// Every fault here, the rate limit included, applies only to calls in these accounts;
    /// empty means all. Others' limits do not throttle this account.
    pub accounts: Vec<String>,
    /// Schedules that are listed but that Describe no longer finds.
    pub vanish: Vec<String>,
    /// Operations answered with AccessDeniedException.
    pub deny: Vec<String>,
    /// Resource names whose Describe (schedule or job definition) is answered AccessDenied.
    pub deny_resources: Vec<String>,
    /// A per-operation rate limit, as SageMaker applies one: a token bucket per account, region
    /// and operation refilled at this many calls a second; calls that find it empty are
    /// throttled.
    pub rate_limit_tps: Option<f64>,
    /// The bucket's depth (the burst it admits); `rate_limit_tps` when unset.
    pub rate_limit_burst: Option<f64>,
    /// ComplianceResourceTypes PutEvaluations refuses, as a region that does not know them would.
    pub refuse_resource_types: Vec<String>,
    /// List operations that ignore the NextToken they are given: every answer is the first page,
    /// with the same token to the next.
    pub repeat_tokens: Vec<String>,
    /// Findings BatchUpdateFindings leaves unprocessed, each the next `times` times it is sent.
    pub unprocessed: Vec<Unprocessed>,
    /// Calls of `operations` are held until this many are in flight at once (or `hold_ms` has
    /// passed); 0 holds nothing.
    pub hold_until: usize,
    pub hold_ms: u64,
    /// Schedule names ListDiscoveredResources leaves out, as Config's inventory lags SageMaker's.
    pub undiscovered: Vec<String>,
    /// Seed of the fault dice, for repeatable runs.
    pub seed: u64,
}

/// A finding (its Id, or `*` for any) BatchUpdateFindings answers in `UnprocessedFindings` with
/// `code` (ConcurrentUpdateError and InternalFailure are temporary, FindingNotFound is not).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Unprocessed {
    pub finding: String,
    pub code: String,
    pub times: usize,
}

/// What to do with one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Injected {
    None,
    Throttle,
    ServerError,
    Reset,
    Slow,
    Malformed,
    Denied,
}

impl Faults {
    /// The error code to leave finding `id` unprocessed with this time, if any.
    pub fn take_unprocessed(&mut self, id: &str) -> Option<String> {
        let fault = self
            .unprocessed
            .iter_mut()
            .find(|fault| (fault.finding == id || fault.finding == "*") && fault.times > 0)?;
        fault.times -= 1;
        Some(fault.code.clone())
    }

    pub fn applies_to(&self, operation: &str) -> bool {
        self.operations.is_empty() || self.operations.iter().any(|op| op == operation)
    }

    /// The fault for one call of `operation` in `account` and `region`.
    pub fn decide(
        &mut self,
        operation: &str,
        (account, region): (&str, &str),
        dice: &mut Dice,
        limiter: &mut RateLimiter,
    ) -> Injected {
        if !self.accounts.is_empty() && !self.accounts.iter().any(|a| a == account) {
            return Injected::None;
        }
        if self.deny.iter().any(|op| op == operation) {
            return Injected::Denied;
        }
        if let Some(tps) = self.rate_limit_tps {
            let bucket = format!("{account} {region} {operation}");
            if !limiter.admit(&bucket, tps, self.rate_limit_burst.unwrap_or(tps)) {
                return Injected::Throttle;
            }
        }
        if !self.applies_to(operation) {
            return Injected::None;
        }
        if self.throttle_next > 0 {
            self.throttle_next -= 1;
            return Injected::Throttle;
        }
        let roll = dice.next_f64();
        let mut edge = 0.0;
        for (rate, fault) in [
            (self.throttle, Injected::Throttle),
            (self.server_error, Injected::ServerError),
            (self.reset, Injected::Reset),
            (self.slow, Injected::Slow),
            (self.malformed, Injected::Malformed),
        ] {
            edge += rate;
            if roll < edge {
                return fault;
            }
        }
        Injected::None
    }
}

/// xorshift64*: small, seeded, good enough to spread faults.
#[derive(Debug, Clone)]
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Dice(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A token bucket per key (account, region and operation), `burst` deep, starting full.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: HashMap<String, (f64, Instant)>,
}

impl RateLimiter {
    pub fn admit(&mut self, key: &str, tps: f64, burst: f64) -> bool {
        let now = Instant::now();
        let (tokens, last) = self.buckets.entry(key.to_owned()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * tps).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: (&str, &str) = ("111111111111", "us-east-1");

    #[test]
    fn fault_rates_come_out_near_their_setting() {
        let mut faults = Faults {
            throttle: 0.2,
            ..Faults::default()
        };
        let mut dice = Dice::new(7);
        let mut limiter = RateLimiter::default();
        let throttled = (0..10_000)
            .filter(|_| faults.decide("X", HERE, &mut dice, &mut limiter) == Injected::Throttle)
            .count();
        assert!((1_800..2_200).contains(&throttled), "{throttled}");
    }

    #[test]
    fn faults_can_be_limited_to_operations() {
        let mut faults = Faults {
            server_error: 1.0,
            operations: vec!["PutEvaluations".into()],
            ..Faults::default()
        };
        let mut dice = Dice::new(1);
        let mut limiter = RateLimiter::default();
        assert_eq!(
            faults.decide("ListMonitoringSchedules", HERE, &mut dice, &mut limiter),
            Injected::None
        );
        assert_eq!(
            faults.decide("PutEvaluations", HERE, &mut dice, &mut limiter),
            Injected::ServerError
        );
    }

    #[test]
    fn faults_can_be_limited_to_accounts_and_each_account_has_its_own_rate_limit() {
        let mut faults = Faults {
            throttle: 1.0,
            accounts: vec!["111111111111".into()],
            ..Faults::default()
        };
        let mut dice = Dice::new(1);
        let mut limiter = RateLimiter::default();
        let other = ("222222222222", "us-east-1");
        assert_eq!(
            faults.decide("X", HERE, &mut dice, &mut limiter),
            Injected::Throttle
        );
        assert_eq!(
            faults.decide("X", other, &mut dice, &mut limiter),
            Injected::None
        );
        let mut limited = Faults {
            rate_limit_tps: Some(1.0),
            ..Faults::default()
        };
        let mut admitted = |scope| {
            let mut limiter_dice = Dice::new(1);
            (0..5)
                .filter(|_| {
                    limited.decide("X", scope, &mut limiter_dice, &mut limiter) == Injected::None
                })
                .count()
        };
        assert_eq!(admitted(HERE), 1);
        assert_eq!(admitted(other), 1);
        assert_eq!(admitted(("111111111111", "eu-west-1")), 1);
    }

    #[test]
    fn the_next_calls_can_be_throttled_once_each() {
        let mut faults = Faults {
            throttle_next: 2,
            operations: vec!["ListMonitoringSchedules".into()],
            ..Faults::default()
        };
        let mut dice = Dice::new(1);
        let mut limiter = RateLimiter::default();
        let mut decide = |operation| faults.decide(operation, HERE, &mut dice, &mut limiter);
        assert_eq!(decide("PutEvaluations"), Injected::None);
        assert_eq!(decide("ListMonitoringSchedules"), Injected::Throttle);
        assert_eq!(decide("ListMonitoringSchedules"), Injected::Throttle);
        assert_eq!(decide("ListMonitoringSchedules"), Injected::None);
    }

    #[test]
    fn the_rate_limit_throttles_a_burst() {
        let mut limiter = RateLimiter::default();
        let admitted = (0..50).filter(|_| limiter.admit("X", 10.0, 10.0)).count();
        assert_eq!(admitted, 10);
        let admitted = (0..50).filter(|_| limiter.admit("Y", 20.0, 5.0)).count();
        assert_eq!(admitted, 5);
    }
}
