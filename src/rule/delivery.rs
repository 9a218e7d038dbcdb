//! PutEvaluations in batches, with every evaluation accounted for: delivered, or named as not.

use crate::core::evaluation::Evaluation;
use crate::core::event::ResultToken;
use crate::error::{ApiFailure, FailureKind};
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

/// Keeps a whole flush within a few seconds (0.25 + 0.5 + 1 + 2 + 2 s at most between attempts),
/// so that delivery fits in the reserve kept before the Lambda deadline.
const MAX_DELAY: Duration = Duration::from_secs(2);

/// What became of every evaluation handed to a [`Delivery`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    pub delivered: usize,
    pub undelivered: Vec<Undelivered>,
    /// Config refused the resource type itself: `(type, Config's message)`.
    pub refused_type: Option<(String, String)>,
}

/// Collects evaluations and sends each batch as soon as it is full.
pub struct Delivery<'a, D> {
    sink: &'a D,
    token: &'a ResultToken,
    policy: RetryPolicy,
    pending: Vec<Evaluation>,
    outcome: Delivered,
}

impl<'a, D: Deliver> Delivery<'a, D> {
    pub fn new(sink: &'a D, token: &'a ResultToken, policy: RetryPolicy) -> Self {
        Delivery {
            sink,
            token,
            policy,
            pending: Vec::with_capacity(BATCH_LIMIT),
            outcome: Delivered::default(),
        }
    }

    pub async fn push(&mut self, evaluation: Evaluation) {
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

    async fn flush(&mut self) {
        let mut batch = std::mem::take(&mut self.pending);
        if let Some((resource_type, _)) = &self.outcome.refused_type {
            let reason = format!("Config refused ComplianceResourceType {resource_type}");
            self.give_up(batch, &reason);
            return;
        }
        let mut delay = self.policy.first_delay;
        let mut reason = String::new();
        for attempt in 1..=self.policy.attempts {
            match self.sink.put(&batch, self.token).await {
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
                        return;
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
                Err(failure) if is_type_refusal(&failure) => {
                    let resource_type = batch[0].compliance_resource_type.clone();
                    tracing::error!(%failure, resource_type, "Config refused the resource type");
                    self.outcome.refused_type = Some((resource_type, failure.message.clone()));
                    self.give_up(batch, &failure.to_string());
                    return;
                }
                Err(failure) if !failure.kind.is_transient() => {
                    tracing::error!(%failure, evaluations = batch.len(), "PutEvaluations failed");
                    self.give_up(batch, &failure.to_string());
                    return;
                }
                Err(failure) => {
                    tracing::warn!(%failure, attempt, "PutEvaluations failed; retrying the batch");
                    reason = failure.to_string();
                }
            }
            if attempt < self.policy.attempts {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_DELAY);
            }
        }
        self.give_up(batch, &reason);
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

/// Config answers an unknown ComplianceResourceType with InvalidParameterValueException and a
/// message that lists the permitted types.
fn is_type_refusal(failure: &ApiFailure) -> bool {
    failure.kind == FailureKind::Refused
        && failure.code.as_deref() == Some("InvalidParameterValueException")
        && failure
            .message
            .to_ascii_lowercase()
            .contains("resourcetype")
}
