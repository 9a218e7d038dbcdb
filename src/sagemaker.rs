//! Reading schedules and job definitions from SageMaker: the trait the rule needs, and its one
//! AWS implementation.

use crate::error::ApiFailure;
use crate::schedule::{JobDefinitionRef, JobSpec, MonitoringKind, Network, ScheduleView};
use crate::verdict::JobDefinitionState;
use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::operation::describe_monitoring_schedule::DescribeMonitoringScheduleOutput;
use aws_sdk_sagemaker::types::MonitoringNetworkConfig;
use std::future::Future;

/// A page of `ListMonitoringSchedules`, reduced to what a sweep needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulePage {
    pub schedules: Vec<ScheduleSummary>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSummary {
    pub name: String,
    pub arn: Option<String>,
}

/// The largest page ListMonitoringSchedules returns.
pub const PAGE_SIZE: i32 = 100;

pub trait Schedules: Sync {
    fn list_page(
        &self,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<SchedulePage, ApiFailure>> + Send;

    /// `Ok(None)` when the schedule does not exist (deleted since it was listed).
    fn describe(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<ScheduleView>, ApiFailure>> + Send;

    fn describe_job_definition(
        &self,
        reference: &JobDefinitionRef,
    ) -> impl Future<Output = Result<JobDefinitionState, ApiFailure>> + Send;
}

#[derive(Clone, Debug)]
pub struct AwsSchedules {
    client: Client,
}

impl AwsSchedules {
    pub fn new(client: Client) -> Self {
        AwsSchedules { client }
    }
}

impl Schedules for AwsSchedules {
    async fn list_page(&self, next_token: Option<String>) -> Result<SchedulePage, ApiFailure> {
        let output = self
            .client
            .list_monitoring_schedules()
            .max_results(PAGE_SIZE)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|error| ApiFailure::from_sdk("ListMonitoringSchedules", &error))?;
        let schedules = output
            .monitoring_schedule_summaries()
            .iter()
            .filter_map(|summary| {
                Some(ScheduleSummary {
                    name: summary.monitoring_schedule_name()?.to_owned(),
                    arn: summary.monitoring_schedule_arn().map(str::to_owned),
                })
            })
            .collect();
        Ok(SchedulePage {
            schedules,
            next_token: output
                .next_token()
                .filter(|token| !token.is_empty())
                .map(str::to_owned),
        })
    }

    async fn describe(&self, name: &str) -> Result<Option<ScheduleView>, ApiFailure> {
        match self
            .client
            .describe_monitoring_schedule()
            .monitoring_schedule_name(name)
            .send()
            .await
        {
            Ok(output) => Ok(Some(view_of(&output))),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_resource_not_found()) =>
            {
                Ok(None)
            }
            Err(error) => Err(ApiFailure::from_sdk("DescribeMonitoringSchedule", &error)),
        }
    }

    async fn describe_job_definition(
        &self,
        reference: &JobDefinitionRef,
    ) -> Result<JobDefinitionState, ApiFailure> {
        let name = reference.name.as_str();
        let client = &self.client;
        // Each kind has its own operation and output type; all four answer ResourceNotFound
        // for a missing name, which is a fact about the schedule, not a failure.
        macro_rules! describe {
            ($call:ident, $operation:literal) => {
                match client.$call().job_definition_name(name).send().await {
                    Ok(output) => Ok(JobDefinitionState::Found(
                        output.network_config().map(network_of),
                    )),
                    Err(error)
                        if error
                            .as_service_error()
                            .is_some_and(|service| service.is_resource_not_found()) =>
                    {
                        Ok(JobDefinitionState::Missing)
                    }
                    Err(error) => Err(ApiFailure::from_sdk($operation, &error)),
                }
            };
        }
        match reference.kind {
            MonitoringKind::DataQuality => describe!(
                describe_data_quality_job_definition,
                "DescribeDataQualityJobDefinition"
            ),
            MonitoringKind::ModelQuality => describe!(
                describe_model_quality_job_definition,
                "DescribeModelQualityJobDefinition"
            ),
            MonitoringKind::ModelBias => describe!(
                describe_model_bias_job_definition,
                "DescribeModelBiasJobDefinition"
            ),
            MonitoringKind::ModelExplainability => describe!(
                describe_model_explainability_job_definition,
                "DescribeModelExplainabilityJobDefinition"
            ),
        }
    }
}

fn network_of(config: &MonitoringNetworkConfig) -> Network {
    Network {
        isolation: config.enable_network_isolation(),
        vpc: config.vpc_config().is_some(),
    }
}

/// The Describe output, seen through the same view as a configuration item.
pub fn view_of(output: &DescribeMonitoringScheduleOutput) -> ScheduleView {
    let config = output.monitoring_schedule_config();
    let embedded = config.and_then(|config| config.monitoring_job_definition());
    let named = config.and_then(|config| config.monitoring_job_definition_name());
    let job = match (embedded, named) {
        (Some(definition), _) => {
            JobSpec::Embedded(definition.network_config().map(|network| Network {
                isolation: network.enable_network_isolation(),
                vpc: network.vpc_config().is_some(),
            }))
        }
        (None, Some(name)) if !name.is_empty() => JobSpec::Named {
            name: name.to_owned(),
            monitoring_type: config
                .and_then(|config| config.monitoring_type())
                .or(output.monitoring_type())
                .map(|kind| kind.as_str().to_owned()),
        },
        _ => JobSpec::Missing,
    };
    ScheduleView {
        name: output.monitoring_schedule_name().map(str::to_owned),
        arn: output.monitoring_schedule_arn().map(str::to_owned),
        job,
    }
}
