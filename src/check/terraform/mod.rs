//! Terraform plans, as `terraform show -json PLANFILE` writes them (format 1.x, see
//! <https://developer.hashicorp.com/terraform/internals/json-format>).
//!
//! The AWS provider has two of the five resource types: `aws_sagemaker_monitoring_schedule`
//! (a `monitoring_job_definition_name`, or from provider 6.29 an embedded
//! `monitoring_job_definition` block) and `aws_sagemaker_data_quality_job_definition`. Each
//! resource's planned values (`resource_changes[].change.after`) are read into the
//! CloudFormation shape, so the same [`ScheduleView`] and verdict serve. A value known only
//! after apply (`after_unknown`) is unresolved, never read as absent.
//!
//! A schedule runs the job definition its planned `monitoring_job_definition_name` names, so
//! when that name is known it is matched against the planned `name` of the plan's job
//! definitions, whatever its expression refers to (`var.legacy ? "open" : aws_x.y.name`
//! refers to `aws_x.y` and may plan another name). Only when the name is known only after
//! apply is the job definition found through the plan's configuration: the references of the
//! expression, followed through module variables and module outputs, lead to the data quality
//! job definitions it can name, and only those whose own name is known only after apply count
//! (a reference to a known name would have made the schedule's name known too). The
//! configuration holds an expression's references, not the expression, so
//! `"${aws_x.y.name}-v2"` cannot be told from `aws_x.y.name` when both names are known only
//! after apply.
//!
//! Two jobs, a file each: `planned` reads the planned values into the CloudFormation shape;
//! `references` follows an expression's references through modules. This file matches what
//! they found and judges it.

mod planned;
mod references;

use crate::check::finding::{Assessment, ByReference, Outcome};
use crate::check::names::{generated_name, is_complete_name};
use crate::core::resource::{JobDefinitionRef, MonitoringKind};
use crate::core::schedule::Network;
use crate::core::verdict::{JobDefinitionState, fit, judge_job_definition};
use planned::{definition_of, planned_resources, schedule_configurations};
use references::Configuration;
use serde_json::Value;
use std::collections::HashMap;

pub const SCHEDULE: &str = "aws_sagemaker_monitoring_schedule";
pub const DATA_QUALITY: &str = "aws_sagemaker_data_quality_job_definition";

/// Whether a JSON document is a Terraform plan (or state) as `terraform show -json` writes it.
pub fn is_plan(value: &Value) -> bool {
    value.get("format_version").is_some()
        && [
            "planned_values",
            "resource_changes",
            "configuration",
            "values",
        ]
        .iter()
        .any(|member| value.get(member).is_some())
}

/// A data quality job definition of the plan: its planned name (`None`: known only after
/// apply), and its network. Found by [`Definition::key`].
struct Definition {
    base: String,
    name: Option<String>,
    network: Result<Option<Network>, String>,
}

impl Definition {
    /// The name a schedule runs this definition by: its planned name, or, when that is known
    /// only after apply, the placeholder a reference to it stands for.
    fn key(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| generated_name(&self.base))
    }
}

/// Judges the schedules of a plan (and its job definitions with `job_definitions`). `text` is
/// the plan as read, for line numbers. An error says why the document cannot be read.
pub fn assess(plan: &Value, text: &str, job_definitions: bool) -> Result<Vec<Assessment>, String> {
    match plan.get("format_version").and_then(Value::as_str) {
        Some(version) if version == "1" || version.starts_with("1.") => {}
        Some(version) => {
            return Err(format!(
                "plan format_version {version} is not supported (this reads 1.x)"
            ));
        }
        None => return Err("format_version is not a string".into()),
    }
    let planned = planned_resources(plan);
    let configuration = plan
        .pointer("/configuration/root_module")
        .map(Configuration::of);
    let definitions: Vec<Definition> = planned
        .iter()
        .filter(|p| p.resource_type == DATA_QUALITY)
        .map(definition_of)
        .collect();
    let by_base: HashMap<&str, &Definition> =
        definitions.iter().map(|d| (d.base.as_str(), d)).collect();
    let mut by_key: HashMap<String, Vec<&Definition>> = HashMap::new();
    for definition in &definitions {
        by_key.entry(definition.key()).or_default().push(definition);
    }
    let lines = first_lines(text, planned.iter().map(|p| p.address.as_str()));
    let mut named = ByReference::default();
    let mut assessments = Vec::new();
    for resource in &planned {
        let outcomes = if resource.resource_type == SCHEDULE {
            let referenced = match &configuration {
                Some(configuration) => configuration.referenced(resource),
                None => Ok(Vec::new()),
            };
            match referenced.and_then(|referenced| {
                let referenced: Vec<&Definition> = referenced
                    .iter()
                    .filter_map(|base| by_base.get(base.as_str()).copied())
                    .collect();
                schedule_configurations(resource, &referenced)
            }) {
                Ok(configurations) => configurations
                    .iter()
                    .flat_map(|configuration| judge_schedule(configuration, &by_key, &mut named))
                    .collect(),
                Err(reason) => vec![Outcome::unresolved(reason)],
            }
        } else if job_definitions {
            let definition = definition_of(resource);
            let reference = JobDefinitionRef::new(
                MonitoringKind::DataQuality,
                definition
                    .name
                    .clone()
                    .unwrap_or_else(|| generated_name(&definition.base)),
            );
            vec![match &definition.network {
                Ok(network) => Outcome::Judged(judge_job_definition(
                    &reference,
                    &JobDefinitionState::Found(*network),
                )),
                Err(reason) => Outcome::unresolved(reason.clone()),
            }]
        } else {
            continue;
        };
        assessments.push(Assessment {
            resource: resource.address.clone(),
            resource_type: resource.resource_type.clone(),
            line: lines.get(resource.address.as_str()).copied().unwrap_or(1),
            outcomes,
        });
    }
    Ok(assessments)
}

fn judge_schedule(
    configuration: &Value,
    by_key: &HashMap<String, Vec<&Definition>>,
    named: &mut ByReference,
) -> Vec<Outcome> {
    let reference = match Outcome::of_schedule(configuration) {
        Ok(reference) => reference,
        Err(outcome) => return vec![outcome],
    };
    named.judged(&reference, || {
        let matching: Vec<&Definition> = match by_key.get(&reference.name) {
            Some(found) if reference.kind == MonitoringKind::DataQuality => found.clone(),
            _ => Vec::new(),
        };
        if matching.is_empty() {
            let JobDefinitionRef { kind, name } = &reference;
            let complete = is_complete_name(name);
            return vec![Outcome::Unresolved {
                reason: fit(if complete {
                    format!(
                        "Names {kind} job definition '{name}', which this plan does not create. Use --resolve-live to judge it by the account's job definition."
                    )
                } else {
                    format!("Names {kind} job definition '{name}', which this plan does not create.")
                }),
                lookup: complete.then_some(reference.clone()),
            }];
        }
        matching
            .into_iter()
            .map(|definition| {
                let shown = JobDefinitionRef::new(
                    reference.kind,
                    definition
                        .name
                        .clone()
                        .unwrap_or_else(|| reference.name.clone()),
                );
                match &definition.network {
                    Ok(network) => Outcome::Judged(judge_job_definition(
                        &shown,
                        &JobDefinitionState::Found(*network),
                    )),
                    Err(reason) => {
                        Outcome::unresolved(format!("Job definition {}: {reason}.", definition.base))
                    }
                }
            })
            .collect()
    })
}

/// The line (from 1) where each address first appears in the plan as a JSON string, in one
/// pass over the text; an address that does not appear is left out (a plan on one line: 1).
fn first_lines<'a>(
    text: &str,
    addresses: impl Iterator<Item = &'a str>,
) -> HashMap<&'a str, usize> {
    let wanted: HashMap<String, &str> = addresses
        .map(|address| (serde_json::to_string(address).unwrap_or_default(), address))
        .collect();
    let mut lines = HashMap::new();
    let bytes = text.as_bytes();
    let mut line = 1;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\n' => line += 1,
            b'"' => {
                // A JSON string holds no raw line break, so the line stays the same.
                let start = at;
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
                let token = text.get(start..(at + 1).min(bytes.len())).unwrap_or("");
                if let Some(address) = wanted.get(token) {
                    lines.entry(*address).or_insert(line);
                }
            }
            _ => {}
        }
        at += 1;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::references::MAX_HOPS;
    use super::*;
    use crate::check::finding::Status;
    use serde_json::json;

    #[test]
    fn an_unknown_flag_is_unresolved_not_absent() {
        let plan = json!({
            "format_version": "1.2",
            "resource_changes": [{
                "address": "aws_sagemaker_monitoring_schedule.s", "mode": "managed",
                "type": "aws_sagemaker_monitoring_schedule", "name": "s",
                "change": {"actions": ["create"],
                    "after": {"monitoring_schedule_config": [{"monitoring_job_definition": [{"network_config": [{}]}]}]},
                    "after_unknown": {"monitoring_schedule_config": [{"monitoring_job_definition": [{"network_config": [{"enable_network_isolation": true}]}]}]}}
            }]
        });
        let found = assess(&plan, &plan.to_string(), false).unwrap();
        let finding = found[0].finding("plan.json");
        assert_eq!(finding.status, Status::Unresolved);
        assert!(
            finding.annotation.contains("known only after apply"),
            "{}",
            finding.annotation
        );
    }

    #[test]
    fn without_resource_changes_the_planned_values_are_read() {
        let plan = json!({
            "format_version": "1.0",
            "planned_values": {"root_module": {"child_modules": [{
                "address": "module.monitoring",
                "resources": [{
                    "address": "module.monitoring.aws_sagemaker_monitoring_schedule.s",
                    "mode": "managed", "type": "aws_sagemaker_monitoring_schedule", "name": "s",
                    "values": {"monitoring_schedule_config": [{"monitoring_job_definition": [
                        {"network_config": [{"enable_network_isolation": true}]}]}]}
                }]
            }]}}
        });
        let found = assess(&plan, &plan.to_string(), false).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].resource,
            "module.monitoring.aws_sagemaker_monitoring_schedule.s"
        );
        assert_eq!(found[0].finding("plan.json").status, Status::Compliant);
    }

    #[test]
    fn an_unsupported_format_is_an_error() {
        let error = assess(
            &json!({"format_version": "2.0", "resource_changes": []}),
            "",
            false,
        )
        .unwrap_err();
        assert!(error.contains("2.0 is not supported"), "{error}");
    }

    /// A plan with data quality job definitions `(resource name, planned name, isolated)` (a
    /// planned name of `None` is known only after apply) and one schedule `s`, whose
    /// `monitoring_job_definition_name` is planned as `written` (`None`: known only after
    /// apply) from an expression with these `references`.
    fn plan_with(
        definitions: &[(&str, Option<&str>, bool)],
        written: Option<&str>,
        references: &[&str],
    ) -> Value {
        let mut changes: Vec<Value> = definitions
            .iter()
            .map(|(resource, name, isolated)| {
                let mut after = json!({"network_config": [{"enable_network_isolation": isolated}]});
                let mut unknown = json!({"arn": true});
                match name {
                    Some(name) => after["name"] = json!(name),
                    None => unknown["name"] = json!(true),
                }
                json!({
                    "address": format!("{DATA_QUALITY}.{resource}"), "mode": "managed",
                    "type": DATA_QUALITY, "name": resource,
                    "change": {"actions": ["create"], "after": after, "after_unknown": unknown}
                })
            })
            .collect();
        let mut config = json!({"monitoring_type": "DataQuality"});
        let mut config_unknown = json!({});
        match written {
            Some(name) => config["monitoring_job_definition_name"] = json!(name),
            None => config_unknown["monitoring_job_definition_name"] = json!(true),
        }
        changes.push(json!({
            "address": format!("{SCHEDULE}.s"), "mode": "managed", "type": SCHEDULE, "name": "s",
            "change": {"actions": ["create"],
                "after": {"monitoring_schedule_config": [config]},
                "after_unknown": {"monitoring_schedule_config": [config_unknown]}}
        }));
        json!({
            "format_version": "1.2",
            "resource_changes": changes,
            "configuration": {"root_module": {"resources": [{
                "address": format!("{SCHEDULE}.s"), "mode": "managed", "type": SCHEDULE, "name": "s",
                "expressions": {"monitoring_schedule_config": [{
                    "monitoring_job_definition_name": {"references": references}
                }]}
            }]}}
        })
    }

    /// The schedule's finding, and the job definition `--resolve-live` would describe.
    fn schedule_finding(plan: &Value) -> (Status, String, Option<JobDefinitionRef>) {
        let found = assess(plan, &plan.to_string(), false).unwrap();
        let schedule = found
            .iter()
            .find(|a| a.resource_type == SCHEDULE)
            .expect("the schedule is judged");
        let lookup = schedule.outcomes.iter().find_map(|o| match o {
            Outcome::Unresolved { lookup, .. } => lookup.clone(),
            Outcome::Judged(_) => None,
        });
        let finding = schedule.finding("plan.json");
        (finding.status, finding.annotation, lookup)
    }

    const ISOLATED: &str = "aws_sagemaker_data_quality_job_definition.isolated";
    const ISOLATED_NAME: &str = "aws_sagemaker_data_quality_job_definition.isolated.name";

    #[test]
    fn the_planned_name_wins_over_the_definition_its_expression_refers_to() {
        let isolated = ("isolated", Some("dq-isolated"), true);
        // `var.legacy ? "legacy-open-jd" : aws_..._job_definition.isolated.name`, legacy on,
        // with the open definition in the plan: judged by it.
        let conditional = ["var.legacy", ISOLATED_NAME, ISOLATED];
        let plan = plan_with(
            &[isolated, ("legacy", Some("legacy-open-jd"), false)],
            Some("legacy-open-jd"),
            &conditional,
        );
        let (status, annotation, _) = schedule_finding(&plan);
        assert_eq!(status, Status::NonCompliant, "{annotation}");
        assert!(annotation.contains("'legacy-open-jd' sets EnableNetworkIsolation=false"));
        // ... and without it: unresolved, to be described in the account.
        let plan = plan_with(&[isolated], Some("legacy-open-jd"), &conditional);
        let (status, annotation, lookup) = schedule_finding(&plan);
        assert_eq!(status, Status::Unresolved, "{annotation}");
        let wanted = JobDefinitionRef::new(MonitoringKind::DataQuality, "legacy-open-jd");
        assert_eq!(lookup, Some(wanted));

        // `"${aws_..._job_definition.isolated.name}-v2"`: the references are a bare
        // reference's, the planned name is not.
        let plan = plan_with(
            &[isolated],
            Some("dq-isolated-v2"),
            &[ISOLATED_NAME, ISOLATED],
        );
        let (status, annotation, lookup) = schedule_finding(&plan);
        assert_eq!(status, Status::Unresolved, "{annotation}");
        assert!(annotation.contains("'dq-isolated-v2'"), "{annotation}");
        assert_eq!(lookup.map(|l| l.name), Some("dq-isolated-v2".to_owned()));

        // `coalesce(var.jd, aws_..._job_definition.isolated.name)` with var.jd set, and unset.
        let coalesce = ["var.jd", ISOLATED_NAME, ISOLATED];
        for (planned, status, said) in [
            ("open-jd", Status::Unresolved, "'open-jd', which this plan"),
            ("dq-isolated", Status::Compliant, "'dq-isolated' has"),
        ] {
            let plan = plan_with(&[isolated], Some(planned), &coalesce);
            let (found, annotation, _) = schedule_finding(&plan);
            assert_eq!(found, status, "{annotation}");
            assert!(annotation.contains(said), "{annotation}");
        }
    }

    #[test]
    fn the_reference_decides_only_when_the_names_are_known_after_apply() {
        let bare = [ISOLATED_NAME, ISOLATED];
        // Both names known only after apply: the referenced definition is the one.
        let plan = plan_with(&[("isolated", None, true)], None, &bare);
        let (status, annotation, _) = schedule_finding(&plan);
        assert_eq!(status, Status::Compliant, "{annotation}");
        // The definition's name is known but the schedule's is not: something else decides it.
        let plan = plan_with(&[("isolated", Some("dq-isolated"), true)], None, &bare);
        let (status, annotation, lookup) = schedule_finding(&plan);
        assert_eq!(status, Status::Unresolved, "{annotation}");
        assert!(
            annotation.contains("known only after apply"),
            "{annotation}"
        );
        assert_eq!(lookup, None);
    }

    /// `depth` nested modules `next`, each with outputs `o` and `p` that both refer to both of
    /// the next module's; the innermost refers to its job definition `jd` (name known only
    /// after apply). The root's schedule `s` names `module.next.o`.
    fn nested_modules(depth: usize) -> Value {
        let jd = ["aws_sagemaker_data_quality_job_definition.jd.name"];
        let mut module = json!({"outputs": {
            "o": {"expression": {"references": jd}}, "p": {"expression": {"references": jd}}
        }});
        for _ in 1..depth {
            let both = json!({"references": ["module.next.o", "module.next.p"]});
            module = json!({
                "outputs": {"o": {"expression": both.clone()}, "p": {"expression": both}},
                "module_calls": {"next": {"module": module}}
            });
        }
        let inner = vec!["module.next"; depth].join(".");
        json!({
            "format_version": "1.2",
            "resource_changes": [
                {"address": format!("{inner}.{DATA_QUALITY}.jd"), "module_address": inner,
                 "mode": "managed", "type": DATA_QUALITY, "name": "jd",
                 "change": {"actions": ["create"],
                    "after": {"network_config": [{"enable_network_isolation": true}]},
                    "after_unknown": {"name": true}}},
                {"address": format!("{SCHEDULE}.s"), "mode": "managed", "type": SCHEDULE, "name": "s",
                 "change": {"actions": ["create"],
                    "after": {"monitoring_schedule_config": [{"monitoring_type": "DataQuality"}]},
                    "after_unknown": {"monitoring_schedule_config": [{"monitoring_job_definition_name": true}]}}}
            ],
            "configuration": {"root_module": {
                "resources": [{"address": format!("{SCHEDULE}.s"), "type": SCHEDULE, "name": "s",
                    "expressions": {"monitoring_schedule_config": [{"monitoring_job_definition_name":
                        {"references": ["module.next.o"]}}]}}],
                "module_calls": {"next": {"module": module}}
            }}
        })
    }

    #[test]
    fn module_references_are_followed_once_each_and_not_too_far() {
        // 2^15 paths lead to the job definition; each reference is followed once.
        let (status, annotation, _) = schedule_finding(&nested_modules(16));
        assert_eq!(status, Status::Compliant, "{annotation}");
        assert!(
            annotation.contains("module.next.aws_sagemaker"),
            "{annotation}"
        );
        // Further than MAX_HOPS: unresolved, and said to be, not read as no reference at all.
        let (status, annotation, _) = schedule_finding(&nested_modules(MAX_HOPS + 2));
        assert_eq!(status, Status::Unresolved, "{annotation}");
        assert!(
            annotation.contains("refers through more than 16 module variables and outputs"),
            "{annotation}"
        );
    }

    #[test]
    fn lines_are_where_each_address_first_appears_as_a_string() {
        let text = "{\n \"a\": \"x\",\n \"say \\\"x\\\"\": 1,\n \"y\": [\"x\"],\n \"x\": \"y\"\n}";
        let lines = first_lines(text, ["x", "y", "z"].into_iter());
        assert_eq!(lines.get("x"), Some(&2));
        assert_eq!(lines.get("y"), Some(&4));
        assert_eq!(lines.get("z"), None);
    }
}
