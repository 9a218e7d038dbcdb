//! Security Hub's SageMaker.14 findings set against the rule's verdicts: which finding changes,
//! and to what, decided from plain data (the verdicts, the findings as read, this project's
//! marker) and nothing else.
//!
//! The control reads only an embedded job definition, so it fails every schedule that names a
//! standalone one, isolated or not. Where the rule judged such a schedule COMPLIANT, its finding
//! gets a note with the evidence (and, with `suppress`, the workflow status SUPPRESSED). A
//! suppression never outlives its evidence: once the rule no longer judges the schedule
//! COMPLIANT, a finding it suppressed goes back to NOTIFIED, and a note of its own that no longer
//! holds is withdrawn. Nothing else is touched: other controls, archived findings, other
//! accounts and regions, findings the control gets right, and findings someone else has
//! annotated, suppressed or resolved. A finding already as the rule wants it is left alone, so a
//! second sweep with nothing changed writes nothing.

use crate::core::verdict::Compliance;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use std::collections::{BTreeMap, HashMap};

/// The control whose findings are reconciled.
pub const CONTROL: &str = "SageMaker.14";
/// `Note.UpdatedBy` on every note this project writes: how it knows its own notes again.
pub const MARKER: &str = "sagemaker-monitoring-schedule-isolation";
/// `Note.Text` (and `Note.UpdatedBy`) take at most this many characters.
pub const NOTE_LIMIT: usize = 512;
/// BatchUpdateFindings takes at most this many finding identifiers.
pub const BATCH_LIMIT: usize = 100;
/// The longest rule name a note quotes; longer ones are cut, so the evidence always fits.
const RULE_NAME_IN_NOTE: usize = 64;

/// What the `SecurityHub` rule parameter turns on (it is off unless set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconcile {
    /// A note on each finding the control gets wrong; no workflow change.
    Annotate,
    /// The note, and the finding SUPPRESSED.
    Suppress,
}

impl Reconcile {
    pub fn as_str(self) -> &'static str {
        match self {
            Reconcile::Annotate => "annotate",
            Reconcile::Suppress => "suppress",
        }
    }
}

/// `Workflow.Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Workflow {
    New,
    Notified,
    Resolved,
    Suppressed,
}

impl Workflow {
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::New => "NEW",
            Workflow::Notified => "NOTIFIED",
            Workflow::Resolved => "RESOLVED",
            Workflow::Suppressed => "SUPPRESSED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Workflow::New,
            Workflow::Notified,
            Workflow::Resolved,
            Workflow::Suppressed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// `Compliance.Status`: what the control found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlStatus {
    Passed,
    Failed,
    Warning,
    NotAvailable,
}

impl ControlStatus {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "PASSED" => Some(ControlStatus::Passed),
            "FAILED" => Some(ControlStatus::Failed),
            "WARNING" => Some(ControlStatus::Warning),
            "NOT_AVAILABLE" => Some(ControlStatus::NotAvailable),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub updated_by: String,
}

/// A finding as GetFindings returned it, reduced to what the decision reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub id: String,
    pub product_arn: String,
    pub account: String,
    pub region: String,
    /// `Compliance.SecurityControlId`.
    pub control: Option<String>,
    pub status: Option<ControlStatus>,
    /// `None` when absent or not a status this rule knows: such a finding is left alone.
    pub workflow: Option<Workflow>,
    /// `RecordState` is ACTIVE.
    pub active: bool,
    /// `Resources[].Id`: the schedule's ARN, for this control.
    pub resources: Vec<String>,
    pub note: Option<Note>,
}

impl Finding {
    fn ours(&self) -> bool {
        self.note
            .as_ref()
            .is_some_and(|note| note.updated_by == MARKER)
    }
}

/// The rule's verdict on one schedule, under the schedule's ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub arn: String,
    pub name: Option<String>,
    pub compliance: Compliance,
    pub annotation: String,
    /// When the verdict holds from (the evaluation's ordering timestamp).
    pub at: DateTime,
}

/// The account and region the rule judged in: the only findings it may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

impl Scope {
    /// The account and region of a resource ARN (`arn:partition:service:region:account:...`).
    pub fn of_arn(arn: &str) -> Option<Scope> {
        let mut parts = arn.split(':');
        let (_arn, _partition, _service) = (parts.next()?, parts.next()?, parts.next()?);
        let region = parts.next().filter(|region| !region.is_empty())?;
        let account = parts.next().filter(|account| !account.is_empty())?;
        parts.next()?;
        Some(Scope {
            account: account.to_owned(),
            region: region.to_owned(),
        })
    }

    /// The account and region most of the verdicts' ARNs name (the first of those named as
    /// often). A sweep lists one account's region, so all of them do, unless a recorded
    /// schedule carries an ARN from elsewhere.
    fn most_named(judged: &[Judged]) -> Option<Scope> {
        let mut counts: Vec<(Scope, usize)> = Vec::new();
        for scope in judged.iter().filter_map(|j| Scope::of_arn(&j.arn)) {
            match counts.iter_mut().find(|(known, _)| *known == scope) {
                Some((_, count)) => *count += 1,
                None => counts.push((scope, 1)),
            }
        }
        let most = counts.iter().map(|(_, count)| *count).max()?;
        counts
            .into_iter()
            .find(|(_, count)| *count == most)
            .map(|(scope, _)| scope)
    }
}

/// GetFindings takes at most this many values for one filter field.
pub const FILTER_VALUES: usize = 20;

/// Which findings to read: the ACTIVE SageMaker.14 findings of the scope, and of only these
/// schedules when there are few enough to name (a change event's one); empty: all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub scope: Scope,
    pub resources: Vec<String>,
}

impl Query {
    /// The query for these verdicts in `scope` (the account and region the rule acted in, when
    /// the door knows them), else in the account and region most of their ARNs name; `None`
    /// when there are no verdicts, or no ARN names an account and region.
    pub fn for_judged(judged: &[Judged], scope: Option<Scope>) -> Option<Query> {
        if judged.is_empty() {
            return None;
        }
        let scope = scope.or_else(|| Scope::most_named(judged))?;
        let resources = if judged.len() <= FILTER_VALUES {
            judged.iter().map(|j| j.arn.clone()).collect()
        } else {
            Vec::new()
        };
        Some(Query { scope, resources })
    }
}

/// What a change does to a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// The evidence noted; the workflow as it was.
    Annotate,
    /// The evidence noted, and the finding SUPPRESSED.
    Suppress,
    /// A finding this rule suppressed back to NOTIFIED: the evidence no longer holds.
    Reopen,
    /// This rule's earlier note withdrawn (the finding was not suppressed).
    Withdraw,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Annotate => "annotate",
            Action::Suppress => "suppress",
            Action::Reopen => "reopen",
            Action::Withdraw => "withdraw",
        }
    }
}

/// One finding to update: BatchUpdateFindings with this note and, when `to` differs from
/// `from`, this workflow status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub finding: String,
    pub product_arn: String,
    pub schedule: String,
    pub action: Action,
    pub from: Workflow,
    pub to: Workflow,
    pub note: String,
}

impl Change {
    /// The workflow status the update sets, if it sets one.
    pub fn workflow(&self) -> Option<Workflow> {
        (self.to != self.from).then_some(self.to)
    }
}

/// Why a finding was left as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Left {
    /// Already as the rule wants it, with the rule's note.
    AlreadyRight,
    /// Not a SageMaker.14 finding.
    OtherControl,
    /// `RecordState` ARCHIVED.
    Archived,
    /// Of another account or region.
    OtherScope,
    /// Its workflow status is missing or unknown.
    Unreadable,
    /// For a schedule the rule did not judge in this invocation.
    NotJudged,
    /// The rule has nothing to correct: the control agrees with it, or the rule does not judge
    /// the schedule COMPLIANT.
    NoCorrection,
    /// Someone else's: another's note, a suppression without this rule's note, or RESOLVED.
    Others,
}

impl Left {
    pub fn as_str(self) -> &'static str {
        match self {
            Left::AlreadyRight => "already right",
            Left::OtherControl => "another control",
            Left::Archived => "archived",
            Left::OtherScope => "another account or region",
            Left::Unreadable => "workflow status unreadable",
            Left::NotJudged => "schedule not judged in this invocation",
            Left::NoCorrection => "nothing to correct",
            Left::Others => "someone else's note or workflow",
        }
    }
}

/// Every finding read, decided: the changes to make, and how many were left, by why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    pub changes: Vec<Change>,
    pub left: BTreeMap<Left, usize>,
}

impl Decision {
    pub fn already_right(&self) -> usize {
        self.left.get(&Left::AlreadyRight).copied().unwrap_or(0)
    }
}

/// What the reconciliation needs besides the verdicts and the findings.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub mode: Reconcile,
    /// The Config rule's name, quoted in each note.
    pub rule: &'a str,
    pub scope: &'a Scope,
}

/// Decides every finding against the verdicts.
pub fn decide(judged: &[Judged], findings: &[Finding], context: Context<'_>) -> Decision {
    let by_arn: HashMap<&str, &Judged> = judged.iter().map(|j| (j.arn.as_str(), j)).collect();
    let mut decision = Decision::default();
    for finding in findings {
        let verdict = finding
            .resources
            .iter()
            .find_map(|id| by_arn.get(id.as_str()).copied());
        match decide_one(finding, verdict, context) {
            Ok(change) => decision.changes.push(change),
            Err(left) => *decision.left.entry(left).or_default() += 1,
        }
    }
    decision
}

/// One finding: the change to make, or why it is left.
pub fn decide_one(
    finding: &Finding,
    verdict: Option<&Judged>,
    context: Context<'_>,
) -> Result<Change, Left> {
    if finding.control.as_deref() != Some(CONTROL) {
        return Err(Left::OtherControl);
    }
    if !finding.active {
        return Err(Left::Archived);
    }
    if finding.account != context.scope.account || finding.region != context.scope.region {
        return Err(Left::OtherScope);
    }
    let workflow = finding.workflow.ok_or(Left::Unreadable)?;
    let verdict = verdict.ok_or(Left::NotJudged)?;
    let ours = finding.ours();
    let someone_elses = (finding.note.is_some() && !ours)
        || workflow == Workflow::Resolved
        || (workflow == Workflow::Suppressed && !ours);
    if someone_elses {
        return Err(Left::Others);
    }
    let (action, to, body) = match verdict.compliance {
        Compliance::Compliant if finding.status != Some(ControlStatus::Failed) => {
            return Err(if ours {
                Left::AlreadyRight
            } else {
                Left::NoCorrection
            });
        }
        Compliance::Compliant => match context.mode {
            Reconcile::Annotate => (Action::Annotate, workflow, evidence(verdict)),
            Reconcile::Suppress => (Action::Suppress, Workflow::Suppressed, evidence(verdict)),
        },
        Compliance::NonCompliant | Compliance::NotApplicable if !ours => {
            return Err(Left::NoCorrection);
        }
        Compliance::NonCompliant | Compliance::NotApplicable => match workflow {
            Workflow::Suppressed => (Action::Reopen, Workflow::Notified, withdrawal(verdict)),
            _ => (Action::Withdraw, workflow, withdrawal(verdict)),
        },
    };
    let noted = finding
        .note
        .as_ref()
        .is_some_and(|note| ours && says(&note.text, &body));
    if noted && to == workflow {
        return Err(Left::AlreadyRight);
    }
    Ok(Change {
        finding: finding.id.clone(),
        product_arn: finding.product_arn.clone(),
        schedule: verdict.name.clone().unwrap_or_else(|| verdict.arn.clone()),
        action,
        from: workflow,
        to,
        note: note(&body, context.rule, verdict.at),
    })
}

/// The evidence for a schedule judged COMPLIANT: the rule's own annotation (the job definition's
/// type and name, and that its `NetworkConfig.EnableNetworkIsolation` is true).
fn evidence(verdict: &Judged) -> String {
    format!(
        "Network isolation is on: {} SageMaker.14 reads only an embedded job definition, so it fails every schedule that names one.",
        verdict.annotation
    )
}

/// Why the rule's earlier note (and suppression) no longer holds.
fn withdrawal(verdict: &Judged) -> String {
    format!(
        "No longer confirmed: this schedule is now {}: {} This rule's earlier note no longer holds.",
        verdict.compliance, verdict.annotation
    )
}

/// The whole note: the body (which says what the rule found) and who said it when.
fn note(body: &str, rule: &str, at: DateTime) -> String {
    let rule = if rule.chars().count() > RULE_NAME_IN_NOTE {
        let cut: String = rule.chars().take(RULE_NAME_IN_NOTE - 1).collect();
        format!("{cut}…")
    } else {
        rule.to_owned()
    };
    let time = at.fmt(Format::DateTime).unwrap_or_default();
    fit(format!("{body}{SIGNED}{rule} at {time}."))
}

/// Between a note's body and the rule's name.
const SIGNED: &str = " Judged by AWS Config rule ";

/// Whether a note says `body`, whoever signed it and whenever.
fn says(text: &str, body: &str) -> bool {
    text.strip_prefix(body)
        .is_some_and(|rest| rest.starts_with(SIGNED))
}

/// A note cut to what Security Hub takes, on a character boundary.
fn fit(text: String) -> String {
    if text.chars().count() <= NOTE_LIMIT {
        return text;
    }
    text.chars().take(NOTE_LIMIT - 1).chain(['…']).collect()
}

/// One BatchUpdateFindings request: findings that get the same note and workflow status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub note: String,
    pub workflow: Option<Workflow>,
    /// `(Id, ProductArn)` of each finding, at most [`BATCH_LIMIT`].
    pub findings: Vec<(String, String)>,
}

/// The changes as requests: BatchUpdateFindings sets one note and one status on every finding
/// it names, so findings are grouped by what they get, in the order first met, a hundred at most
/// to a request.
pub fn batches(changes: &[Change]) -> Vec<Batch> {
    let mut groups: Vec<Batch> = Vec::new();
    for change in changes {
        let identifier = (change.finding.clone(), change.product_arn.clone());
        let workflow = change.workflow();
        match groups
            .iter_mut()
            .find(|group| group.note == change.note && group.workflow == workflow)
        {
            Some(group) => group.findings.push(identifier),
            None => groups.push(Batch {
                note: change.note.clone(),
                workflow,
                findings: vec![identifier],
            }),
        }
    }
    groups
        .into_iter()
        .flat_map(|group| {
            group
                .findings
                .chunks(BATCH_LIMIT)
                .map(|chunk| Batch {
                    note: group.note.clone(),
                    workflow: group.workflow,
                    findings: chunk.to_vec(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Compliance::*;

    const ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/fraud-bias";
    const ISOLATED: &str =
        "ModelBias job definition 'fraud-bias-jd' has NetworkConfig.EnableNetworkIsolation=true.";
    const OPEN: &str = "ModelBias job definition 'fraud-bias-jd' sets EnableNetworkIsolation=false. Job definitions are immutable: use a copy with EnableNetworkIsolation=true.";

    fn scope() -> Scope {
        Scope::of_arn(ARN).unwrap()
    }

    fn judged(compliance: Compliance, annotation: &str) -> Judged {
        Judged {
            arn: ARN.into(),
            name: Some("fraud-bias".into()),
            compliance,
            annotation: annotation.into(),
            at: DateTime::from_secs(1_795_860_000),
        }
    }

    /// A FAILED, ACTIVE, NEW control finding for the schedule, with no note.
    fn failed() -> Finding {
        crate::rule::security_hub::memory::failed("1", ARN)
    }

    fn one(finding: &Finding, verdict: Option<&Judged>, mode: Reconcile) -> Result<Change, Left> {
        let scope = scope();
        decide_one(
            finding,
            verdict,
            Context {
                mode,
                rule: "sm14",
                scope: &scope,
            },
        )
    }

    /// The finding after `change` was applied, as the next read would return it.
    fn applied(mut finding: Finding, change: &Change) -> Finding {
        finding.workflow = Some(change.to);
        finding.note = Some(Note {
            text: change.note.clone(),
            updated_by: MARKER.into(),
        });
        finding
    }

    fn with(mut finding: Finding, edit: impl FnOnce(&mut Finding)) -> Finding {
        edit(&mut finding);
        finding
    }

    fn note_by(by: &str, text: &str) -> Option<Note> {
        Some(Note {
            text: text.into(),
            updated_by: by.into(),
        })
    }

    /// Every rule of the decision, one row each: the finding as read, the rule's verdict (none:
    /// not judged), the mode, and what must come of it (the action and the status it leaves).
    #[test]
    fn the_decision_table() {
        use Action::*;
        use Reconcile::{Annotate as A, Suppress as S};
        use Workflow::*;
        let compliant = judged(Compliant, ISOLATED);
        let open = judged(NonCompliant, OPEN);
        let exempt = judged(NotApplicable, "Exempt: tagged sandbox.");
        let suppressed_by_us = applied(failed(), &one(&failed(), Some(&compliant), S).unwrap());
        let annotated_by_us = applied(failed(), &one(&failed(), Some(&compliant), A).unwrap());
        type Row = (
            &'static str,
            Finding,
            Option<Judged>,
            Reconcile,
            Result<(Action, Workflow), Left>,
        );
        let rows: Vec<Row> = vec![
            (
                "annotate a false failure",
                failed(),
                Some(compliant.clone()),
                A,
                Ok((Annotate, New)),
            ),
            (
                "annotate keeps NOTIFIED",
                with(failed(), |f| f.workflow = Some(Notified)),
                Some(compliant.clone()),
                A,
                Ok((Annotate, Notified)),
            ),
            (
                "suppress a false failure",
                failed(),
                Some(compliant.clone()),
                S,
                Ok((Suppress, Suppressed)),
            ),
            (
                "suppress after annotating",
                annotated_by_us.clone(),
                Some(compliant.clone()),
                S,
                Ok((Suppress, Suppressed)),
            ),
            (
                "already suppressed, with the note",
                suppressed_by_us.clone(),
                Some(compliant.clone()),
                S,
                Err(Left::AlreadyRight),
            ),
            (
                "already annotated, with the note",
                annotated_by_us.clone(),
                Some(compliant.clone()),
                A,
                Err(Left::AlreadyRight),
            ),
            (
                "annotate leaves its own suppression",
                suppressed_by_us.clone(),
                Some(compliant.clone()),
                A,
                Err(Left::AlreadyRight),
            ),
            (
                "new evidence, new note",
                suppressed_by_us.clone(),
                Some(judged(
                    Compliant,
                    "DataQuality job definition 'other' has NetworkConfig.EnableNetworkIsolation=true.",
                )),
                S,
                Ok((Suppress, Suppressed)),
            ),
            (
                "regression reopens",
                suppressed_by_us.clone(),
                Some(open.clone()),
                S,
                Ok((Reopen, Notified)),
            ),
            (
                "regression reopens, annotate too",
                suppressed_by_us.clone(),
                Some(open.clone()),
                A,
                Ok((Reopen, Notified)),
            ),
            (
                "exempt now: the suppression goes",
                suppressed_by_us.clone(),
                Some(exempt.clone()),
                S,
                Ok((Reopen, Notified)),
            ),
            (
                "regression withdraws a note",
                annotated_by_us.clone(),
                Some(open.clone()),
                A,
                Ok((Withdraw, New)),
            ),
            (
                "other control",
                with(failed(), |f| f.control = Some("SageMaker.11".into())),
                Some(compliant.clone()),
                S,
                Err(Left::OtherControl),
            ),
            (
                "no control id",
                with(failed(), |f| f.control = None),
                Some(compliant.clone()),
                S,
                Err(Left::OtherControl),
            ),
            (
                "archived",
                with(failed(), |f| f.active = false),
                Some(compliant.clone()),
                S,
                Err(Left::Archived),
            ),
            (
                "archived, even if ours",
                with(suppressed_by_us.clone(), |f| f.active = false),
                Some(open.clone()),
                S,
                Err(Left::Archived),
            ),
            (
                "another account",
                with(failed(), |f| f.account = "210987654321".into()),
                Some(compliant.clone()),
                S,
                Err(Left::OtherScope),
            ),
            (
                "another region",
                with(failed(), |f| f.region = "eu-west-1".into()),
                Some(compliant.clone()),
                S,
                Err(Left::OtherScope),
            ),
            (
                "unknown workflow",
                with(failed(), |f| f.workflow = None),
                Some(compliant.clone()),
                S,
                Err(Left::Unreadable),
            ),
            ("not judged", failed(), None, S, Err(Left::NotJudged)),
            (
                "control agrees: FAILED and NON_COMPLIANT",
                failed(),
                Some(open.clone()),
                S,
                Err(Left::NoCorrection),
            ),
            (
                "control agrees: PASSED and COMPLIANT",
                with(failed(), |f| f.status = Some(ControlStatus::Passed)),
                Some(compliant.clone()),
                S,
                Err(Left::NoCorrection),
            ),
            (
                "exempt, not ours",
                failed(),
                Some(exempt.clone()),
                S,
                Err(Left::NoCorrection),
            ),
            (
                "control could not tell",
                with(failed(), |f| f.status = Some(ControlStatus::NotAvailable)),
                Some(compliant.clone()),
                S,
                Err(Left::NoCorrection),
            ),
            (
                "someone else's note",
                with(failed(), |f| f.note = note_by("alice", "accepted risk")),
                Some(compliant.clone()),
                S,
                Err(Left::Others),
            ),
            (
                "someone else's note, even on regression",
                with(suppressed_by_us.clone(), |f| {
                    f.note = note_by("alice", "keep")
                }),
                Some(open.clone()),
                S,
                Err(Left::Others),
            ),
            (
                "someone else suppressed it",
                with(failed(), |f| f.workflow = Some(Suppressed)),
                Some(compliant.clone()),
                S,
                Err(Left::Others),
            ),
            (
                "someone else suppressed it, on regression",
                with(failed(), |f| f.workflow = Some(Suppressed)),
                Some(open.clone()),
                S,
                Err(Left::Others),
            ),
            (
                "resolved",
                with(failed(), |f| f.workflow = Some(Resolved)),
                Some(compliant.clone()),
                S,
                Err(Left::Others),
            ),
            (
                "resolved with our note",
                with(annotated_by_us.clone(), |f| f.workflow = Some(Resolved)),
                Some(open.clone()),
                S,
                Err(Left::Others),
            ),
            (
                "control passes now, our suppression stays",
                with(suppressed_by_us.clone(), |f| {
                    f.status = Some(ControlStatus::Passed)
                }),
                Some(compliant.clone()),
                S,
                Err(Left::AlreadyRight),
            ),
        ];
        for (name, finding, verdict, mode, want) in rows {
            let got =
                one(&finding, verdict.as_ref(), mode).map(|change| (change.action, change.to));
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_change_applied_is_already_right_the_next_time() {
        for (mode, verdict) in [
            (Reconcile::Annotate, judged(Compliant, ISOLATED)),
            (Reconcile::Suppress, judged(Compliant, ISOLATED)),
        ] {
            let change = one(&failed(), Some(&verdict), mode).unwrap();
            let after = applied(failed(), &change);
            // The next sweep judges at another time: the note is still right.
            let later = Judged {
                at: DateTime::from_secs(1_795_946_400),
                ..verdict.clone()
            };
            assert_eq!(one(&after, Some(&later), mode), Err(Left::AlreadyRight));
            // And after a regression is undone, it stays undone.
            let reopened = one(&after, Some(&judged(NonCompliant, OPEN)), mode).unwrap();
            let after = applied(after, &reopened);
            assert_eq!(
                one(&after, Some(&judged(NonCompliant, OPEN)), mode),
                Err(Left::AlreadyRight)
            );
        }
    }

    #[test]
    fn notes_carry_the_evidence_the_rule_and_the_time() {
        let change = one(
            &failed(),
            Some(&judged(Compliant, ISOLATED)),
            Reconcile::Suppress,
        )
        .unwrap();
        assert_eq!(
            change.note,
            "Network isolation is on: ModelBias job definition 'fraud-bias-jd' has NetworkConfig.EnableNetworkIsolation=true. SageMaker.14 reads only an embedded job definition, so it fails every schedule that names one. Judged by AWS Config rule sm14 at 2026-11-28T10:00:00Z."
        );
        assert_eq!(change.schedule, "fraud-bias");
        assert_eq!(
            (change.from, change.workflow()),
            (Workflow::New, Some(Workflow::Suppressed))
        );
        let suppressed = applied(failed(), &change);
        let reopen = one(
            &suppressed,
            Some(&judged(NonCompliant, OPEN)),
            Reconcile::Suppress,
        )
        .unwrap();
        assert!(
            reopen.note.starts_with(&format!(
                "No longer confirmed: this schedule is now NON_COMPLIANT: {OPEN}"
            )),
            "{}",
            reopen.note
        );
        assert_eq!(reopen.workflow(), Some(Workflow::Notified));
    }

    #[test]
    fn the_longest_evidence_and_rule_name_fit_a_note_whole() {
        let annotation = crate::core::verdict::fit("x".repeat(400));
        let rule = "r".repeat(128);
        for verdict in [
            judged(Compliant, &annotation),
            judged(NonCompliant, &annotation),
        ] {
            let scope = scope();
            let context = Context {
                mode: Reconcile::Suppress,
                rule: &rule,
                scope: &scope,
            };
            let finding = match verdict.compliance {
                Compliant => failed(),
                _ => applied(
                    failed(),
                    &decide_one(&failed(), Some(&judged(Compliant, ISOLATED)), context).unwrap(),
                ),
            };
            let change = decide_one(&finding, Some(&verdict), context).unwrap();
            assert!(
                change.note.chars().count() <= NOTE_LIMIT,
                "{}",
                change.note.len()
            );
            assert!(
                change.note.ends_with("at 2026-11-28T10:00:00Z."),
                "{}",
                change.note
            );
            let after = applied(finding, &change);
            assert_eq!(
                decide_one(&after, Some(&verdict), context),
                Err(Left::AlreadyRight)
            );
        }
    }

    #[test]
    fn findings_are_matched_by_any_resource_and_counted_by_why_they_are_left() {
        let scope = scope();
        let other = "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/other";
        let findings = vec![
            with(failed(), |f| {
                f.resources = vec![
                    "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e".into(),
                    ARN.into(),
                ]
            }),
            with(failed(), |f| f.resources = vec![other.into()]),
            with(failed(), |f| f.active = false),
        ];
        let decision = decide(
            &[judged(Compliant, ISOLATED)],
            &findings,
            Context {
                mode: Reconcile::Annotate,
                rule: "sm14",
                scope: &scope,
            },
        );
        assert_eq!(decision.changes.len(), 1);
        assert_eq!(
            decision.left,
            BTreeMap::from([(Left::Archived, 1), (Left::NotJudged, 1)])
        );
        assert_eq!(decision.already_right(), 0);
    }

    #[test]
    fn batches_share_one_note_and_status_and_hold_a_hundred_at_most() {
        let change = |i: usize, note: &str, to: Workflow| Change {
            finding: format!("f-{i}"),
            product_arn: "p".into(),
            schedule: format!("s-{i}"),
            action: Action::Suppress,
            from: Workflow::New,
            to,
            note: note.into(),
        };
        let mut changes: Vec<Change> = (0..250)
            .map(|i| change(i, "a", Workflow::Suppressed))
            .collect();
        changes.push(change(250, "b", Workflow::Suppressed));
        changes.push(change(251, "a", Workflow::New));
        let batches = batches(&changes);
        let shape: Vec<(&str, Option<Workflow>, usize)> = batches
            .iter()
            .map(|b| (b.note.as_str(), b.workflow, b.findings.len()))
            .collect();
        assert_eq!(
            shape,
            [
                ("a", Some(Workflow::Suppressed), 100),
                ("a", Some(Workflow::Suppressed), 100),
                ("a", Some(Workflow::Suppressed), 50),
                ("b", Some(Workflow::Suppressed), 1),
                ("a", None, 1),
            ]
        );
        let every: usize = batches.iter().map(|b| b.findings.len()).sum();
        assert_eq!(every, changes.len());
    }

    #[test]
    fn a_few_schedules_are_named_in_the_query_and_many_are_not() {
        let one = Query::for_judged(&[judged(Compliant, ISOLATED)], None).unwrap();
        assert_eq!((one.scope, one.resources), (scope(), vec![ARN.to_owned()]));
        let many: Vec<Judged> = (0..=FILTER_VALUES)
            .map(|_| judged(Compliant, ISOLATED))
            .collect();
        assert!(Query::for_judged(&many, None).unwrap().resources.is_empty());
        assert_eq!(Query::for_judged(&[], Some(scope())), None);
    }

    #[test]
    fn the_scope_is_the_doors_or_the_one_most_arns_name() {
        let elsewhere = Judged {
            arn: "arn:aws:sagemaker:us-west-2:262002448484:monitoring-schedule/recorded".into(),
            ..judged(Compliant, ISOLATED)
        };
        let unnamed = Judged {
            arn: "arn:aws:monitoring-schedule".into(),
            ..judged(Compliant, ISOLATED)
        };
        let all = [
            unnamed,
            elsewhere,
            judged(Compliant, ISOLATED),
            judged(Compliant, ISOLATED),
        ];
        assert_eq!(Query::for_judged(&all, None).unwrap().scope, scope());
        let given = Scope {
            account: "210987654321".into(),
            region: "eu-west-1".into(),
        };
        assert_eq!(
            Query::for_judged(&all, Some(given.clone())).unwrap().scope,
            given
        );
    }

    #[test]
    fn a_scope_is_read_from_an_arn() {
        assert_eq!(
            Scope::of_arn(ARN),
            Some(Scope {
                account: "123456789012".into(),
                region: "us-east-1".into()
            })
        );
        assert_eq!(Scope::of_arn("arn:schedule/a"), None);
        assert_eq!(Scope::of_arn("arn:aws:iam::123456789012:role/r"), None);
    }
}
