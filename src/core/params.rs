//! Rule parameters (`InputParameters` on the Config rule), validated before any work starts.

use crate::core::exempt::{Exemptions, TagMatch};
use crate::core::resource::MonitoringKind;
use crate::core::verdict::Reading;
use serde_json::Value;

/// Default describes in flight during a sweep: high enough to hide latency, low enough to stay
/// well inside SageMaker's per-account Describe rate limits.
pub const DEFAULT_CONCURRENCY: usize = 8;
pub const MAX_CONCURRENCY: usize = 50;

/// Which control a deployed rule evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Control {
    /// SageMaker.14: monitoring schedules.
    #[default]
    MonitoringSchedules,
    /// SageMaker.11 and .12 and their model quality and explainability twins: the standalone
    /// job definitions themselves.
    JobDefinitions,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleParams {
    pub reading: Reading,
    pub concurrency: usize,
    pub control: Control,
    /// Job-definition kinds the job-definition control judges.
    pub kinds: Vec<MonitoringKind>,
    pub exemptions: Exemptions,
    /// Fix NON_COMPLIANT schedules from the Lambda (off unless turned on).
    pub remediate: bool,
    /// Assume this role, in the event's account, before any call (organization deployments).
    pub execution_role_name: Option<String>,
    /// Assume the event's `executionRoleArn` before any call.
    pub assume_execution_role: bool,
    /// The most calls per second of any one operation; unset, the rule finds the rate AWS
    /// admits.
    pub max_calls_per_second: Option<u32>,
    /// A sweep reports a verdict Config already holds, unchanged, only once the held result is
    /// this many days old (0: every sweep reports every verdict).
    pub refresh_days: u32,
}

/// A month. Changes and deletions are reported whatever this is (a changed verdict or
/// annotation always is, and a sweep clears what is gone); re-stating an unchanged result only
/// guards against one lost or altered outside the rule, which a month bounds, at one evaluation
/// per schedule a month: for 1,000 schedules swept daily, $1 a month instead of $30.
pub const DEFAULT_REFRESH_DAYS: u32 = 30;

impl Default for RuleParams {
    fn default() -> Self {
        RuleParams {
            reading: Reading::Resolved,
            concurrency: DEFAULT_CONCURRENCY,
            control: Control::MonitoringSchedules,
            kinds: MonitoringKind::ALL.to_vec(),
            exemptions: Exemptions::default(),
            remediate: false,
            execution_role_name: None,
            assume_execution_role: false,
            max_calls_per_second: None,
            refresh_days: DEFAULT_REFRESH_DAYS,
        }
    }
}

pub const KNOWN: &str = "StrictReading, DescribeConcurrency, MaxCallsPerSecond, ResultRefreshDays, Control, JobDefinitionTypes, ExemptTag, ExemptNamePatterns, Remediate, ExecutionRoleName, AssumeExecutionRole";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("ruleParameters is not a JSON object: {0}")]
    NotAnObject(String),
    #[error("unknown rule parameter '{0}' (known: {KNOWN})")]
    Unknown(String),
    #[error("rule parameter {name} has an invalid value '{value}': expected {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

fn boolean(name: &'static str, text: &str) -> Result<bool, ParamError> {
    match text.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" | "" => Ok(false),
        _ => Err(ParamError::Invalid {
            name,
            value: text.to_owned(),
            expected: "true or false",
        }),
    }
}

/// A comma-separated list, empty items dropped.
fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

impl RuleParams {
    /// Remediation is opt-in, and only for monitoring schedules.
    pub fn remediates(&self) -> bool {
        self.remediate && self.control == Control::MonitoringSchedules
    }

    /// How old a held result may be before a sweep reports it again unchanged.
    pub fn refresh(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.refresh_days) * 86_400)
    }

    /// Parses the event's `ruleParameters` string. Config passes every value as a string; JSON
    /// booleans and numbers are accepted too, since hand-written templates often use them. An
    /// empty string means "not set", so templates can pass optional parameters through.
    pub fn parse(raw: Option<&str>) -> Result<Self, ParamError> {
        let mut params = RuleParams::default();
        let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
            return Ok(params);
        };
        let value: Value = serde_json::from_str(raw)
            .map_err(|error| ParamError::NotAnObject(error.to_string()))?;
        let object = match value {
            Value::Object(object) => object,
            Value::Null => return Ok(params),
            other => return Err(ParamError::NotAnObject(format!("found {other}"))),
        };
        for (key, value) in &object {
            let text = match value {
                Value::String(text) => text.trim().to_owned(),
                other => other.to_string(),
            };
            match key.as_str() {
                "StrictReading" => {
                    params.reading = if boolean("StrictReading", &text)? {
                        Reading::Literal
                    } else {
                        Reading::Resolved
                    }
                }
                "DescribeConcurrency" => {
                    params.concurrency = match text.parse::<usize>() {
                        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => n,
                        _ => {
                            return Err(ParamError::Invalid {
                                name: "DescribeConcurrency",
                                value: text,
                                expected: "an integer from 1 to 50",
                            });
                        }
                    }
                }
                "MaxCallsPerSecond" => {
                    params.max_calls_per_second = match text.parse::<u32>() {
                        _ if text.is_empty() => None,
                        Ok(n) if (1..=1000).contains(&n) => Some(n),
                        _ => {
                            return Err(ParamError::Invalid {
                                name: "MaxCallsPerSecond",
                                value: text,
                                expected: "an integer from 1 to 1000",
                            });
                        }
                    }
                }
                "ResultRefreshDays" => {
                    params.refresh_days = match text.parse::<u32>() {
                        _ if text.is_empty() => DEFAULT_REFRESH_DAYS,
                        Ok(days) if days <= 365 => days,
                        _ => {
                            return Err(ParamError::Invalid {
                                name: "ResultRefreshDays",
                                value: text,
                                expected: "an integer from 0 to 365",
                            });
                        }
                    }
                }
                "Control" => {
                    params.control = match text.as_str() {
                        "" | "MonitoringSchedules" => Control::MonitoringSchedules,
                        "JobDefinitions" => Control::JobDefinitions,
                        _ => {
                            return Err(ParamError::Invalid {
                                name: "Control",
                                value: text,
                                expected: "MonitoringSchedules or JobDefinitions",
                            });
                        }
                    }
                }
                "JobDefinitionTypes" => {
                    let names = list(&text);
                    if !names.is_empty() {
                        params.kinds = names
                            .iter()
                            .map(|name| MonitoringKind::parse(name))
                            .collect::<Option<Vec<_>>>()
                            .ok_or(ParamError::Invalid {
                                name: "JobDefinitionTypes",
                                value: text.clone(),
                                expected: "a comma-separated list of DataQuality, ModelQuality, ModelBias, ModelExplainability",
                            })?;
                    }
                }
                "ExemptTag" => {
                    params.exemptions.tag = match text.as_str() {
                        "" => None,
                        _ => Some(TagMatch::parse(&text).ok_or(ParamError::Invalid {
                            name: "ExemptTag",
                            value: text.clone(),
                            expected: "a tag key, or key=value",
                        })?),
                    }
                }
                "ExemptNamePatterns" => params.exemptions.patterns = list(&text),
                "Remediate" => params.remediate = boolean("Remediate", &text)?,
                "ExecutionRoleName" => {
                    params.execution_role_name = match text.as_str() {
                        "" => None,
                        name if name.len() <= 64
                            && name
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c)) =>
                        {
                            Some(name.trim_matches('/').to_owned())
                        }
                        _ => {
                            return Err(ParamError::Invalid {
                                name: "ExecutionRoleName",
                                value: text,
                                expected: "an IAM role name (with its path, if any)",
                            });
                        }
                    }
                }
                "AssumeExecutionRole" => {
                    params.assume_execution_role = boolean("AssumeExecutionRole", &text)?
                }
                other => return Err(ParamError::Unknown(other.to_owned())),
            }
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_or_empty_parameters_give_the_defaults() {
        for raw in [None, Some(""), Some("{}"), Some("  "), Some("null")] {
            assert_eq!(RuleParams::parse(raw).unwrap(), RuleParams::default());
        }
    }

    #[test]
    fn values_are_read_from_strings_and_plain_json() {
        let params = RuleParams::parse(Some(
            r#"{"StrictReading":"TRUE","DescribeConcurrency":"12"}"#,
        ))
        .unwrap();
        assert_eq!(params.reading, Reading::Literal);
        assert_eq!(params.concurrency, 12);
        let params =
            RuleParams::parse(Some(r#"{"StrictReading":false,"DescribeConcurrency":3}"#)).unwrap();
        assert_eq!(params.reading, Reading::Resolved);
        assert_eq!(params.concurrency, 3);
        let params = RuleParams::parse(Some(r#"{"MaxCallsPerSecond":"20"}"#)).unwrap();
        assert_eq!(params.max_calls_per_second, Some(20));
        assert!(RuleParams::parse(Some(r#"{"MaxCallsPerSecond":"0"}"#)).is_err());
        assert_eq!(
            RuleParams::parse(Some(r#"{"MaxCallsPerSecond":""}"#))
                .unwrap()
                .max_calls_per_second,
            None
        );
    }

    #[test]
    fn an_unknown_key_is_named() {
        let error = RuleParams::parse(Some(r#"{"StrictReadng":"true"}"#)).unwrap_err();
        assert_eq!(error, ParamError::Unknown("StrictReadng".into()));
        assert!(error.to_string().contains("known: StrictReading"));
    }

    #[test]
    fn bad_values_are_named_with_what_was_expected() {
        let error = RuleParams::parse(Some(r#"{"DescribeConcurrency":"0"}"#)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "rule parameter DescribeConcurrency has an invalid value '0': expected an integer from 1 to 50"
        );
        assert!(RuleParams::parse(Some(r#"{"DescribeConcurrency":"51"}"#)).is_err());
        assert!(RuleParams::parse(Some(r#"{"StrictReading":"yes"}"#)).is_err());
    }

    #[test]
    fn the_issue_six_and_cross_account_parameters_parse() {
        let params = RuleParams::parse(Some(
            r#"{"Control":"JobDefinitions","JobDefinitionTypes":"ModelBias, DataQuality","ExemptTag":"exempt=yes","ExemptNamePatterns":"sandbox-*, *-tmp","Remediate":"true","ExecutionRoleName":"ops/sm14-reader","AssumeExecutionRole":"false"}"#,
        ))
        .unwrap();
        assert_eq!(params.control, Control::JobDefinitions);
        assert_eq!(
            params.kinds,
            vec![MonitoringKind::ModelBias, MonitoringKind::DataQuality]
        );
        assert_eq!(params.exemptions.tag, TagMatch::parse("exempt=yes"));
        assert_eq!(params.exemptions.patterns, vec!["sandbox-*", "*-tmp"]);
        assert!(params.remediate);
        assert_eq!(
            params.execution_role_name.as_deref(),
            Some("ops/sm14-reader")
        );
        assert!(!params.assume_execution_role);
    }

    #[test]
    fn empty_strings_leave_the_defaults() {
        let params = RuleParams::parse(Some(
            r#"{"Control":"","JobDefinitionTypes":"","ExemptTag":"","ExemptNamePatterns":"","Remediate":"","ExecutionRoleName":""}"#,
        ))
        .unwrap();
        assert_eq!(params, RuleParams::default());
    }

    #[test]
    fn bad_new_values_are_named() {
        for (raw, name) in [
            (r#"{"Control":"Endpoints"}"#, "Control"),
            (
                r#"{"JobDefinitionTypes":"DataQuality,Drift"}"#,
                "JobDefinitionTypes",
            ),
            (r#"{"ExemptTag":"=x"}"#, "ExemptTag"),
            (r#"{"ExecutionRoleName":"bad role"}"#, "ExecutionRoleName"),
            (r#"{"Remediate":"sometimes"}"#, "Remediate"),
        ] {
            let error = RuleParams::parse(Some(raw)).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("rule parameter {name} has an invalid value")),
                "{error}"
            );
        }
    }

    #[test]
    fn a_string_that_is_not_an_object_is_refused() {
        assert!(matches!(
            RuleParams::parse(Some("[1,2]")),
            Err(ParamError::NotAnObject(_))
        ));
        assert!(matches!(
            RuleParams::parse(Some("{not json")),
            Err(ParamError::NotAnObject(_))
        ));
    }
}
