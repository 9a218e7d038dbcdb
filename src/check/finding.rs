//! What `check` says about one resource. A template can turn out more than one way (both
//! branches of an `Fn::If`), so a resource has one [`Outcome`] per way, and its [`Finding`] is
//! the worst of them.

use crate::check::intrinsics::MAX_ALTERNATIVES;
use crate::core::resource::JobDefinitionRef;
use crate::core::schedule::ScheduleView;
use crate::core::verdict::{Compliance, Judgement, Reading, Verdict, fit, judge};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// A finding's status: one of AWS Config's compliance types, or `UNRESOLVED`, which is not one
/// (Config has no such result): the verdict depends on something the input does not say.
/// Ordered from best to worst, so the worse of two is the greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    NotApplicable,
    Compliant,
    Unresolved,
    NonCompliant,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotApplicable => "NOT_APPLICABLE",
            Status::Compliant => "COMPLIANT",
            Status::Unresolved => "UNRESOLVED",
            Status::NonCompliant => "NON_COMPLIANT",
        }
    }
}

impl From<Compliance> for Status {
    fn from(compliance: Compliance) -> Self {
        match compliance {
            Compliance::Compliant => Status::Compliant,
            Compliance::NonCompliant => Status::NonCompliant,
            Compliance::NotApplicable => Status::NotApplicable,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One way a resource can turn out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The rule's own verdict (`core/verdict.rs`).
    Judged(Verdict),
    /// No verdict: `reason` says what could not be resolved. `lookup` is the job definition
    /// that would settle it, when its kind and complete name are known: `--resolve-live`
    /// describes it in the account.
    Unresolved {
        reason: String,
        lookup: Option<JobDefinitionRef>,
    },
}

impl Outcome {
    /// A schedule's configuration judged by itself: `Ok` with the job definition it names when
    /// only that definition can settle it, `Err` with the outcome when the schedule alone does
    /// (an embedded definition, or a configuration that cannot be read).
    pub fn of_schedule(configuration: &Value) -> Result<JobDefinitionRef, Outcome> {
        let view = ScheduleView::from_configuration(configuration)
            .map_err(|error| Outcome::unresolved(format!("Cannot read the schedule: {error}.")))?;
        match judge(&view.job, Reading::Resolved) {
            Judgement::Final(verdict) => Err(Outcome::Judged(verdict)),
            Judgement::NeedsJobDefinition(reference) => Ok(reference),
        }
    }

    pub fn unresolved(reason: impl Into<String>) -> Self {
        Outcome::Unresolved {
            reason: fit(reason.into()),
            lookup: None,
        }
    }

    pub fn status(&self) -> Status {
        match self {
            Outcome::Judged(verdict) => verdict.compliance.into(),
            Outcome::Unresolved { .. } => Status::Unresolved,
        }
    }

    pub fn annotation(&self) -> &str {
        match self {
            Outcome::Judged(verdict) => &verdict.annotation,
            Outcome::Unresolved { reason, .. } => reason,
        }
    }
}

/// `outcomes` without repeats, at most [`MAX_ALTERNATIVES`] of them and then the worst of the
/// rest: what decides the finding is kept, however many same-named job definitions an input
/// holds.
pub fn distinct(outcomes: impl IntoIterator<Item = Outcome>) -> Vec<Outcome> {
    let mut out: Vec<Outcome> = Vec::new();
    let mut worst_of_rest: Option<Outcome> = None;
    for outcome in outcomes {
        if out.contains(&outcome) {
            continue;
        }
        if out.len() < MAX_ALTERNATIVES {
            out.push(outcome);
        } else if worst_of_rest
            .as_ref()
            .is_none_or(|worst| outcome.status() > worst.status())
        {
            worst_of_rest = Some(outcome);
        }
    }
    out.extend(worst_of_rest);
    out
}

/// What the job definitions a schedule names come to, judged once per input for each kind and
/// name: thousands of schedules may name one job definition, and one name may be shared.
#[derive(Default)]
pub struct ByReference(BTreeMap<JobDefinitionRef, Vec<Outcome>>);

impl ByReference {
    pub fn judged(
        &mut self,
        reference: &JobDefinitionRef,
        judge: impl FnOnce() -> Vec<Outcome>,
    ) -> Vec<Outcome> {
        self.0
            .entry(reference.clone())
            .or_insert_with(|| distinct(judge()))
            .clone()
    }
}

/// One resource of one input, with every way it can turn out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The logical id (CloudFormation) or the address (Terraform).
    pub resource: String,
    /// The resource type as the input spells it.
    pub resource_type: String,
    /// The line (from 1) the resource starts on.
    pub line: usize,
    /// Never empty.
    pub outcomes: Vec<Outcome>,
}

/// What is reported for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    pub resource: String,
    pub resource_type: String,
    pub status: Status,
    pub annotation: String,
    pub line: usize,
}

impl Assessment {
    /// The worst outcome counts; when the ways differ, the annotation says it is the worse.
    pub fn finding(&self, file: &str) -> Finding {
        let worst = self
            .outcomes
            .iter()
            .fold(None::<&Outcome>, |worst, outcome| match worst {
                Some(w) if w.status() >= outcome.status() => Some(w),
                _ => Some(outcome),
            });
        let (status, annotation) = match worst {
            Some(outcome) => {
                let differ = self
                    .outcomes
                    .iter()
                    .any(|other| other.annotation() != outcome.annotation());
                let annotation = if differ {
                    format!(
                        "The worse of {} alternatives (Fn::If): {}",
                        self.outcomes.len(),
                        outcome.annotation()
                    )
                } else {
                    outcome.annotation().to_owned()
                };
                (outcome.status(), fit(annotation))
            }
            None => (Status::Unresolved, "Nothing to judge.".to_owned()),
        };
        Finding {
            file: file.to_owned(),
            resource: self.resource.clone(),
            resource_type: self.resource_type.clone(),
            status,
            annotation,
            line: self.line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(compliance: Compliance, text: &str) -> Outcome {
        let verdict = match compliance {
            Compliance::NotApplicable => Verdict::not_applicable(text),
            _ => {
                // Build through the rule's own verdict so the test cannot invent one.
                let network = crate::core::schedule::Network {
                    isolation: Some(compliance == Compliance::Compliant),
                    vpc: false,
                };
                crate::core::verdict::judge_job_definition(
                    &JobDefinitionRef::new(
                        crate::core::resource::MonitoringKind::DataQuality,
                        text,
                    ),
                    &crate::core::verdict::JobDefinitionState::Found(Some(network)),
                )
            }
        };
        Outcome::Judged(verdict)
    }

    fn assessment(outcomes: Vec<Outcome>) -> Assessment {
        Assessment {
            resource: "Schedule".into(),
            resource_type: "AWS::SageMaker::MonitoringSchedule".into(),
            line: 7,
            outcomes,
        }
    }

    #[test]
    fn the_worst_outcome_counts_and_says_so() {
        let finding = assessment(vec![
            judged(Compliance::Compliant, "a"),
            Outcome::unresolved("b is unknown"),
            judged(Compliance::NonCompliant, "c"),
        ])
        .finding("t.yaml");
        assert_eq!(finding.status, Status::NonCompliant);
        assert!(
            finding.annotation.starts_with(
                "The worse of 3 alternatives (Fn::If): DataQuality job definition 'c'"
            ),
            "{}",
            finding.annotation
        );
        assert_eq!(finding.line, 7);
        assert_eq!(finding.file, "t.yaml");

        let finding = assessment(vec![
            judged(Compliance::Compliant, "a"),
            Outcome::unresolved("b is unknown"),
        ])
        .finding("t.yaml");
        assert_eq!(finding.status, Status::Unresolved);
        assert!(finding.annotation.ends_with("b is unknown"));
    }

    #[test]
    fn equal_outcomes_read_as_one() {
        let finding = assessment(vec![
            judged(Compliance::Compliant, "a"),
            judged(Compliance::Compliant, "a"),
        ])
        .finding("t.yaml");
        assert_eq!(finding.status, Status::Compliant);
        assert!(
            finding
                .annotation
                .starts_with("DataQuality job definition 'a'")
        );
    }

    #[test]
    fn statuses_order_from_best_to_worst() {
        assert!(Status::NonCompliant > Status::Unresolved);
        assert!(Status::Unresolved > Status::Compliant);
        assert!(Status::Compliant > Status::NotApplicable);
        assert_eq!(
            Status::from(Compliance::NonCompliant).as_str(),
            "NON_COMPLIANT"
        );
    }

    #[test]
    fn outcomes_are_kept_distinct_and_few_with_the_worst_never_dropped() {
        let many = (0..200)
            .map(|i| Outcome::unresolved(format!("reason {i}")))
            .chain([judged(Compliance::NonCompliant, "open")])
            .chain((0..200).map(|_| judged(Compliance::Compliant, "a")));
        let kept = distinct(many);
        assert_eq!(kept.len(), MAX_ALTERNATIVES + 1);
        assert_eq!(
            assessment(kept).finding("t.yaml").status,
            Status::NonCompliant
        );
        let same = distinct((0..1000).map(|_| judged(Compliance::Compliant, "a")));
        assert_eq!(same.len(), 1);
    }
}
