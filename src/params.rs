//! Rule parameters (`InputParameters` on the Config rule), validated before any work starts.

use crate::verdict::Reading;
use serde_json::Value;

/// Default describes in flight during a sweep: high enough to hide latency, low enough to stay
/// well inside SageMaker's per-account Describe rate limits.
pub const DEFAULT_CONCURRENCY: usize = 8;
pub const MAX_CONCURRENCY: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleParams {
    pub reading: Reading,
    pub concurrency: usize,
}

impl Default for RuleParams {
    fn default() -> Self {
        RuleParams {
            reading: Reading::Resolved,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("ruleParameters is not a JSON object: {0}")]
    NotAnObject(String),
    #[error("unknown rule parameter '{0}' (known: StrictReading, DescribeConcurrency)")]
    Unknown(String),
    #[error("rule parameter {name} has an invalid value '{value}': expected {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl RuleParams {
    /// Parses the event's `ruleParameters` string. Config passes every value as a string; JSON
    /// booleans and numbers are accepted too, since hand-written templates often use them.
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
                Value::Bool(_) | Value::Number(_) => value.to_string(),
                other => other.to_string(),
            };
            match key.as_str() {
                "StrictReading" => {
                    params.reading = match text.to_ascii_lowercase().as_str() {
                        "true" => Reading::Literal,
                        "false" | "" => Reading::Resolved,
                        _ => {
                            return Err(ParamError::Invalid {
                                name: "StrictReading",
                                value: text,
                                expected: "true or false",
                            });
                        }
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
