//! Security Hub after the verdicts (`SecurityHub=annotate` or `suppress`): the control's
//! findings are read, decided against what was recorded (`core/security_hub.rs`), and updated
//! in batches, every change accounted for: made, planned (a dry run), or named with why not.
//!
//! Two ports, reads and writes apart, so a dry run holds no writer that writes: its writer only
//! plans. Each has its AWS implementation in `aws/security_hub.rs` and a twin in memory.

#[cfg(test)]
pub mod memory;

use crate::core::security_hub::{
    Action, Batch, Change, Context, Finding, Judged, Left, Query, Reconcile, Scope, batches, decide,
};
use crate::error::ApiFailure;
use crate::rule::deadline::{Abandoned, Deadline, within};
use crate::rule::delivery::{Backoff, RetryPolicy};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;

/// What GetFindings gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    Findings(Vec<Finding>),
    /// Security Hub is not enabled in the account and region (`InvalidAccessException`): AWS's
    /// message.
    NotEnabled(String),
}

/// Reading the control's findings. Nothing here writes.
pub trait FindingsReads: Sync {
    /// Every page of the findings `query` names.
    fn findings(&self, query: &Query) -> impl Future<Output = Result<Read, ApiFailure>> + Send;
}

/// A finding BatchUpdateFindings did not update, and Security Hub's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unprocessed {
    pub finding: String,
    pub code: String,
    pub message: String,
}

impl Unprocessed {
    /// Whether sending it again can succeed: a concurrent update or Security Hub's own
    /// temporary failure, not a finding that is gone or a request it refuses.
    fn is_temporary(&self) -> bool {
        matches!(
            self.code.as_str(),
            "ConcurrentUpdateError" | "InternalFailure" | "InternalException"
        ) || self.code.contains("Throttl")
            || self.code.contains("LimitExceeded")
    }
}

/// What one BatchUpdateFindings request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Updated {
    /// Sent; these findings were not updated.
    Applied(Vec<Unprocessed>),
    /// Worked out and not sent (a dry run).
    Planned,
}

/// Writing notes and workflow status. A dry run's writer plans and sends nothing.
pub trait FindingsWrites: Sync {
    /// One request: the batch's note and status on each of its findings (at most 100).
    fn update(&self, batch: &Batch) -> impl Future<Output = Result<Updated, ApiFailure>> + Send;
}

/// The findings of a service built without them ([`Service::new`](super::Service::new)): no
/// value exists, so nothing is ever read or written through it.
#[derive(Debug, Clone, Copy)]
pub enum NoFindings {}

impl FindingsReads for NoFindings {
    async fn findings(&self, _query: &Query) -> Result<Read, ApiFailure> {
        match *self {}
    }
}

impl FindingsWrites for NoFindings {
    async fn update(&self, _batch: &Batch) -> Result<Updated, ApiFailure> {
        match *self {}
    }
}

/// What became of one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    Applied,
    Planned,
    /// Not updated, and why (Security Hub's code and message, a failed call, the deadline).
    Unprocessed(String),
}

/// Why nothing was decided: notes for the report, not errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quiet {
    /// Security Hub is not enabled in the account and region: AWS's message.
    NotEnabled(String),
    /// No ACTIVE SageMaker.14 finding: the control is disabled, or finds nothing here.
    NoFindings,
    /// No monitoring schedule was judged, so there is nothing to set findings against.
    NothingJudged,
}

impl std::fmt::Display for Quiet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Quiet::NotEnabled(message) => write!(
                f,
                "Security Hub is not enabled in this account and region; nothing reconciled ({message})"
            ),
            Quiet::NoFindings => f.write_str(
                "no ACTIVE SageMaker.14 findings (is the control enabled?); nothing reconciled",
            ),
            Quiet::NothingJudged => {
                f.write_str("no monitoring schedule was judged; nothing reconciled")
            }
        }
    }
}

/// Everything the reconciliation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciled {
    pub mode: Reconcile,
    pub quiet: Option<Quiet>,
    /// Why the findings could not be read, if they could not.
    pub failure: Option<String>,
    pub changes: Vec<(Change, Fate)>,
    pub left: BTreeMap<Left, usize>,
}

impl Reconciled {
    fn new(mode: Reconcile) -> Self {
        Reconciled {
            mode,
            quiet: None,
            failure: None,
            changes: Vec::new(),
            left: BTreeMap::new(),
        }
    }

    /// `SecurityHub` asked for, through a service that was given no Security Hub to reach.
    pub fn unreachable(mode: Reconcile) -> Self {
        Reconciled {
            failure: Some("this service was built without Security Hub's findings".into()),
            ..Reconciled::new(mode)
        }
    }

    /// Changes of this kind made (or, in a dry run, planned).
    pub fn done(&self, action: Action) -> usize {
        self.changes
            .iter()
            .filter(|(change, fate)| {
                change.action == action && !matches!(fate, Fate::Unprocessed(_))
            })
            .count()
    }

    pub fn already_right(&self) -> usize {
        self.left.get(&Left::AlreadyRight).copied().unwrap_or(0)
    }

    /// The changes not made, and why.
    pub fn unprocessed(&self) -> impl Iterator<Item = (&Change, &str)> {
        self.changes.iter().filter_map(|(change, fate)| match fate {
            Fate::Unprocessed(reason) => Some((change, reason.as_str())),
            _ => None,
        })
    }

    pub fn is_complete(&self) -> bool {
        self.failure.is_none() && self.unprocessed().next().is_none()
    }

    /// One clause for the summary line: the counts, or the note that explains there are none.
    pub fn summary(&self) -> String {
        let mode = self.mode.as_str();
        if let Some(failure) = &self.failure {
            return format!("Security Hub ({mode}): not reconciled: {failure}");
        }
        if let Some(quiet) = &self.quiet {
            return format!("Security Hub ({mode}): {quiet}");
        }
        format!(
            "Security Hub ({mode}): {} annotated, {} suppressed, {} reopened, {} withdrawn, {} already right, {} unprocessed",
            self.done(Action::Annotate),
            self.done(Action::Suppress),
            self.done(Action::Reopen),
            self.done(Action::Withdraw),
            self.already_right(),
            self.unprocessed().count()
        )
    }

    /// Every change as a person reads it: what was (or, in a dry run, would be) done to which
    /// finding for which schedule, the workflow status from and to, and the note. Raw text from
    /// AWS: the door escapes it.
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        self.changes.iter().map(|(change, fate)| {
            let done = match fate {
                Fate::Applied => "did",
                Fate::Planned => "would",
                Fate::Unprocessed(_) => "could not",
            };
            let why = match fate {
                Fate::Unprocessed(reason) => format!(" ({reason})"),
                _ => String::new(),
            };
            format!(
                "Security Hub: {done} {} finding {} for schedule {}: {} -> {}{why}; note: {}",
                change.action.as_str(),
                change.finding,
                change.schedule,
                change.from.as_str(),
                change.to.as_str(),
                change.note
            )
        })
    }
}

/// How the reconciliation runs.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub mode: Reconcile,
    pub rule: &'a str,
    /// The account and region the rule acted in, when the door knows them.
    pub scope: Option<&'a Scope>,
    pub deadline: Option<Deadline>,
    pub retry: RetryPolicy,
}

/// Reads the findings of what was judged, decides, and makes (or plans) every change. Nothing is
/// started after the deadline's `stop_starting`; the read is given up at `abandon`; no request
/// is sent after `last_delivery`, nor waited for past `end`. What was left is named.
pub async fn reconcile<R: FindingsReads, W: FindingsWrites>(
    reads: &R,
    writes: &W,
    judged: &[Judged],
    settings: Settings<'_>,
) -> Reconciled {
    let mut reconciled = Reconciled::new(settings.mode);
    let Some(query) = Query::for_judged(judged, settings.scope.cloned()) else {
        reconciled.quiet = Some(Quiet::NothingJudged);
        return reconciled;
    };
    if let Some(deadline) = settings.deadline
        && deadline.passed(deadline.stop_starting)
    {
        reconciled.failure = Some("not started before the Lambda deadline".into());
        return reconciled;
    }
    let findings = match within(settings.deadline, reads.findings(&query)).await {
        Ok(Ok(Read::Findings(findings))) => findings,
        Ok(Ok(Read::NotEnabled(message))) => {
            tracing::info!(%message, "Security Hub is not enabled; nothing reconciled");
            reconciled.quiet = Some(Quiet::NotEnabled(message));
            return reconciled;
        }
        Ok(Err(failure)) => {
            tracing::error!(%failure, "could not read the SageMaker.14 findings");
            reconciled.failure = Some(failure.to_string());
            return reconciled;
        }
        Err(Abandoned) => {
            reconciled.failure = Some("GetFindings given up at the Lambda deadline".into());
            return reconciled;
        }
    };
    if findings.is_empty() {
        reconciled.quiet = Some(Quiet::NoFindings);
        return reconciled;
    }
    let context = Context {
        mode: settings.mode,
        rule: settings.rule,
        scope: &query.scope,
    };
    let decision = decide(judged, &findings, context);
    let left: Vec<String> = decision
        .left
        .iter()
        .map(|(why, count)| format!("{count} {}", why.as_str()))
        .collect();
    tracing::info!(
        findings = findings.len(),
        changes = decision.changes.len(),
        already_right = decision.already_right(),
        left = %left.join(", "),
        "SageMaker.14 findings decided"
    );
    reconciled.left = decision.left;
    let mut fates: HashMap<String, Fate> = HashMap::new();
    for batch in batches(&decision.changes) {
        fates.extend(send(writes, batch, settings).await);
    }
    reconciled.changes = decision
        .changes
        .into_iter()
        .map(|change| {
            let fate = fates
                .remove(&change.finding)
                .unwrap_or_else(|| Fate::Unprocessed("not sent".into()));
            tracing::info!(finding = %change.finding, schedule = %change.schedule, action = change.action.as_str(), from = change.from.as_str(), to = change.to.as_str(), ?fate, "Security Hub");
            (change, fate)
        })
        .collect();
    reconciled
}

/// One batch, with what Security Hub did not process sent again while that can help and the
/// policy and the deadline allow: the fate of each of its findings.
async fn send<W: FindingsWrites>(
    writes: &W,
    mut batch: Batch,
    settings: Settings<'_>,
) -> Vec<(String, Fate)> {
    let mut fates = Vec::new();
    let mut backoff = Backoff::new(&settings.retry, settings.deadline);
    let mut reason = String::from("not sent");
    for attempt in 1..=settings.retry.attempts {
        let update = writes.update(&batch);
        let answer = match settings.deadline {
            Some(deadline) if deadline.passed(deadline.last_delivery) => {
                reason = "not sent: too close to the Lambda deadline".into();
                break;
            }
            Some(deadline) => match tokio::time::timeout_at(deadline.end, update).await {
                Ok(answer) => answer,
                Err(_) => {
                    reason = "BatchUpdateFindings gave no answer before the Lambda deadline; Security Hub may or may not have updated it".into();
                    break;
                }
            },
            None => update.await,
        };
        let again: Vec<Unprocessed> = match answer {
            Ok(Updated::Planned) => {
                fates.extend(batch.findings.drain(..).map(|(id, _)| (id, Fate::Planned)));
                break;
            }
            Ok(Updated::Applied(unprocessed)) => {
                let by_id: HashMap<&str, &Unprocessed> = unprocessed
                    .iter()
                    .map(|u| (u.finding.as_str(), u))
                    .collect();
                let mut again = Vec::new();
                for (id, product) in std::mem::take(&mut batch.findings) {
                    match by_id.get(id.as_str()) {
                        None => fates.push((id, Fate::Applied)),
                        Some(u) if u.is_temporary() => {
                            again.push((*u).clone());
                            batch.findings.push((id, product));
                        }
                        Some(u) => fates.push((id, Fate::Unprocessed(described(u)))),
                    }
                }
                again
            }
            Err(failure) if !failure.kind.is_transient() => {
                reason = failure.to_string();
                break;
            }
            Err(failure) => {
                tracing::warn!(%failure, attempt, "BatchUpdateFindings failed; retrying the batch");
                reason = failure.to_string();
                Vec::new()
            }
        };
        if batch.findings.is_empty() {
            break;
        }
        if let Some(first) = again.first() {
            reason = format!("{} (after {attempt} attempt(s))", described(first));
            tracing::warn!(
                unprocessed = again.len(),
                attempt,
                "Security Hub did not process some findings; sending them again"
            );
        }
        if attempt < settings.retry.attempts && !backoff.wait().await {
            break;
        }
    }
    fates.extend(
        batch
            .findings
            .into_iter()
            .map(|(id, _)| (id, Fate::Unprocessed(reason.clone()))),
    );
    fates
}

/// `ErrorCode: ErrorMessage`, as Security Hub gave them.
fn described(unprocessed: &Unprocessed) -> String {
    if unprocessed.message.is_empty() {
        unprocessed.code.clone()
    } else {
        format!("{}: {}", unprocessed.code, unprocessed.message)
    }
}

#[cfg(test)]
mod tests {
    use super::memory::{Hub, failed};
    use super::*;
    use crate::aws::dry_run::DryRun;
    use crate::core::security_hub::Workflow;
    use crate::core::verdict::Compliance;
    use crate::error::FailureKind;
    use aws_smithy_types::DateTime;
    use std::time::Duration;

    fn arn(name: &str) -> String {
        format!("arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/{name}")
    }

    /// `count` schedules named `s-N`, each COMPLIANT through its own job definition `jd-(N % 3)`.
    fn compliant(count: usize) -> Vec<Judged> {
        (0..count)
            .map(|i| Judged {
                arn: arn(&format!("s-{i}")),
                name: Some(format!("s-{i}")),
                compliance: Compliance::Compliant,
                annotation: format!(
                    "ModelBias job definition 'jd-{}' has NetworkConfig.EnableNetworkIsolation=true.",
                    i % 3
                ),
                at: DateTime::from_secs(1_795_860_000),
            })
            .collect()
    }

    fn hub(count: usize) -> Hub {
        Hub::with(
            (0..count)
                .map(|i| failed(&i.to_string(), &arn(&format!("s-{i}"))))
                .collect(),
        )
    }

    fn settings(mode: Reconcile) -> Settings<'static> {
        Settings {
            mode,
            rule: "sm14",
            scope: None,
            deadline: None,
            retry: RetryPolicy {
                attempts: 3,
                first_delay: Duration::from_millis(100),
            },
        }
    }

    #[tokio::test]
    async fn false_failures_are_suppressed_in_batches_by_note_and_a_second_run_writes_nothing() {
        let hub = hub(250);
        let judged = compliant(250);
        let done = reconcile(&&hub, &&hub, &judged, settings(Reconcile::Suppress)).await;
        assert_eq!(done.done(Action::Suppress), 250);
        assert!(done.is_complete());
        let sizes = hub.batch_sizes();
        // Three notes (one per job definition): 84, 83 and 83 findings, each one request.
        assert_eq!(sizes, [84, 83, 83]);
        assert!(
            hub.states()
                .iter()
                .all(|(_, status, ours)| *status == Workflow::Suppressed && *ours)
        );
        let again = reconcile(&&hub, &&hub, &judged, settings(Reconcile::Suppress)).await;
        assert_eq!(again.already_right(), 250);
        assert!(again.changes.is_empty());
        assert_eq!(
            hub.requests.lock().unwrap().len(),
            3,
            "no request the second time"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unprocessed_findings_are_sent_again_and_then_named() {
        let hub = hub(3);
        hub.unprocessed.lock().unwrap().extend([
            (failed("0", "x").id, ("ConcurrentUpdateError", 1)),
            (failed("1", "x").id, ("InternalFailure", 5)),
            (failed("2", "x").id, ("FindingNotFound", 1)),
        ]);
        let done = reconcile(&&hub, &&hub, &compliant(3), settings(Reconcile::Annotate)).await;
        let fates: Vec<(&str, &Fate)> = done
            .changes
            .iter()
            .map(|(c, f)| (c.schedule.as_str(), f))
            .collect();
        assert_eq!(
            fates[0],
            ("s-0", &Fate::Applied),
            "applied on the second attempt"
        );
        assert_eq!(
            fates[1],
            (
                "s-1",
                &Fate::Unprocessed("InternalFailure: in memory (after 3 attempt(s))".into())
            )
        );
        assert_eq!(
            fates[2],
            (
                "s-2",
                &Fate::Unprocessed("FindingNotFound: in memory".into())
            )
        );
        assert_eq!(done.done(Action::Annotate), 1);
        assert!(!done.is_complete());
        // Each its own note, so its own request: s-0 twice, s-1 three times (every attempt the
        // policy allows), s-2 once (a finding that is gone is not sent again).
        let sent = hub.batch_sizes();
        assert_eq!(sent, [1, 1, 1, 1, 1, 1]);
    }

    #[tokio::test]
    async fn a_dry_run_plans_every_change_and_writes_nothing() {
        let hub = hub(2);
        let done = reconcile(
            &&hub,
            &DryRun::new(false),
            &compliant(2),
            settings(Reconcile::Suppress),
        )
        .await;
        assert_eq!(done.done(Action::Suppress), 2);
        assert!(done.changes.iter().all(|(_, fate)| *fate == Fate::Planned));
        assert!(
            hub.states()
                .iter()
                .all(|(_, status, ours)| *status == Workflow::New && !*ours)
        );
    }

    #[tokio::test]
    async fn not_enabled_no_findings_and_nothing_judged_are_notes_not_failures() {
        let off = Hub {
            not_enabled: true,
            ..Hub::default()
        };
        let done = reconcile(&&off, &&off, &compliant(1), settings(Reconcile::Annotate)).await;
        assert!(matches!(done.quiet, Some(Quiet::NotEnabled(_))));
        assert!(done.is_complete());
        let empty = Hub::default();
        let done = reconcile(
            &&empty,
            &&empty,
            &compliant(1),
            settings(Reconcile::Annotate),
        )
        .await;
        assert_eq!(done.quiet, Some(Quiet::NoFindings));
        let done = reconcile(&&empty, &&empty, &[], settings(Reconcile::Annotate)).await;
        assert_eq!(done.quiet, Some(Quiet::NothingJudged));
        assert_eq!(
            *empty.reads.lock().unwrap(),
            1,
            "nothing judged reads nothing"
        );
    }

    #[tokio::test]
    async fn a_read_that_fails_is_named() {
        let hub = Hub {
            read_failure: Some(ApiFailure {
                operation: "GetFindings",
                kind: FailureKind::AccessDenied,
                code: Some("AccessDeniedException".into()),
                message: "not authorized".into(),
                request_id: Some("r-1".into()),
            }),
            ..hub(1)
        };
        let done = reconcile(&&hub, &&hub, &compliant(1), settings(Reconcile::Annotate)).await;
        assert_eq!(
            done.failure.as_deref(),
            Some(
                "GetFindings: access denied (AccessDeniedException): not authorized (request id r-1)"
            )
        );
        assert!(!done.is_complete());
        assert!(hub.requests.lock().unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_that_hangs_is_given_up_at_the_deadline_and_nothing_starts_after_it() {
        let hub = Hub {
            read_latency: Some(Duration::from_secs(60)),
            ..hub(1)
        };
        let deadline = Deadline::within(Duration::from_secs(2), Duration::from_secs(1));
        let verdicts = compliant(1);
        let hub = &hub;
        let run = || {
            let settings = Settings {
                deadline: Some(deadline),
                ..settings(Reconcile::Suppress)
            };
            reconcile(&hub, &hub, &verdicts, settings)
        };
        let start = tokio::time::Instant::now();
        let done = run().await;
        assert_eq!(
            tokio::time::Instant::now() - start,
            Duration::from_millis(1_500)
        );
        assert_eq!(
            done.failure.as_deref(),
            Some("GetFindings given up at the Lambda deadline")
        );
        let done = run().await;
        assert_eq!(
            done.failure.as_deref(),
            Some("not started before the Lambda deadline")
        );
        assert_eq!(
            *hub.reads.lock().unwrap(),
            0,
            "the read never finished, the second never started"
        );
    }
}
