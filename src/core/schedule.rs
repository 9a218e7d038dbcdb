//! The few facts about a monitoring schedule that decide SageMaker.14, in one plain shape.
//!
//! A configuration item and a `DescribeMonitoringSchedule` response both become a
//! [`ScheduleView`], so the verdict never knows where its input came from.

use serde_json::Value;

/// The network settings of a job definition, embedded or standalone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Network {
    /// `EnableNetworkIsolation` as written: `None` when the member is absent.
    pub isolation: Option<bool>,
    /// Whether a `VpcConfig` is present; reported because a VPC is often mistaken for isolation.
    pub vpc: bool,
}

/// What a schedule runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobSpec {
    /// `MonitoringScheduleConfig.MonitoringJobDefinition`; `None` when it has no `NetworkConfig`.
    Embedded(Option<Network>),
    /// `MonitoringJobDefinitionName`, with the `MonitoringType` as written (it may be absent or
    /// a value this build does not know).
    Named {
        name: String,
        monitoring_type: Option<String>,
    },
    /// Neither an embedded nor a named job definition.
    Missing,
}

/// The facts of one schedule that the verdict reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleView {
    pub name: Option<String>,
    pub arn: Option<String>,
    pub job: JobSpec,
}

/// A configuration that does not have the shape of a monitoring schedule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: expected {expected}, found {found}")]
pub struct ShapeError {
    pub path: String,
    pub expected: &'static str,
    pub found: String,
}

impl ScheduleView {
    /// Reads a schedule from a configuration item's `configuration` (CloudFormation-style
    /// PascalCase, the same member names as the Describe output). Only the members the verdict
    /// needs are read, and each is type-checked: a wrong type is an error, never a default.
    pub fn from_configuration(configuration: &Value) -> Result<Self, ShapeError> {
        let root = object(configuration, "configuration")?;
        let name = optional_string(root.get("MonitoringScheduleName"), "MonitoringScheduleName")?;
        let arn = optional_string(root.get("MonitoringScheduleArn"), "MonitoringScheduleArn")?;
        let top_type = optional_string(root.get("MonitoringType"), "MonitoringType")?;
        let config = match root.get("MonitoringScheduleConfig") {
            None | Some(Value::Null) => None,
            Some(value) => Some(object(value, "MonitoringScheduleConfig")?),
        };
        let job = match config {
            None => JobSpec::Missing,
            Some(config) => {
                let embedded = match config.get("MonitoringJobDefinition") {
                    None | Some(Value::Null) => None,
                    Some(value) => Some(object(
                        value,
                        "MonitoringScheduleConfig.MonitoringJobDefinition",
                    )?),
                };
                let named = optional_string(
                    config.get("MonitoringJobDefinitionName"),
                    "MonitoringScheduleConfig.MonitoringJobDefinitionName",
                )?;
                let config_type = optional_string(
                    config.get("MonitoringType"),
                    "MonitoringScheduleConfig.MonitoringType",
                )?;
                match (embedded, named) {
                    (Some(definition), _) => JobSpec::Embedded(network_from(
                        definition.get("NetworkConfig"),
                        "MonitoringScheduleConfig.MonitoringJobDefinition.NetworkConfig",
                    )?),
                    (None, Some(name)) => JobSpec::Named {
                        name,
                        monitoring_type: config_type.or(top_type),
                    },
                    (None, None) => JobSpec::Missing,
                }
            }
        };
        Ok(ScheduleView { name, arn, job })
    }
}

/// Reads a `NetworkConfig` member (of a schedule or a job definition configuration).
pub fn network_from(value: Option<&Value>, path: &str) -> Result<Option<Network>, ShapeError> {
    let network = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(value) => object(value, path)?,
    };
    let isolation = match network.get("EnableNetworkIsolation") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(flag)) => Some(*flag),
        Some(other) => {
            return Err(ShapeError {
                path: format!("{path}.EnableNetworkIsolation"),
                expected: "a boolean",
                found: describe(other),
            });
        }
    };
    let vpc = match network.get("VpcConfig") {
        None | Some(Value::Null) => false,
        Some(Value::Object(_)) => true,
        Some(other) => {
            return Err(ShapeError {
                path: format!("{path}.VpcConfig"),
                expected: "an object",
                found: describe(other),
            });
        }
    };
    Ok(Some(Network { isolation, vpc }))
}

fn object<'a>(
    value: &'a Value,
    path: &str,
) -> Result<&'a serde_json::Map<String, Value>, ShapeError> {
    value.as_object().ok_or_else(|| ShapeError {
        path: path.to_owned(),
        expected: "an object",
        found: describe(value),
    })
}

fn optional_string(value: Option<&Value>, path: &str) -> Result<Option<String>, ShapeError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(ShapeError {
            path: path.to_owned(),
            expected: "a string",
            found: describe(other),
        }),
    }
}

/// Names a JSON value's type without echoing its content into logs.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embedded_network_is_read_with_its_vpc() {
        let view = ScheduleView::from_configuration(&json!({
            "MonitoringScheduleName": "s",
            "MonitoringScheduleConfig": {"MonitoringJobDefinition": {"NetworkConfig": {
                "EnableNetworkIsolation": false,
                "VpcConfig": {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
            }}}
        }))
        .unwrap();
        assert_eq!(
            view.job,
            JobSpec::Embedded(Some(Network {
                isolation: Some(false),
                vpc: true
            }))
        );
        assert_eq!(view.name.as_deref(), Some("s"));
    }

    #[test]
    fn a_named_definition_takes_the_config_type_then_the_top_level_one() {
        for (configuration, monitoring_type) in [
            (
                json!({"MonitoringType": "DataQuality", "MonitoringScheduleConfig": {
                    "MonitoringJobDefinitionName": "jd", "MonitoringType": "ModelBias"}}),
                "ModelBias",
            ),
            (
                json!({"MonitoringType": "ModelQuality", "MonitoringScheduleConfig": {
                    "MonitoringJobDefinitionName": "jd"}}),
                "ModelQuality",
            ),
        ] {
            let view = ScheduleView::from_configuration(&configuration).unwrap();
            let want = JobSpec::Named {
                name: "jd".into(),
                monitoring_type: Some(monitoring_type.into()),
            };
            assert_eq!(view.job, want);
        }
    }

    #[test]
    fn a_string_flag_is_a_shape_error_not_a_verdict() {
        let error = ScheduleView::from_configuration(&json!({
            "MonitoringScheduleConfig": {"MonitoringJobDefinition": {"NetworkConfig": {
                "EnableNetworkIsolation": "true"
            }}}
        }))
        .unwrap_err();
        assert_eq!(
            error.path,
            "MonitoringScheduleConfig.MonitoringJobDefinition.NetworkConfig.EnableNetworkIsolation"
        );
        assert_eq!(error.found, "a string");
    }

    #[test]
    fn a_configuration_that_is_not_an_object_is_a_shape_error() {
        let error = ScheduleView::from_configuration(&json!(["not", "a", "schedule"])).unwrap_err();
        assert_eq!(error.path, "configuration");
        assert_eq!(error.expected, "an object");
    }

    #[test]
    fn nulls_read_as_absent() {
        let view = ScheduleView::from_configuration(&json!({
            "MonitoringScheduleConfig": {"MonitoringJobDefinition": {"NetworkConfig": null}}
        }))
        .unwrap();
        assert_eq!(view.job, JobSpec::Embedded(None));
        let view =
            ScheduleView::from_configuration(&json!({"MonitoringScheduleConfig": null})).unwrap();
        assert_eq!(view.job, JobSpec::Missing);
    }
}
