//! What `check` prints on stdout: a table whose rows start with their verdict, JSON lines, or
//! SARIF 2.1.0 for code scanning. Every text from the input goes through `escaping`.

use crate::check;
use crate::check::finding::{Finding, Status};
use crate::core::resource::{MonitoringKind, ResourceKind, SCHEDULE_TYPE};
use crate::escaping;
use clap::ValueEnum;
use serde_json::{Value, json};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

/// Writes the findings in `format`.
pub fn write(out: &mut impl Write, format: Format, findings: &[Finding]) -> std::io::Result<()> {
    match format {
        Format::Table => write_table(out, findings),
        Format::Json => findings.iter().try_for_each(|finding| {
            writeln!(out, "{}", escaping::json(json_line(finding).to_string()))
        }),
        Format::Sarif => writeln!(
            out,
            "{}",
            escaping::json(serde_json::to_string_pretty(&sarif(findings)).expect("serialisable"))
        ),
    }
}

/// The resource type without its `AWS::SageMaker::` prefix.
fn short_type(resource_type: &str) -> &str {
    resource_type.rsplit("::").next().unwrap_or(resource_type)
}

/// The table: a row per finding, starting with its verdict (so no line starts with text from
/// the input), each cell escaped.
fn write_table(out: &mut impl Write, findings: &[Finding]) -> std::io::Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    let rows: Vec<[String; 4]> = findings
        .iter()
        .map(|f| {
            [
                format!("{}:{}", escaping::text(&f.file), f.line),
                escaping::text(&f.resource).into_owned(),
                escaping::text(short_type(&f.resource_type)).into_owned(),
                escaping::text(&f.annotation).into_owned(),
            ]
        })
        .collect();
    let width = |column: usize, heading: &str| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .max()
            .unwrap_or(0)
            .max(heading.len())
    };
    let (w_location, w_resource, w_type) =
        (width(0, "LOCATION"), width(1, "RESOURCE"), width(2, "TYPE"));
    writeln!(
        out,
        "{:14}  {:w_location$}  {:w_resource$}  {:w_type$}  ANNOTATION",
        "VERDICT", "LOCATION", "RESOURCE", "TYPE"
    )?;
    for (finding, [location, resource, kind, annotation]) in findings.iter().zip(&rows) {
        writeln!(
            out,
            "{:14}  {location:w_location$}  {resource:w_resource$}  {kind:w_type$}  {annotation}",
            finding.status.as_str(),
        )?;
    }
    Ok(())
}

fn json_line(finding: &Finding) -> Value {
    json!({
        "file": finding.file,
        "resource": finding.resource,
        "type": finding.resource_type,
        "ComplianceType": finding.status.as_str(),
        "Annotation": finding.annotation,
        "line": finding.line,
    })
}

/// A SARIF rule: one per resource type this command judges.
struct Rule {
    id: &'static str,
    name: &'static str,
    short: &'static str,
    full: &'static str,
}

const RULES: [Rule; 5] = [
    Rule {
        id: "SageMaker.14",
        name: "MonitoringScheduleNetworkIsolation",
        short: "SageMaker monitoring schedules should have network isolation enabled",
        full: "A monitoring schedule is compliant only when the job definition it runs (embedded, or the standalone job definition it names) sets NetworkConfig.EnableNetworkIsolation to true.",
    },
    Rule {
        id: "SageMaker.11",
        name: "DataQualityJobDefinitionNetworkIsolation",
        short: "SageMaker data quality job definitions should have network isolation enabled",
        full: "A data quality job definition is compliant only when NetworkConfig.EnableNetworkIsolation is true.",
    },
    Rule {
        id: "SageMaker.12",
        name: "ModelBiasJobDefinitionNetworkIsolation",
        short: "SageMaker model bias job definitions should have network isolation enabled",
        full: "A model bias job definition is compliant only when NetworkConfig.EnableNetworkIsolation is true.",
    },
    Rule {
        id: "model-quality-job-definition-isolation",
        name: "ModelQualityJobDefinitionNetworkIsolation",
        short: "SageMaker model quality job definitions should have network isolation enabled",
        full: "A model quality job definition is compliant only when NetworkConfig.EnableNetworkIsolation is true.",
    },
    Rule {
        id: "model-explainability-job-definition-isolation",
        name: "ModelExplainabilityJobDefinitionNetworkIsolation",
        short: "SageMaker model explainability job definitions should have network isolation enabled",
        full: "A model explainability job definition is compliant only when NetworkConfig.EnableNetworkIsolation is true.",
    },
];

const HELP: &str = "Set NetworkConfig.EnableNetworkIsolation to true on the job definition the resource runs (job definitions are immutable: a named one is replaced by an isolated copy). Isolated jobs reach their inputs and outputs only through VPC endpoints or staged data. UNRESOLVED means the verdict depends on a value the input does not hold: pass it with --parameter, or use --resolve-live.";

/// The index into [`RULES`] of a resource type.
fn rule_index(resource_type: &str) -> usize {
    let kind = match resource_type {
        SCHEDULE_TYPE | check::terraform::SCHEDULE => return 0,
        check::terraform::DATA_QUALITY => MonitoringKind::DataQuality,
        other => match ResourceKind::of(other) {
            ResourceKind::JobDefinition(kind) => kind,
            _ => return 0,
        },
    };
    match kind {
        MonitoringKind::DataQuality => 1,
        MonitoringKind::ModelBias => 2,
        MonitoringKind::ModelQuality => 3,
        MonitoringKind::ModelExplainability => 4,
    }
}

/// SARIF 2.1.0 as GitHub code scanning reads it: NON_COMPLIANT findings as errors, UNRESOLVED
/// ones as warnings, each at its file and line.
fn sarif(findings: &[Finding]) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": rule.name,
                "shortDescription": {"text": rule.short},
                "fullDescription": {"text": rule.full},
                "help": {"text": HELP},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["security", "sagemaker", "network-isolation"]},
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .filter_map(|finding| {
            let level = match finding.status {
                Status::NonCompliant => "error",
                Status::Unresolved => "warning",
                Status::Compliant | Status::NotApplicable => return None,
            };
            let index = rule_index(&finding.resource_type);
            Some(json!({
                "ruleId": RULES[index].id,
                "ruleIndex": index,
                "level": level,
                "message": {"text": format!("{} ({}): {}", finding.resource, finding.status, finding.annotation)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": finding.file},
                    "region": {"startLine": finding.line},
                }}],
                "properties": {"resourceType": finding.resource_type, "complianceType": finding.status.as_str()},
            }))
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "monitoring-schedule-isolation",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://docs.aws.amazon.com/securityhub/latest/userguide/sagemaker-controls.html",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_resource_type_has_its_rule() {
        for (resource_type, rule) in [
            (SCHEDULE_TYPE, "SageMaker.14"),
            ("aws_sagemaker_monitoring_schedule", "SageMaker.14"),
            ("aws_sagemaker_data_quality_job_definition", "SageMaker.11"),
            ("AWS::SageMaker::ModelBiasJobDefinition", "SageMaker.12"),
            (
                "AWS::SageMaker::ModelExplainabilityJobDefinition",
                "model-explainability-job-definition-isolation",
            ),
        ] {
            assert_eq!(RULES[rule_index(resource_type)].id, rule, "{resource_type}");
        }
    }
}
