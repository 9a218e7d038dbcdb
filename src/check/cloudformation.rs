//! CloudFormation and SAM templates: every monitoring schedule (and, when asked, every job
//! definition) judged by the rule's own verdict.
//!
//! A resource's `Properties` have the shape of a configuration item's `configuration`, so the
//! same [`ScheduleView`] reads them once the intrinsic functions in the members that decide are
//! evaluated ([`Resolver`]). Only those members are evaluated (a schedule's job definition, its
//! name and type, the isolation flag and whether a VPC is set), so an `!ImportValue` in an
//! unrelated property changes nothing. A schedule that names a job definition is judged by the
//! job-definition resource of the same template with that kind and name, however the template
//! spells the name; a name that matches none is unresolved, and so is a name longer than the 63
//! characters a job definition name may have (CloudFormation would refuse the schedule, so
//! nothing would run). When evaluation reaches one of its limits ([`Resolver::limit`]), every
//! resource of the template that is not NON_COMPLIANT is unresolved with the limit's reason.

use crate::check::finding::{Assessment, ByReference, Outcome, Status};
use crate::check::intrinsics::{Alternatives, Resolver};
use crate::check::names::{fixed_length, is_complete_name};
use crate::check::template::{Template, escape};
use crate::core::resource::{JobDefinitionRef, MonitoringKind, ResourceKind, SCHEDULE_TYPE};
use crate::core::schedule::{Network, network_from};
use crate::core::verdict::{JobDefinitionState, judge_job_definition};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Which members of a resource's properties decide, and how far to evaluate each.
enum Spec {
    /// Evaluated completely (a name, a type, a flag).
    Leaf,
    /// Only whether it is set (a `VpcConfig`): read as `{}` when it is.
    Presence,
    /// An object: these members, each by its own spec.
    Node(&'static [(&'static str, Spec)]),
}

const NETWORK: Spec = Spec::Node(&[
    ("EnableNetworkIsolation", Spec::Leaf),
    ("VpcConfig", Spec::Presence),
]);

const SCHEDULE: Spec = Spec::Node(&[(
    "MonitoringScheduleConfig",
    Spec::Node(&[
        (
            "MonitoringJobDefinition",
            Spec::Node(&[("NetworkConfig", NETWORK)]),
        ),
        ("MonitoringJobDefinitionName", Spec::Leaf),
        ("MonitoringType", Spec::Leaf),
    ]),
)]);

/// A job-definition resource of the template: every name and network it can have.
struct JobDefinition {
    logical_id: String,
    kind: MonitoringKind,
    names: Vec<String>,
    networks: Vec<Result<Option<Network>, String>>,
}

/// Judges the schedules of a template (and its job definitions with `job_definitions`).
pub fn assess(
    template: &Template,
    parameters: &BTreeMap<String, String>,
    job_definitions: bool,
) -> Vec<Assessment> {
    let root = &template.root;
    let resolver = Resolver::new(root, parameters);
    let resources = root
        .get("Resources")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let line = |logical_id: &str| {
        template
            .line(&format!("/Resources/{}", escape(logical_id)))
            .unwrap_or(1)
    };
    let properties = |resource: &Value| resource.get("Properties").cloned().unwrap_or_default();

    let definitions: Vec<JobDefinition> = resources
        .iter()
        .filter_map(|(logical_id, resource)| {
            let ResourceKind::JobDefinition(kind) = ResourceKind::of(type_of(resource)) else {
                return None;
            };
            let props = properties(resource);
            let networks = select(
                &resolver,
                props.get("NetworkConfig"),
                &NETWORK,
                "NetworkConfig",
            )
            .into_iter()
            .map(|alternative| {
                alternative.and_then(|network| {
                    network_from(Some(&booleans_from_strings(network)), "NetworkConfig")
                        .map_err(|error| format!("{error}"))
                })
            })
            .collect();
            Some(JobDefinition {
                logical_id: logical_id.clone(),
                kind,
                names: resolver.job_definition_names(logical_id),
                networks,
            })
        })
        .collect();

    let mut by_name: HashMap<&str, Vec<&JobDefinition>> = HashMap::new();
    for definition in &definitions {
        for name in &definition.names {
            by_name.entry(name).or_default().push(definition);
        }
    }

    let mut named = ByReference::default();
    let mut assessments = Vec::new();
    for (logical_id, resource) in &resources {
        if logical_id.starts_with("Fn::ForEach::") {
            if resource.to_string().contains(SCHEDULE_TYPE) {
                assessments.push(Assessment {
                    resource: logical_id.clone(),
                    resource_type: SCHEDULE_TYPE.to_owned(),
                    line: line(logical_id),
                    outcomes: vec![Outcome::unresolved(
                        "Fn::ForEach (AWS::LanguageExtensions) makes the schedules at deployment; check does not expand it.",
                    )],
                });
            }
            continue;
        }
        if type_of(resource) != SCHEDULE_TYPE {
            continue;
        }
        let props = properties(resource);
        let outcomes = select(&resolver, Some(&props), &SCHEDULE, "Properties")
            .into_iter()
            .flat_map(|alternative| match alternative {
                Ok(configuration) => {
                    judge_schedule(&booleans_from_strings(configuration), &by_name, &mut named)
                }
                Err(reason) => vec![Outcome::unresolved(reason)],
            })
            .collect();
        assessments.push(Assessment {
            resource: logical_id.clone(),
            resource_type: SCHEDULE_TYPE.to_owned(),
            line: line(logical_id),
            outcomes,
        });
    }
    if job_definitions {
        for definition in &definitions {
            let mut outcomes = Vec::new();
            for name in &definition.names {
                let reference = JobDefinitionRef::new(definition.kind, name.clone());
                for network in &definition.networks {
                    outcomes.push(match network {
                        Ok(network) => Outcome::Judged(judge_job_definition(
                            &reference,
                            &JobDefinitionState::Found(*network),
                        )),
                        Err(reason) => Outcome::unresolved(reason.clone()),
                    });
                }
            }
            assessments.push(Assessment {
                resource: definition.logical_id.clone(),
                resource_type: definition.kind.resource_type().to_owned(),
                line: line(&definition.logical_id),
                outcomes,
            });
        }
    }
    if let Some(reason) = resolver.limit() {
        for assessment in &mut assessments {
            if assessment
                .outcomes
                .iter()
                .all(|outcome| outcome.status() != Status::NonCompliant)
            {
                assessment.outcomes = vec![Outcome::unresolved(format!("{reason}."))];
            }
        }
    }
    assessments.sort_by_key(|assessment| assessment.line);
    assessments
}

/// One way a schedule can turn out, judged: by itself, or by the job definition it names.
fn judge_schedule(
    configuration: &Value,
    by_name: &HashMap<&str, Vec<&JobDefinition>>,
    named: &mut ByReference,
) -> Vec<Outcome> {
    let reference = match Outcome::of_schedule(configuration) {
        Ok(reference) => reference,
        Err(outcome) => return vec![outcome],
    };
    let length = fixed_length(&reference.name);
    if length > 63 {
        return vec![Outcome::unresolved(format!(
            "Names a {} job definition of {length} characters; a job definition name has at most 63, so CloudFormation would refuse this schedule.",
            reference.kind
        ))];
    }
    named.judged(&reference, || {
        let same_name: &[&JobDefinition] = by_name
            .get(reference.name.as_str())
            .map_or(&[], Vec::as_slice);
        let matching: Vec<&&JobDefinition> = same_name
            .iter()
            .filter(|definition| definition.kind == reference.kind)
            .collect();
        if matching.is_empty() {
            return vec![not_in_template(&reference, same_name)];
        }
        let mut outcomes = Vec::new();
        for definition in matching {
            for network in &definition.networks {
                outcomes.push(match network {
                    Ok(network) => Outcome::Judged(judge_job_definition(
                        &reference,
                        &JobDefinitionState::Found(*network),
                    )),
                    Err(reason) => Outcome::unresolved(format!(
                        "The NetworkConfig of job definition {}: {reason}.",
                        definition.logical_id
                    )),
                });
            }
        }
        outcomes
    })
}

/// A schedule naming a job definition this template does not define (with that kind).
fn not_in_template(reference: &JobDefinitionRef, other_kinds: &[&JobDefinition]) -> Outcome {
    let JobDefinitionRef { kind, name } = reference;
    let elsewhere = match other_kinds.first() {
        Some(other) => format!(
            " (resource {} has that name but is a {} job definition)",
            other.logical_id, other.kind
        ),
        None => String::new(),
    };
    if is_complete_name(name) {
        Outcome::Unresolved {
            reason: crate::core::verdict::fit(format!(
                "Names {kind} job definition '{name}', which this template does not define{elsewhere}. Use --resolve-live to judge it by the account's job definition."
            )),
            lookup: Some(reference.clone()),
        }
    } else {
        Outcome::unresolved(format!(
            "Names {kind} job definition '{name}', which this template does not define{elsewhere}, and which depends on values known only at deployment (pass them with --parameter)."
        ))
    }
}

/// Evaluates the members of `value` that `spec` names: each way they can turn out, as a
/// skeleton of the properties with only those members, or why it cannot be known.
fn select(resolver: &Resolver, value: Option<&Value>, spec: &Spec, path: &str) -> Alternatives {
    let Some(value) = value else {
        return vec![Ok(Value::Null)];
    };
    let at = |alternatives: Alternatives| -> Alternatives {
        alternatives
            .into_iter()
            .map(|a| a.map_err(|reason| format!("{path} cannot be resolved: {reason}.")))
            .collect()
    };
    match spec {
        Spec::Leaf => at(resolver.eval(value)),
        Spec::Presence => resolver
            .head(value)
            .into_iter()
            .map(|alternative| match alternative {
                Ok(Value::Null) => Ok(Value::Null),
                // Whatever it holds, a VpcConfig is there.
                _ => Ok(Value::Object(Map::new())),
            })
            .collect(),
        Spec::Node(members) => {
            let mut out = Vec::new();
            for alternative in at(resolver.head(value)) {
                match alternative {
                    Ok(Value::Object(object)) => {
                        let present: Vec<(&str, &Spec)> = members
                            .iter()
                            .filter(|(key, _)| object.contains_key(*key))
                            .map(|(key, spec)| (*key, spec))
                            .collect();
                        let parts = present
                            .iter()
                            .map(|(key, spec)| {
                                select(resolver, object.get(*key), spec, &format!("{path}.{key}"))
                            })
                            .collect();
                        out.extend(resolver.combine(parts, |values| {
                            Ok(Value::Object(
                                present
                                    .iter()
                                    .map(|(key, _)| (*key).to_owned())
                                    .zip(values)
                                    .filter(|(_, value)| !value.is_null())
                                    .collect(),
                            ))
                        }));
                    }
                    // Not an object (or AWS::NoValue): the view says what is wrong with it.
                    other => out.push(other),
                }
            }
            out
        }
    }
}

/// The properties with `"true"` and `"false"` strings in the isolation and encryption flags
/// read as booleans, as CloudFormation converts them; any other string stays a string (and is
/// a shape error, not a verdict). Hooks receive properties this way too.
pub fn booleans_from_strings(mut properties: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(object) => {
                for (key, member) in object.iter_mut() {
                    if key == "EnableNetworkIsolation"
                        || key == "EnableInterContainerTrafficEncryption"
                    {
                        if let Value::String(text) = member {
                            match text.as_str() {
                                "true" => *member = Value::Bool(true),
                                "false" => *member = Value::Bool(false),
                                _ => {}
                            }
                        }
                    } else {
                        walk(member);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut properties);
    properties
}

fn type_of(resource: &Value) -> &str {
    resource.get("Type").and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(
        text: &str,
        parameters: &[(&str, &str)],
        job_definitions: bool,
    ) -> Vec<(String, Status, String)> {
        let template = Template::parse(text).unwrap();
        let parameters = parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assess(&template, &parameters, job_definitions)
            .into_iter()
            .map(|assessment| {
                let finding = assessment.finding("t.yaml");
                (finding.resource, finding.status, finding.annotation)
            })
            .collect()
    }

    const JOB_DEFINITIONS: &str = "
Parameters:
  Flag: {Type: String, Default: 'true'}
Resources:
  Open:
    Type: AWS::SageMaker::DataQualityJobDefinition
    Properties:
      JobDefinitionName: open-jd
      NetworkConfig: {EnableNetworkIsolation: false}
  Closed:
    Type: AWS::SageMaker::DataQualityJobDefinition
    Properties:
      NetworkConfig: {EnableNetworkIsolation: !Ref Flag}
";

    #[test]
    fn a_schedule_is_judged_by_the_job_definition_it_names() {
        let text = format!(
            "{JOB_DEFINITIONS}  ByName:
    Type: AWS::SageMaker::MonitoringSchedule
    Properties:
      MonitoringScheduleConfig:
        MonitoringType: DataQuality
        MonitoringJobDefinitionName: open-jd
  ByAttribute:
    Type: AWS::SageMaker::MonitoringSchedule
    Properties:
      MonitoringScheduleConfig:
        MonitoringType: DataQuality
        MonitoringJobDefinitionName: !GetAtt Closed.JobDefinitionName
"
        );
        let found = findings(&text, &[], false);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "ByName");
        assert_eq!(found[0].1, Status::NonCompliant);
        assert!(
            found[0]
                .2
                .contains("'open-jd' sets EnableNetworkIsolation=false"),
            "{}",
            found[0].2
        );
        assert_eq!(found[1].0, "ByAttribute");
        assert_eq!(found[1].1, Status::Compliant, "{}", found[1].2);
        assert!(found[1].2.contains("'{Closed}'"), "{}", found[1].2);

        // The flag's parameter overridden: the same schedule is now not isolated.
        let found = findings(&text, &[("Flag", "false")], true);
        assert_eq!(found[3].0, "ByAttribute");
        assert_eq!(found[3].1, Status::NonCompliant);
        // With job definitions, both are judged themselves too.
        assert_eq!(found[0].0, "Open");
        assert_eq!(found[1].0, "Closed");
        assert_eq!(found[1].1, Status::NonCompliant);
    }

    #[test]
    fn the_wrong_kind_is_not_the_job_definition() {
        let text = format!(
            "{JOB_DEFINITIONS}  Bias:
    Type: AWS::SageMaker::MonitoringSchedule
    Properties:
      MonitoringScheduleConfig:
        MonitoringType: ModelBias
        MonitoringJobDefinitionName: open-jd
"
        );
        let found = findings(&text, &[], false);
        assert_eq!(found[0].1, Status::Unresolved);
        assert!(
            found[0]
                .2
                .contains("resource Open has that name but is a DataQuality job definition"),
            "{}",
            found[0].2
        );
    }

    #[test]
    fn unrelated_properties_need_not_resolve() {
        let found = findings(
            "Resources:
  S:
    Type: AWS::SageMaker::MonitoringSchedule
    Properties:
      MonitoringScheduleName: !ImportValue Elsewhere
      MonitoringScheduleConfig:
        MonitoringJobDefinition:
          RoleArn: !GetAtt Role.Arn
          NetworkConfig:
            EnableNetworkIsolation: 'true'
            VpcConfig: !ImportValue SharedVpc
",
            &[],
            false,
        );
        assert_eq!(found[0].1, Status::Compliant, "{}", found[0].2);
    }

    #[test]
    fn a_flag_that_is_not_a_boolean_is_unresolved_with_the_reason() {
        let found = findings(
            "Resources:
  S:
    Type: AWS::SageMaker::MonitoringSchedule
    Properties:
      MonitoringScheduleConfig:
        MonitoringJobDefinition:
          NetworkConfig: {EnableNetworkIsolation: 'yes'}
",
            &[],
            false,
        );
        assert_eq!(found[0].1, Status::Unresolved);
        assert!(
            found[0]
                .2
                .contains("EnableNetworkIsolation: expected a boolean"),
            "{}",
            found[0].2
        );
    }

    #[test]
    fn string_booleans_read_as_booleans_only_when_exact() {
        let value = booleans_from_strings(serde_json::json!({
            "NetworkConfig": {"EnableNetworkIsolation": "true", "EnableInterContainerTrafficEncryption": "false"},
            "Other": {"EnableNetworkIsolation": "TRUE", "Name": "true"}
        }));
        assert_eq!(value["NetworkConfig"]["EnableNetworkIsolation"], true);
        assert_eq!(
            value["NetworkConfig"]["EnableInterContainerTrafficEncryption"],
            false
        );
        assert_eq!(value["Other"]["EnableNetworkIsolation"], "TRUE");
        assert_eq!(value["Other"]["Name"], "true");
    }

    /// Audit N5's template: job definition `J0` is named `a`, each further `Jk` by `fan`
    /// copies of the name before it, and a schedule runs the last.
    pub(crate) fn chained_names(hops: usize, fan: usize) -> String {
        let mut text = String::from(
            "Resources:\n  J0:\n    Type: AWS::SageMaker::DataQualityJobDefinition\n    Properties:\n      JobDefinitionName: a\n      NetworkConfig: {EnableNetworkIsolation: true}\n",
        );
        for k in 1..=hops {
            let name = format!("${{J{}.JobDefinitionName}}", k - 1).repeat(fan);
            text.push_str(&format!("  J{k}:\n    Type: AWS::SageMaker::DataQualityJobDefinition\n    Properties:\n      JobDefinitionName: !Sub '{name}'\n      NetworkConfig: {{EnableNetworkIsolation: true}}\n"));
        }
        text.push_str(&format!("  Schedule:\n    Type: AWS::SageMaker::MonitoringSchedule\n    Properties:\n      MonitoringScheduleConfig:\n        MonitoringType: DataQuality\n        MonitoringJobDefinitionName: !GetAtt J{hops}.JobDefinitionName\n"));
        text
    }

    #[test]
    fn names_built_from_names_are_evaluated_once_and_bounded() {
        // Short chains resolve: each name evaluated once, however often it is used.
        let found = findings(&chained_names(2, 4), &[], false);
        assert_eq!(found[0].0, "Schedule");
        assert_eq!(found[0].1, Status::Compliant, "{}", found[0].2);
        assert!(
            found[0].2.contains(&format!("'{}'", "a".repeat(16))),
            "{}",
            found[0].2
        );
        // A name of 64 characters: no job definition can have it, so nothing can be judged.
        let found = findings(&chained_names(3, 4), &[], false);
        assert_eq!(found[0].1, Status::Unresolved, "{}", found[0].2);
        assert!(found[0].2.contains("64 characters"), "{}", found[0].2);

        // 16 hops of 4: a name of 4^16 characters. Evaluation stops at the first string
        // longer than any template value can be, and nothing in the template is compliant.
        let found = findings(&chained_names(16, 4), &[], true);
        assert_eq!(found.len(), 18);
        for (resource, status, annotation) in &found {
            assert_eq!(*status, Status::Unresolved, "{resource}: {annotation}");
            assert!(
                annotation.contains("4,096 characters"),
                "{resource}: {annotation}"
            );
        }
    }
}
