//! PutEvaluations in batches, with every evaluation accounted for: delivered, or named as not.

use crate::core::evaluation::Evaluation;
use crate::core::event::ResultToken;
use crate::error::{ApiFailure, FailureKind};
use crate::rule::deadline::Deadline;
use crate::rule::ports::{BATCH_LIMIT, Deliver};
use std::time::Duration;

/// An evaluation that was computed but that Config did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undelivered {
    pub resource_type: String,
    pub resource_id: String,
    pub reason: String,
}

/// Retries for evaluations Config reported as failed, or for whole calls that failed after
/// the SDK's own retries.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            first_delay: Duration::from_millis(250),
        }
    }
}

/// Waits between attempts double up to this; retrying also stops before the Lambda deadline
/// (see [`Deadline`]).
const MAX_DELAY: Duration = Duration::from_secs(2);

/// The waits between the attempts a [`RetryPolicy`] allows: each twice the last, up to
/// `MAX_DELAY`, and none after which the next attempt would come past the deadline's
/// `last_delivery`.
pub(crate) struct Backoff {
    delay: Duration,
    deadline: Option<Deadline>,
}

impl Backoff {
    pub(crate) fn new(policy: &RetryPolicy, deadline: Option<Deadline>) -> Self {
        Backoff {
            delay: policy.first_delay,
            deadline,
        }
    }

    /// Waits before the next attempt; `false`, at once, when that attempt would come too late.
    pub(crate) async fn wait(&mut self) -> bool {
        let retry_at = tokio::time::Instant::now() + self.delay;
        if self
            .deadline
            .is_some_and(|deadline| retry_at >= deadline.last_delivery)
        {
            return false;
        }
        tokio::time::sleep_until(retry_at).await;
        self.delay = (self.delay * 2).min(MAX_DELAY);
        true
    }
}

/// What became of every evaluation handed to a [`Delivery`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    pub delivered: usize,
    pub undelivered: Vec<Undelivered>,
    /// Resource types Config refused: `(type, Config's message)`, in the order refused.
    pub refused_types: Vec<(String, String)>,
    /// Unchanged verdicts re-stated (counted in `delivered` too), and those that missed the
    /// delivery window or failed: best-effort, never undelivered (Config holds them already).
    pub restated: usize,
    pub not_restated: usize,
}

/// Collects evaluations and sends each batch as soon as it is full.
pub struct Delivery<'a, D> {
    sink: &'a D,
    token: &'a ResultToken,
    policy: RetryPolicy,
    deadline: Option<Deadline>,
    pending: Vec<Evaluation>,
    outcome: Delivered,
    /// Whether anything was sent, or was to be.
    sent: bool,
}

impl<'a, D: Deliver> Delivery<'a, D> {
    pub fn new(
        sink: &'a D,
        token: &'a ResultToken,
        policy: RetryPolicy,
        deadline: Option<Deadline>,
    ) -> Self {
        Delivery {
            sink,
            token,
            policy,
            deadline,
            pending: Vec::with_capacity(BATCH_LIMIT),
            outcome: Delivered::default(),
            sent: false,
        }
    }

    /// A call with no evaluations, when nothing else was sent: a sweep with nothing new to
    /// report still tells Config, with its own result token, that it ran and succeeded
    /// (PutEvaluations takes 0 to 100 evaluations; Config records, and bills, none).
    pub async fn confirm_if_silent(&mut self) {
        if self.sent || !self.pending.is_empty() {
            return;
        }
        self.sent = true;
        match self.call(&[]).await {
            Ok(Ok(_)) => {}
            Ok(Err(failure)) => {
                tracing::warn!(%failure, "could not confirm the sweep to Config")
            }
            Err(reason) => tracing::warn!(reason, "could not confirm the sweep to Config"),
        }
    }

    pub async fn push(&mut self, evaluation: Evaluation) {
        self.sent = true;
        self.pending.push(evaluation);
        if self.pending.len() >= BATCH_LIMIT {
            self.flush().await;
        }
    }

    /// Sends what is left and says what became of everything.
    pub async fn finish(mut self) -> Delivered {
        if !self.pending.is_empty() {
            self.flush().await;
        }
        self.outcome
    }

    /// Takes out of `batch` the evaluations of types Config has refused, and names them.
    fn without_refused(&mut self, batch: Vec<Evaluation>) -> Vec<Evaluation> {
        let (refused, kept): (Vec<_>, Vec<_>) = batch.into_iter().partition(|evaluation| {
            self.outcome
                .refused_types
                .iter()
                .any(|(resource_type, _)| *resource_type == evaluation.compliance_resource_type)
        });
        for evaluation in refused {
            let reason = format!(
                "Config refused ComplianceResourceType {}",
                evaluation.compliance_resource_type
            );
            self.give_up(vec![evaluation], &reason);
        }
        kept
    }

    /// Re-states unchanged verdicts after everything else was sent, best-effort: what misses
    /// the delivery window is counted as not re-stated, never as undelivered, since Config
    /// already holds each of these verdicts (see `Ending::Restate`).
    pub async fn restate(&mut self, evaluations: Vec<Evaluation>) {
        if !self.pending.is_empty() {
            self.flush().await;
        }
        self.sent |= !evaluations.is_empty();
        for chunk in evaluations.chunks(BATCH_LIMIT) {
            let batch = self.without_refused(chunk.to_vec());
            let handed = batch.len();
            let left = self.send(batch).await.map_or(0, |(left, _)| left.len());
            self.outcome.restated += handed - left;
            self.outcome.not_restated += left;
        }
        if self.outcome.not_restated > 0 {
            tracing::info!(
                restated = self.outcome.restated,
                not_restated = self.outcome.not_restated,
                "not every unchanged verdict could be re-stated before the Lambda deadline; the next sweep may judge those first again"
            );
        }
    }

    async fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        let batch = self.without_refused(pending);
        if let Some((left, reason)) = self.send(batch).await {
            self.give_up(left, &reason);
        }
    }

    /// Sends one batch, retrying what Config did not take, until the policy or the deadline
    /// says stop: what is left undelivered, and why, if anything is.
    async fn send(&mut self, mut batch: Vec<Evaluation>) -> Option<(Vec<Evaluation>, String)> {
        let mut backoff = Backoff::new(&self.policy, self.deadline);
        let mut reason = String::new();
        let mut attempt = 0;
        while attempt < self.policy.attempts && !batch.is_empty() {
            attempt += 1;
            let answer = match self.call(&batch).await {
                Ok(answer) => answer,
                Err(not_sent) => {
                    reason = not_sent.into();
                    break;
                }
            };
            match answer {
                Ok(failed) => {
                    let before = batch.len();
                    batch.retain(|evaluation| {
                        failed.iter().any(|(resource_type, resource_id)| {
                            *resource_type == evaluation.compliance_resource_type
                                && *resource_id == evaluation.compliance_resource_id
                        })
                    });
                    self.outcome.delivered += before - batch.len();
                    if batch.is_empty() {
                        return None;
                    }
                    reason = format!(
                        "PutEvaluations reported it in FailedEvaluations {attempt} time(s)"
                    );
                    tracing::warn!(
                        failed = batch.len(),
                        attempt,
                        "Config reported failed evaluations; retrying them"
                    );
                }
                Err(failure) if let Some(resource_type) = refused_type(&failure, &batch) => {
                    // A type Config does not know in this region: no later call can deliver
                    // it, but the rest of the batch can go at once.
                    tracing::error!(%failure, resource_type, "Config refused the resource type");
                    self.outcome
                        .refused_types
                        .push((resource_type, failure.message.clone()));
                    batch = self.without_refused(batch);
                    attempt -= 1;
                    continue;
                }
                Err(failure) if !failure.kind.is_transient() => {
                    tracing::error!(%failure, evaluations = batch.len(), "PutEvaluations failed");
                    return Some((batch, failure.to_string()));
                }
                Err(failure) => {
                    tracing::warn!(%failure, attempt, "PutEvaluations failed; retrying the batch");
                    reason = failure.to_string();
                }
            }
            if attempt < self.policy.attempts && !backoff.wait().await {
                break;
            }
        }
        (!batch.is_empty()).then_some((batch, reason))
    }

    /// One PutEvaluations call, the only one: Config's answer (the `(type, id)` of each failed
    /// evaluation), or, near the Lambda deadline, why there was none. Nothing is sent after
    /// `last_delivery`, and no answer is waited for past `end`.
    async fn call(
        &self,
        batch: &[Evaluation],
    ) -> Result<Result<Vec<(String, String)>, ApiFailure>, &'static str> {
        let put = self.sink.put(batch, self.token);
        match self.deadline {
            Some(deadline) if deadline.passed(deadline.last_delivery) => {
                Err("not sent: too close to the Lambda deadline")
            }
            Some(deadline) => tokio::time::timeout_at(deadline.end, put)
                .await
                .map_err(|_| {
                    "PutEvaluations gave no answer before the Lambda deadline; Config may not have recorded it"
                }),
            None => Ok(put.await),
        }
    }

    fn give_up(&mut self, batch: Vec<Evaluation>, reason: &str) {
        self.outcome
            .undelivered
            .extend(batch.into_iter().map(|evaluation| Undelivered {
                resource_type: evaluation.compliance_resource_type,
                resource_id: evaluation.compliance_resource_id,
                reason: reason.to_owned(),
            }));
    }
}

/// The resource type Config refused, when that is what `failure` says: AWS answers
/// `InvalidParameterValueException` with "The resource type AWS::X::Y is invalid. Only the
/// following values are permitted: [...]" (aws-config-rdk issue 290). Only a type that is in
/// `batch` counts, so that every refusal takes something out of the batch.
fn refused_type(failure: &ApiFailure, batch: &[Evaluation]) -> Option<String> {
    if failure.kind != FailureKind::Refused
        || failure.code.as_deref() != Some("InvalidParameterValueException")
    {
        return None;
    }
    let (_, rest) = failure.message.split_once("resource type ")?;
    let (named, rest) = rest.split_once(' ')?;
    rest.starts_with("is invalid")
        .then_some(named)
        .filter(|named| {
            batch
                .iter()
                .any(|evaluation| evaluation.compliance_resource_type == *named)
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::verdict::Verdict;
    use crate::rule::ports::memory::Memory;
    use aws_smithy_types::DateTime;
    use tokio::time::Instant;

    fn evaluation(resource_type: &str) -> Evaluation {
        Evaluation::new(
            resource_type,
            "id",
            Verdict::not_applicable("x"),
            DateTime::from_secs(0),
        )
    }

    #[test]
    fn the_refused_type_is_read_from_what_aws_says() {
        let failure = |message: &str| ApiFailure {
            operation: "PutEvaluations",
            kind: FailureKind::Refused,
            code: Some("InvalidParameterValueException".into()),
            message: message.into(),
            request_id: None,
        };
        let batch = [
            evaluation("AWS::Backup::BackupPlan"),
            evaluation("AWS::S3::Bucket"),
        ];
        let aws = "The resource type AWS::Backup::BackupPlan is invalid. Only the following values are permitted: [AWS::ACM::Certificate, AWS::S3::Bucket]";
        assert_eq!(
            refused_type(&failure(aws), &batch).as_deref(),
            Some("AWS::Backup::BackupPlan")
        );
        // Not in the batch, or another complaint: not a refusal of a type.
        assert_eq!(refused_type(&failure(aws), &batch[1..]), None);
        assert_eq!(
            refused_type(&failure("The annotation is too long"), &batch),
            None
        );
    }

    /// Delivers one evaluation to `memory`, whose next `failing` calls report it failed: what
    /// became of it, and how long it took on the test's paused clock.
    async fn deliver_one(
        memory: &Memory,
        failing: usize,
        policy: RetryPolicy,
        deadline: Option<Deadline>,
    ) -> (Delivered, Duration) {
        *memory.failing_puts.lock().unwrap() = failing;
        let token = ResultToken::Live("t".into());
        let start = Instant::now();
        let mut delivery = Delivery::new(&memory, &token, policy, deadline);
        delivery
            .push(evaluation("AWS::SageMaker::MonitoringSchedule"))
            .await;
        let delivered = delivery.finish().await;
        (delivered, Instant::now() - start)
    }

    fn at_ms(millis: &[u64]) -> Vec<Duration> {
        millis.iter().copied().map(Duration::from_millis).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn failed_evaluations_are_retried_after_delays_doubling_up_to_two_seconds() {
        let memory = Memory::new();
        let (delivered, took) = deliver_one(&memory, 5, RetryPolicy::default(), None).await;
        // 250 ms, then 500 ms, 1 s, 2 s, and 2 s again: the sixth attempt is taken.
        assert_eq!(
            memory.called("PutEvaluations"),
            at_ms(&[0, 250, 750, 1_750, 3_750, 5_750])
        );
        assert_eq!(took, Duration::from_millis(5_750));
        assert_eq!(delivered.delivered, 1);
        assert!(delivered.undelivered.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn evaluations_failing_every_attempt_the_policy_allows_are_named_undelivered() {
        let memory = Memory::new();
        let policy = RetryPolicy {
            attempts: 3,
            ..RetryPolicy::default()
        };
        let (delivered, took) = deliver_one(&memory, usize::MAX, policy, None).await;
        assert_eq!(memory.called("PutEvaluations"), at_ms(&[0, 250, 750]));
        assert_eq!(took, Duration::from_millis(750));
        assert_eq!(delivered.delivered, 0);
        assert_eq!(
            delivered.undelivered,
            [Undelivered {
                resource_type: "AWS::SageMaker::MonitoringSchedule".into(),
                resource_id: "id".into(),
                reason: "PutEvaluations reported it in FailedEvaluations 3 time(s)".into(),
            }]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn evaluations_still_failing_at_the_last_delivery_moment_are_named_undelivered() {
        let memory = Memory::new();
        let policy = RetryPolicy {
            attempts: 20,
            ..RetryPolicy::default()
        };
        // `last_delivery` is 7 s from now: the retry due at 7.75 s is not made.
        let deadline = Deadline::within(Duration::from_secs(8), Duration::from_secs(4));
        let (delivered, took) = deliver_one(&memory, usize::MAX, policy, Some(deadline)).await;
        assert_eq!(
            memory.called("PutEvaluations"),
            at_ms(&[0, 250, 750, 1_750, 3_750, 5_750])
        );
        assert_eq!(took, Duration::from_millis(5_750));
        assert_eq!(delivered.undelivered.len(), 1);
        assert_eq!(
            delivered.undelivered[0].reason,
            "PutEvaluations reported it in FailedEvaluations 6 time(s)"
        );
    }
}
