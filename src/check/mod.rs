//! `check`: the rule's verdict before deployment, on CloudFormation and SAM templates and on
//! Terraform plans. Pure: text in, [`Assessment`]s out; the verdicts are the rule's own
//! (`core/verdict.rs`), over the same [`ScheduleView`](crate::core::schedule::ScheduleView).
//!
//! * `template`: YAML or JSON templates read into CloudFormation's JSON form, with lines;
//! * `intrinsics`: the intrinsic functions a template alone can evaluate;
//! * `names`: SageMaker's naming rules, for templates and plans alike;
//! * `cloudformation`: a template's schedules and job definitions judged;
//! * `terraform`: a plan's schedules and job definitions judged;
//! * `finding`: what is reported for one resource, `UNRESOLVED` included;
//! * `hook`: what a CloudFormation Lambda hook answers for one resource request.

pub mod cloudformation;
pub mod finding;
pub mod hook;
pub mod intrinsics;
pub mod names;
pub mod template;
pub mod terraform;

use crate::check::finding::Assessment;
use crate::check::template::{Template, TemplateError};
use serde_json::Value;
use std::collections::BTreeMap;

/// An input `check` can read.
#[derive(Debug)]
pub enum Input {
    CloudFormation(Template),
    /// A plan, with its text for line numbers.
    Terraform {
        plan: Value,
        text: String,
    },
}

/// Why a file cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("{0}")]
    Template(#[from] TemplateError),
    /// Valid YAML or JSON, but neither a template nor a plan.
    #[error("{0}")]
    NotAnInput(String),
    /// A plan that cannot be read.
    #[error("{0}")]
    Plan(String),
}

/// What to check, beyond the input itself.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Judge job-definition resources themselves too (SageMaker.11, .12 and their twins).
    pub job_definitions: bool,
    /// Template parameter values (`--parameter Key=Value`), over their defaults; pseudo
    /// parameters (`AWS::Region`) too.
    pub parameters: BTreeMap<String, String>,
}

/// Reads a file's text: a Terraform plan (JSON with `format_version`), else a CloudFormation
/// template (YAML or JSON with a `Resources` mapping).
pub fn read(text: &str) -> Result<Input, InputError> {
    if let Ok(value) = serde_json::from_str::<Value>(text)
        && terraform::is_plan(&value)
    {
        return Ok(Input::Terraform {
            plan: value,
            text: text.to_owned(),
        });
    }
    let template = Template::parse(text)?;
    match template.root.get("Resources") {
        Some(Value::Object(_)) => Ok(Input::CloudFormation(template)),
        Some(_) => Err(InputError::NotAnInput(
            "Resources is not a mapping of logical ids to resources".into(),
        )),
        None if template.root.get("format_version").is_some() => Err(InputError::NotAnInput(
            "a Terraform JSON document without planned_values or resource_changes: give check the output of `terraform show -json PLANFILE`".into(),
        )),
        None => Err(InputError::NotAnInput(
            "neither a CloudFormation template (no Resources section) nor a Terraform plan (no format_version)".into(),
        )),
    }
}

/// Judges every schedule (and with `job_definitions`, every job definition) of an input.
pub fn assess(input: &Input, options: &Options) -> Result<Vec<Assessment>, InputError> {
    match input {
        Input::CloudFormation(template) => Ok(cloudformation::assess(
            template,
            &options.parameters,
            options.job_definitions,
        )),
        Input::Terraform { plan, text } => {
            terraform::assess(plan, text, options.job_definitions).map_err(InputError::Plan)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_told_apart_by_shape() {
        assert!(matches!(
            read("{\"format_version\": \"1.2\", \"resource_changes\": []}"),
            Ok(Input::Terraform { .. })
        ));
        assert!(matches!(
            read("Resources:\n  A: {Type: AWS::S3::Bucket}\n"),
            Ok(Input::CloudFormation(_))
        ));
        for (text, expected) in [
            (
                "name: build\non: push\n",
                "neither a CloudFormation template",
            ),
            ("{\"format_version\": \"1.0\"}", "terraform show -json"),
            ("Resources: [a, b]", "Resources is not a mapping"),
            ("Resources: [unclosed", "not YAML or JSON"),
        ] {
            let error = read(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
