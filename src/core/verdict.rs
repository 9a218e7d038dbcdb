//! The decision, and nothing else: pure functions of plain data.
//!
//! A schedule is COMPLIANT only when the isolation flag that governs it is literally `true`.
//! Which flag governs depends on the schedule's shape and on the [`Reading`]: the embedded job
//! definition's, or (by default) the standalone job definition the schedule names.

use crate::core::resource::{JobDefinitionRef, MonitoringKind};
use crate::core::schedule::{JobSpec, Network};
use serde::Serialize;
use std::fmt;

/// The three results PutEvaluations accepts from a rule (INSUFFICIENT_DATA is refused, so it
/// cannot be built here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Compliance {
    #[serde(rename = "COMPLIANT")]
    Compliant,
    #[serde(rename = "NON_COMPLIANT")]
    NonCompliant,
    #[serde(rename = "NOT_APPLICABLE")]
    NotApplicable,
}

impl Compliance {
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Compliant => "COMPLIANT",
            Compliance::NonCompliant => "NON_COMPLIANT",
            Compliance::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

impl fmt::Display for Compliance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which isolation flag counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reading {
    /// Follow a named job definition to its own `NetworkConfig` (what actually runs).
    #[default]
    Resolved,
    /// Security Hub's literal check: only an embedded job definition's flag counts.
    Literal,
}

/// PutEvaluations refuses longer annotations.
pub const ANNOTATION_LIMIT: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub compliance: Compliance,
    pub annotation: String,
}

impl Verdict {
    fn new(compliance: Compliance, annotation: String) -> Self {
        Verdict {
            compliance,
            annotation: fit(annotation),
        }
    }

    pub fn not_applicable(reason: impl Into<String>) -> Self {
        Verdict::new(Compliance::NotApplicable, reason.into())
    }
}

/// What the schedule alone settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    Final(Verdict),
    /// The verdict depends on this job definition: describe it, then call [`judge_job_definition`].
    NeedsJobDefinition(JobDefinitionRef),
}

/// What a Describe of a named job definition found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobDefinitionState {
    /// It exists; `None` when it has no `NetworkConfig`.
    Found(Option<Network>),
    /// SageMaker says it does not exist.
    Missing,
}

const FIX_EMBEDDED: &str =
    "Update the schedule's MonitoringJobDefinition.NetworkConfig with EnableNetworkIsolation=true.";
const FIX_NAMED: &str =
    "Job definitions are immutable: use a copy with EnableNetworkIsolation=true.";

/// Judges a schedule from its own configuration.
pub fn judge(job: &JobSpec, reading: Reading) -> Judgement {
    match job {
        JobSpec::Embedded(network) => Judgement::Final(judge_network(
            network.as_ref(),
            "Embedded MonitoringJobDefinition",
            FIX_EMBEDDED,
        )),
        JobSpec::Missing => Judgement::Final(Verdict::new(
            Compliance::NonCompliant,
            "Schedule has neither an embedded MonitoringJobDefinition nor a MonitoringJobDefinitionName, so nothing enables network isolation. Give it a job definition with NetworkConfig.EnableNetworkIsolation=true.".into(),
        )),
        JobSpec::Named { name, .. } if reading == Reading::Literal => {
            Judgement::Final(Verdict::new(
                Compliance::NonCompliant,
                format!(
                    "Strict Security Hub reading: only an embedded MonitoringJobDefinition counts; this schedule names job definition '{name}'. Embed one with EnableNetworkIsolation=true."
                ),
            ))
        }
        JobSpec::Named {
            name,
            monitoring_type: None,
        } => Judgement::Final(Verdict::new(
            Compliance::NonCompliant,
            format!(
                "Schedule names job definition '{name}' without a MonitoringType, so its network settings cannot be found. Set MonitoringType on the schedule."
            ),
        )),
        JobSpec::Named {
            name,
            monitoring_type: Some(monitoring_type),
        } => match MonitoringKind::parse(monitoring_type) {
            Some(kind) => Judgement::NeedsJobDefinition(JobDefinitionRef {
                kind,
                name: name.clone(),
            }),
            None => Judgement::Final(Verdict::new(
                Compliance::NonCompliant,
                format!(
                    "Schedule names job definition '{name}' of unknown MonitoringType '{monitoring_type}', so isolation cannot be confirmed. Use a DataQuality, ModelQuality, ModelBias or ModelExplainability one."
                ),
            )),
        },
    }
}

/// Judges a schedule by the standalone job definition it names.
pub fn judge_job_definition(reference: &JobDefinitionRef, state: &JobDefinitionState) -> Verdict {
    let JobDefinitionRef { kind, name } = reference;
    match state {
        JobDefinitionState::Missing => Verdict::new(
            Compliance::NonCompliant,
            format!(
                "Schedule names {kind} job definition '{name}', which does not exist. Point the schedule at an existing job definition with NetworkConfig.EnableNetworkIsolation=true."
            ),
        ),
        JobDefinitionState::Found(network) => judge_network(
            network.as_ref(),
            &format!("{kind} job definition '{name}'"),
            FIX_NAMED,
        ),
    }
}

fn judge_network(network: Option<&Network>, subject: &str, fix: &str) -> Verdict {
    match network {
        Some(Network {
            isolation: Some(true),
            ..
        }) => Verdict::new(
            Compliance::Compliant,
            format!("{subject} has NetworkConfig.EnableNetworkIsolation=true."),
        ),
        None => Verdict::new(
            Compliance::NonCompliant,
            format!("{subject} has no NetworkConfig, so network isolation is off. {fix}"),
        ),
        Some(Network { isolation, vpc }) => {
            let found = match isolation {
                Some(_) => "sets EnableNetworkIsolation=false",
                None => "has a NetworkConfig without EnableNetworkIsolation",
            };
            let vpc = if *vpc {
                " A VpcConfig is not isolation."
            } else {
                ""
            };
            Verdict::new(
                Compliance::NonCompliant,
                format!("{subject} {found}.{vpc} {fix}"),
            )
        }
    }
}

/// Cuts an annotation to what PutEvaluations accepts, on a character boundary.
pub fn fit(mut text: String) -> String {
    if text.chars().count() <= ANNOTATION_LIMIT {
        return text;
    }
    let cut = text
        .char_indices()
        .nth(ANNOTATION_LIMIT - 1)
        .map(|(index, _)| index)
        .unwrap_or(text.len());
    text.truncate(cut);
    text.push('…');
    text
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn embedded(isolation: Option<bool>, vpc: bool) -> JobSpec {
        JobSpec::Embedded(Some(Network { isolation, vpc }))
    }

    fn named(name: &str, monitoring_type: Option<&str>) -> JobSpec {
        JobSpec::Named {
            name: name.into(),
            monitoring_type: monitoring_type.map(Into::into),
        }
    }

    pub fn found(isolation: Option<bool>, vpc: bool) -> JobDefinitionState {
        JobDefinitionState::Found(Some(Network { isolation, vpc }))
    }

    fn final_verdict(job: &JobSpec, reading: Reading) -> Verdict {
        match judge(job, reading) {
            Judgement::Final(verdict) => verdict,
            other => panic!("expected a final verdict, got {other:?}"),
        }
    }

    #[test]
    fn embedded_true_is_the_only_compliant_embedded_case() {
        for reading in [Reading::Resolved, Reading::Literal] {
            let verdict = final_verdict(&embedded(Some(true), false), reading);
            assert_eq!(verdict.compliance, Compliance::Compliant);
            assert!(verdict.annotation.contains("EnableNetworkIsolation=true"));
            for job in [
                embedded(Some(false), false),
                embedded(None, false),
                embedded(Some(false), true),
                embedded(None, true),
                JobSpec::Embedded(None),
                JobSpec::Missing,
            ] {
                assert_eq!(
                    final_verdict(&job, reading).compliance,
                    Compliance::NonCompliant,
                    "{job:?}"
                );
            }
        }
    }

    #[test]
    fn annotations_say_what_was_found() {
        let absent = final_verdict(&JobSpec::Embedded(None), Reading::Resolved).annotation;
        assert!(absent.starts_with("Embedded MonitoringJobDefinition has no NetworkConfig"));
        let unset = final_verdict(&embedded(None, false), Reading::Resolved).annotation;
        assert!(unset.contains("without EnableNetworkIsolation"), "{unset}");
        let vpc = final_verdict(&embedded(Some(false), true), Reading::Resolved).annotation;
        assert!(vpc.contains("sets EnableNetworkIsolation=false"), "{vpc}");
        assert!(vpc.contains("A VpcConfig is not isolation"), "{vpc}");
        let no_vpc = final_verdict(&embedded(Some(false), false), Reading::Resolved).annotation;
        assert!(!no_vpc.contains("VpcConfig"), "{no_vpc}");
    }

    #[test]
    fn a_named_definition_needs_its_job_definition_when_resolved() {
        assert_eq!(
            judge(&named("jd", Some("ModelBias")), Reading::Resolved),
            Judgement::NeedsJobDefinition(JobDefinitionRef {
                kind: MonitoringKind::ModelBias,
                name: "jd".into()
            })
        );
    }

    #[test]
    fn the_literal_reading_fails_a_named_definition_without_looking() {
        let verdict = final_verdict(&named("jd", Some("ModelBias")), Reading::Literal);
        assert_eq!(verdict.compliance, Compliance::NonCompliant);
        assert!(verdict.annotation.contains("Strict Security Hub reading"));
        assert!(verdict.annotation.contains("'jd'"));
    }

    #[test]
    fn a_named_definition_without_a_usable_type_is_non_compliant() {
        let missing = final_verdict(&named("jd", None), Reading::Resolved);
        assert_eq!(missing.compliance, Compliance::NonCompliant);
        assert!(missing.annotation.contains("without a MonitoringType"));
        let unknown = final_verdict(&named("jd", Some("Drift")), Reading::Resolved);
        assert_eq!(unknown.compliance, Compliance::NonCompliant);
        assert!(unknown.annotation.contains("'Drift'"));
    }

    #[test]
    fn a_job_definition_decides_by_its_own_flag() {
        let reference = JobDefinitionRef::new(MonitoringKind::ModelQuality, "mq");
        let isolated = found(Some(true), true);
        let verdict = judge_job_definition(&reference, &isolated);
        assert_eq!(verdict.compliance, Compliance::Compliant);
        assert!(
            verdict
                .annotation
                .starts_with("ModelQuality job definition 'mq' has")
        );
        for state in [
            JobDefinitionState::Found(None),
            JobDefinitionState::Found(Some(Network::default())),
            found(Some(false), true),
            JobDefinitionState::Missing,
        ] {
            let verdict = judge_job_definition(&reference, &state);
            assert_eq!(verdict.compliance, Compliance::NonCompliant, "{state:?}");
        }
        let missing = judge_job_definition(&reference, &JobDefinitionState::Missing);
        assert!(missing.annotation.contains("does not exist"));
        let immutable = judge_job_definition(&reference, &JobDefinitionState::Found(None));
        assert!(immutable.annotation.contains("immutable"));
    }

    #[test]
    fn the_same_name_under_two_types_gives_two_verdicts() {
        // `c7n-test` exists as a data quality and a model bias definition with different settings.
        let data_quality = JobDefinitionRef::new(MonitoringKind::DataQuality, "c7n-test");
        let model_bias = JobDefinitionRef::new(MonitoringKind::ModelBias, "c7n-test");
        let lookup = |reference: &JobDefinitionRef| match reference.kind {
            MonitoringKind::ModelBias => found(Some(true), false),
            _ => JobDefinitionState::Found(None),
        };
        for (job, reference, expected) in [
            (
                named("c7n-test", Some("DataQuality")),
                &data_quality,
                Compliance::NonCompliant,
            ),
            (
                named("c7n-test", Some("ModelBias")),
                &model_bias,
                Compliance::Compliant,
            ),
        ] {
            let Judgement::NeedsJobDefinition(needed) = judge(&job, Reading::Resolved) else {
                panic!("a named schedule must need its job definition");
            };
            assert_eq!(&needed, reference);
            assert_eq!(
                judge_job_definition(&needed, &lookup(&needed)).compliance,
                expected
            );
        }
    }

    #[test]
    fn long_names_keep_annotations_within_the_limit() {
        let name = "n".repeat(300);
        let verdict = final_verdict(&named(&name, Some("Drift")), Reading::Resolved);
        assert_eq!(verdict.annotation.chars().count(), ANNOTATION_LIMIT);
        assert!(verdict.annotation.ends_with('…'));
        let multibyte = fit("é".repeat(400));
        assert_eq!(multibyte.chars().count(), ANNOTATION_LIMIT);
        assert_eq!(fit("short".into()), "short");
    }

    /// Names are at most 63 characters in SageMaker: at that length no annotation is cut.
    #[test]
    fn annotations_for_the_longest_names_are_not_cut() {
        let long = "x".repeat(63);
        let jobs = [
            embedded(Some(true), true),
            embedded(Some(false), true),
            embedded(None, true),
            JobSpec::Embedded(None),
            JobSpec::Missing,
            named(&long, None),
            named(&long, Some("ModelExplainability")),
            named(&long, Some("DriftCheck")),
        ];
        for job in &jobs {
            for reading in [Reading::Resolved, Reading::Literal] {
                if let Judgement::Final(verdict) = judge(job, reading) {
                    assert!(!verdict.annotation.ends_with('…'), "{}", verdict.annotation);
                }
            }
        }
        let reference = JobDefinitionRef::new(MonitoringKind::ModelExplainability, long);
        for state in [JobDefinitionState::Missing, found(Some(false), true)] {
            let verdict = judge_job_definition(&reference, &state);
            assert!(!verdict.annotation.ends_with('…'), "{}", verdict.annotation);
        }
    }
}
