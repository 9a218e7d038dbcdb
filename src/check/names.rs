//! SageMaker's naming rules as `check` needs them, for templates and plans alike: what a job
//! definition is called when its name is left to CloudFormation or known only after apply,
//! which names SageMaker accepts, and a job definition's ARN.

use crate::core::resource::MonitoringKind;

/// The name a job definition stands for when the input gives none (a template leaves it to
/// CloudFormation; a plan knows it only after apply): its logical id or address in braces,
/// which no real name can contain.
pub fn generated_name(logical_id: &str) -> String {
    format!("{{{logical_id}}}")
}

/// The characters of `name` a deployment cannot change: those outside pseudo parameters
/// (`${AWS::StackName}`) and the names CloudFormation generates (`{LogicalId}`).
pub fn fixed_length(name: &str) -> usize {
    let mut length = 0;
    let mut inside = false;
    for c in name.chars() {
        match c {
            '{' => inside = true,
            '}' if inside => inside = false,
            '$' => {}
            _ if !inside => length += 1,
            _ => {}
        }
    }
    length
}

/// Whether `name` can be a SageMaker job definition name (`^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`,
/// at most 63 characters): only such a name can be described in an account.
pub fn is_complete_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A job definition's ARN, as its `Ref` gives it.
pub fn arn(kind: MonitoringKind, name: &str) -> String {
    let segment = match kind {
        MonitoringKind::DataQuality => "data-quality",
        MonitoringKind::ModelQuality => "model-quality",
        MonitoringKind::ModelBias => "model-bias",
        MonitoringKind::ModelExplainability => "model-explainability",
    };
    format!(
        "arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:{segment}-job-definition/{name}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_names_are_those_sagemaker_accepts() {
        assert!(is_complete_name("data-quality-1"));
        for name in [
            "",
            "{Unnamed}",
            "${AWS::StackName}-jd",
            "-x",
            "a_b",
            &"x".repeat(64),
        ] {
            assert!(!is_complete_name(name), "{name}");
        }
    }

    #[test]
    fn a_name_is_as_long_as_what_a_deployment_cannot_change() {
        assert_eq!(fixed_length("${AWS::StackName}-{Jd}-x"), 3);
        assert_eq!(fixed_length(&generated_name("Jd")), 0);
        assert_eq!(
            arn(MonitoringKind::ModelBias, "jd"),
            "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:model-bias-job-definition/jd"
        );
    }
}
