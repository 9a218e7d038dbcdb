//! Turning network isolation on, opt-in. An embedded job definition is updated in place (the
//! schedule's whole configuration is sent back with only the flag changed). A named job
//! definition is immutable, so an isolated copy is created and the schedule pointed at it.
//!
//! Isolated jobs have no network access: their inputs must be reachable through VPC endpoints or
//! staged where the job can read them, or the next monitoring run fails.

use crate::error::{ApiFailure, FailureKind};
use crate::sagemaker::job_definition_network;
use crate::schedule::MonitoringKind;
use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::types::{MonitoringNetworkConfig, MonitoringScheduleConfig, NetworkConfig};
use std::fmt;

/// Job definition names are at most 63 characters.
const NAME_LIMIT: usize = 63;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Already isolated: nothing to change.
    Nothing(String),
    UpdateSchedule {
        schedule: String,
        change: String,
    },
    CreateJobDefinition {
        kind: MonitoringKind,
        source: String,
        copy: String,
    },
    /// An isolated copy made earlier is reused.
    ReuseJobDefinition {
        kind: MonitoringKind,
        copy: String,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Nothing(why) => write!(f, "nothing to change: {why}"),
            Step::UpdateSchedule { schedule, change } => write!(
                f,
                "UpdateMonitoringSchedule {schedule}: {change}; every other member of MonitoringScheduleConfig unchanged"
            ),
            Step::CreateJobDefinition { kind, source, copy } => write!(
                f,
                "Create{kind}JobDefinition {copy}: a copy of {source} with NetworkConfig.EnableNetworkIsolation=true (tags are not copied)"
            ),
            Step::ReuseJobDefinition { kind, copy } => {
                write!(
                    f,
                    "reuse the isolated {kind} job definition {copy} made earlier"
                )
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remediation {
    pub schedule: String,
    pub steps: Vec<Step>,
    pub applied: bool,
}

impl Remediation {
    pub fn changes_anything(&self) -> bool {
        !matches!(self.steps.as_slice(), [Step::Nothing(_)])
    }
}

fn failure(operation: &'static str, message: String) -> ApiFailure {
    ApiFailure {
        operation,
        kind: FailureKind::Refused,
        code: None,
        message,
    }
}

/// Plans the fix for one schedule and, with `apply`, carries it out.
pub async fn remediate(
    client: &Client,
    name: &str,
    apply: bool,
) -> Result<Remediation, ApiFailure> {
    let described = client
        .describe_monitoring_schedule()
        .monitoring_schedule_name(name)
        .send()
        .await
        .map_err(|error| ApiFailure::from_sdk("DescribeMonitoringSchedule", &error))?;
    let config = described
        .monitoring_schedule_config
        .clone()
        .ok_or_else(|| {
            failure(
                "DescribeMonitoringSchedule",
                format!("{name} has no MonitoringScheduleConfig"),
            )
        })?;
    let mut remediation = Remediation {
        schedule: name.to_owned(),
        steps: Vec::new(),
        applied: false,
    };
    let new_config = if let Some(definition) = &config.monitoring_job_definition {
        let network = definition.network_config.as_ref();
        let current = network.and_then(|n| n.enable_network_isolation);
        if current == Some(true) {
            remediation.steps.push(Step::Nothing(
                "the embedded job definition is isolated".into(),
            ));
            return Ok(remediation);
        }
        let isolated = NetworkConfig::builder()
            .set_enable_inter_container_traffic_encryption(
                network.and_then(|n| n.enable_inter_container_traffic_encryption),
            )
            .enable_network_isolation(true)
            .set_vpc_config(network.and_then(|n| n.vpc_config.clone()))
            .build();
        let mut new_config = config.clone();
        if let Some(definition) = new_config.monitoring_job_definition.as_mut() {
            definition.network_config = Some(isolated);
        }
        remediation.steps.push(Step::UpdateSchedule {
            schedule: name.to_owned(),
            change: format!(
                "MonitoringJobDefinition.NetworkConfig.EnableNetworkIsolation {} -> true",
                current.map_or("absent".to_owned(), |flag| flag.to_string())
            ),
        });
        new_config
    } else {
        let source = config
            .monitoring_job_definition_name
            .clone()
            .ok_or_else(|| {
                failure(
                    "DescribeMonitoringSchedule",
                    format!("{name} has neither an embedded nor a named job definition to fix"),
                )
            })?;
        let kind = config
            .monitoring_type
            .as_ref()
            .or(described.monitoring_type.as_ref())
            .and_then(|kind| MonitoringKind::parse(kind.as_str()))
            .ok_or_else(|| {
                failure(
                    "DescribeMonitoringSchedule",
                    format!("{name} names {source} without a MonitoringType this tool can copy"),
                )
            })?;
        let copy = match copy_of(client, kind, &source).await? {
            Found::Isolated => {
                remediation.steps.push(Step::Nothing(format!(
                    "{kind} job definition {source} is isolated"
                )));
                return Ok(remediation);
            }
            Found::Copy { name: copy, exists } => {
                remediation.steps.push(if exists {
                    Step::ReuseJobDefinition {
                        kind,
                        copy: copy.clone(),
                    }
                } else {
                    Step::CreateJobDefinition {
                        kind,
                        source: source.clone(),
                        copy: copy.clone(),
                    }
                });
                if apply && !exists {
                    create_isolated_copy(client, kind, &source, &copy).await?;
                }
                copy
            }
        };
        remediation.steps.push(Step::UpdateSchedule {
            schedule: name.to_owned(),
            change: format!("MonitoringJobDefinitionName {source} -> {copy}"),
        });
        let mut new_config = config.clone();
        new_config.monitoring_job_definition_name = Some(copy);
        new_config
    };
    if apply {
        update(client, name, new_config).await?;
        remediation.applied = true;
    }
    Ok(remediation)
}

async fn update(
    client: &Client,
    name: &str,
    config: MonitoringScheduleConfig,
) -> Result<(), ApiFailure> {
    client
        .update_monitoring_schedule()
        .monitoring_schedule_name(name)
        .monitoring_schedule_config(config)
        .send()
        .await
        .map_err(|error| ApiFailure::from_sdk("UpdateMonitoringSchedule", &error))?;
    Ok(())
}

enum Found {
    /// The named job definition is isolated already.
    Isolated,
    /// The name of the isolated copy to use, and whether it exists already.
    Copy { name: String, exists: bool },
}

/// Picks the copy's name: `<source>-isolated`, then `-isolated-2` to `-9`, reusing one that is
/// already isolated so that running the fix twice creates nothing new.
async fn copy_of(client: &Client, kind: MonitoringKind, source: &str) -> Result<Found, ApiFailure> {
    let isolated = |network: &Option<MonitoringNetworkConfig>| {
        network.as_ref().and_then(|n| n.enable_network_isolation) == Some(true)
    };
    match job_definition_network(client, kind, source).await? {
        None => {
            return Err(failure(
                "Describe job definition",
                format!(
                    "{kind} job definition {source} does not exist; point the schedule at an isolated one by hand"
                ),
            ));
        }
        Some(settings) if isolated(&settings) => return Ok(Found::Isolated),
        Some(_) => {}
    }
    for attempt in 1..=9 {
        let suffix = if attempt == 1 {
            "-isolated".to_owned()
        } else {
            format!("-isolated-{attempt}")
        };
        let base: String = source.chars().take(NAME_LIMIT - suffix.len()).collect();
        let candidate = format!("{}{suffix}", base.trim_end_matches('-'));
        match job_definition_network(client, kind, &candidate).await? {
            None => {
                return Ok(Found::Copy {
                    name: candidate,
                    exists: false,
                });
            }
            Some(settings) if isolated(&settings) => {
                return Ok(Found::Copy {
                    name: candidate,
                    exists: true,
                });
            }
            Some(_) => continue,
        }
    }
    Err(failure(
        "Describe job definition",
        format!("no free name for an isolated copy of {source}"),
    ))
}

fn isolated_network(network: Option<MonitoringNetworkConfig>) -> MonitoringNetworkConfig {
    MonitoringNetworkConfig::builder()
        .set_enable_inter_container_traffic_encryption(
            network
                .as_ref()
                .and_then(|n| n.enable_inter_container_traffic_encryption),
        )
        .enable_network_isolation(true)
        .set_vpc_config(network.and_then(|n| n.vpc_config))
        .build()
}

/// Describes the source and creates the copy with every member carried over.
async fn create_isolated_copy(
    client: &Client,
    kind: MonitoringKind,
    source: &str,
    copy: &str,
) -> Result<(), ApiFailure> {
    match kind {
        MonitoringKind::DataQuality => {
            let d = client
                .describe_data_quality_job_definition()
                .job_definition_name(source)
                .send()
                .await
                .map_err(|error| {
                    ApiFailure::from_sdk("DescribeDataQualityJobDefinition", &error)
                })?;
            client
                .create_data_quality_job_definition()
                .job_definition_name(copy)
                .set_role_arn(d.role_arn)
                .set_job_resources(d.job_resources)
                .set_stopping_condition(d.stopping_condition)
                .set_network_config(Some(isolated_network(d.network_config)))
                .set_data_quality_baseline_config(d.data_quality_baseline_config)
                .set_data_quality_app_specification(d.data_quality_app_specification)
                .set_data_quality_job_input(d.data_quality_job_input)
                .set_data_quality_job_output_config(d.data_quality_job_output_config)
                .send()
                .await
                .map_err(|error| ApiFailure::from_sdk("CreateDataQualityJobDefinition", &error))?;
        }
        MonitoringKind::ModelQuality => {
            let d = client
                .describe_model_quality_job_definition()
                .job_definition_name(source)
                .send()
                .await
                .map_err(|error| {
                    ApiFailure::from_sdk("DescribeModelQualityJobDefinition", &error)
                })?;
            client
                .create_model_quality_job_definition()
                .job_definition_name(copy)
                .set_role_arn(d.role_arn)
                .set_job_resources(d.job_resources)
                .set_stopping_condition(d.stopping_condition)
                .set_network_config(Some(isolated_network(d.network_config)))
                .set_model_quality_baseline_config(d.model_quality_baseline_config)
                .set_model_quality_app_specification(d.model_quality_app_specification)
                .set_model_quality_job_input(d.model_quality_job_input)
                .set_model_quality_job_output_config(d.model_quality_job_output_config)
                .send()
                .await
                .map_err(|error| ApiFailure::from_sdk("CreateModelQualityJobDefinition", &error))?;
        }
        MonitoringKind::ModelBias => {
            let d = client
                .describe_model_bias_job_definition()
                .job_definition_name(source)
                .send()
                .await
                .map_err(|error| ApiFailure::from_sdk("DescribeModelBiasJobDefinition", &error))?;
            client
                .create_model_bias_job_definition()
                .job_definition_name(copy)
                .set_role_arn(d.role_arn)
                .set_job_resources(d.job_resources)
                .set_stopping_condition(d.stopping_condition)
                .set_network_config(Some(isolated_network(d.network_config)))
                .set_model_bias_baseline_config(d.model_bias_baseline_config)
                .set_model_bias_app_specification(d.model_bias_app_specification)
                .set_model_bias_job_input(d.model_bias_job_input)
                .set_model_bias_job_output_config(d.model_bias_job_output_config)
                .send()
                .await
                .map_err(|error| ApiFailure::from_sdk("CreateModelBiasJobDefinition", &error))?;
        }
        MonitoringKind::ModelExplainability => {
            let d = client
                .describe_model_explainability_job_definition()
                .job_definition_name(source)
                .send()
                .await
                .map_err(|error| {
                    ApiFailure::from_sdk("DescribeModelExplainabilityJobDefinition", &error)
                })?;
            client
                .create_model_explainability_job_definition()
                .job_definition_name(copy)
                .set_role_arn(d.role_arn)
                .set_job_resources(d.job_resources)
                .set_stopping_condition(d.stopping_condition)
                .set_network_config(Some(isolated_network(d.network_config)))
                .set_model_explainability_baseline_config(d.model_explainability_baseline_config)
                .set_model_explainability_app_specification(
                    d.model_explainability_app_specification,
                )
                .set_model_explainability_job_input(d.model_explainability_job_input)
                .set_model_explainability_job_output_config(
                    d.model_explainability_job_output_config,
                )
                .send()
                .await
                .map_err(|error| {
                    ApiFailure::from_sdk("CreateModelExplainabilityJobDefinition", &error)
                })?;
        }
    }
    Ok(())
}
