//! The Lambda deadline, split into the moments each phase must respect, so that an invocation
//! cut short still delivers what it judged and says what it left.

use tokio::time::Instant;

/// When to stop, before the Lambda deadline (`end`): new work (judging, stale clean-up,
/// remediation) is not started after `stop_starting`; reads still running at `abandon` are
/// given up, their resources named as unjudged; delivery starts no attempt after
/// `last_delivery` and waits for no answer past `end`, less a moment to say what was left.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub stop_starting: Instant,
    pub abandon: Instant,
    pub last_delivery: Instant,
    pub end: Instant,
}

impl Deadline {
    /// A deadline `remaining` from now, keeping `reserve` for what follows the work.
    pub fn within(remaining: std::time::Duration, reserve: std::time::Duration) -> Self {
        let now = Instant::now();
        let end = now + remaining;
        let before_end = |margin| end.checked_sub(margin).unwrap_or(now).max(now);
        Deadline {
            stop_starting: before_end(reserve),
            abandon: before_end(reserve / 2),
            last_delivery: before_end(reserve / 4),
            end: before_end(reserve / 8),
        }
    }

    pub fn passed(&self, moment: Instant) -> bool {
        Instant::now() >= moment
    }
}

/// A read that gave no answer before the deadline's `abandon`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abandoned;

/// Runs one read in the time left: given up at `abandon`, so that one degraded call (which,
/// with the SDK's retries, can take minutes) never holds the invocation past its deadline.
/// Without a deadline (the command line) it waits for the answer. Every read of an invocation
/// goes through here; delivery has its own, later, moments.
pub async fn within<T>(
    deadline: Option<Deadline>,
    read: impl Future<Output = T>,
) -> Result<T, Abandoned> {
    match deadline {
        None => Ok(read.await),
        Some(deadline) => tokio::time::timeout_at(deadline.abandon, read)
            .await
            .map_err(|_| Abandoned),
    }
}
