//! Reading schedules and job definitions from SageMaker: the trait the rule needs, and its one
//! AWS implementation.

use crate::error::ApiFailure;
use crate::job_definition::{self, Definition};
use crate::schedule::{JobDefinitionRef, JobSpec, MonitoringKind, Network, ScheduleView};
use crate::verdict::JobDefinitionState;
use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::operation::describe_monitoring_schedule::DescribeMonitoringScheduleOutput;
use aws_sdk_sagemaker::types::{MonitoringNetworkConfig, MonitoringType};
use std::collections::BTreeMap;
use std::future::Future;

/// A page of a SageMaker list call, reduced to what a sweep needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<Summary>,
    pub next_token: Option<String>,
}

/// A listed schedule or job definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub name: String,
    pub arn: Option<String>,
}

/// The largest page the SageMaker list calls return.
pub const PAGE_SIZE: i32 = 100;

pub trait Schedules: Sync {
    /// One page of schedules; with `naming`, only those that name that job definition.
    fn list_page(
        &self,
        next_token: Option<String>,
        naming: Option<&JobDefinitionRef>,
    ) -> impl Future<Output = Result<Page, ApiFailure>> + Send;

    /// `Ok(None)` when the schedule does not exist (deleted since it was listed).
    fn describe(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<ScheduleView>, ApiFailure>> + Send;

    fn describe_job_definition(
        &self,
        reference: &JobDefinitionRef,
    ) -> impl Future<Output = Result<JobDefinitionState, ApiFailure>> + Send;

    /// One page of the job definitions of one kind.
    fn list_job_definitions(
        &self,
        kind: MonitoringKind,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page, ApiFailure>> + Send;

    /// A resource's tags (ListTags, every page).
    fn tags(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, ApiFailure>> + Send;
}

#[derive(Clone, Debug)]
pub struct AwsSchedules {
    client: Client,
}

impl AwsSchedules {
    pub fn new(client: Client) -> Self {
        AwsSchedules { client }
    }

    /// The whole Describe output (remediation sends the configuration back): `Ok(None)` when
    /// the schedule does not exist.
    pub async fn describe_output(
        &self,
        name: &str,
    ) -> Result<Option<DescribeMonitoringScheduleOutput>, ApiFailure> {
        match self
            .client
            .describe_monitoring_schedule()
            .monitoring_schedule_name(name)
            .send()
            .await
        {
            Ok(output) => Ok(Some(output)),
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

    /// A whole job definition: `Ok(None)` when it does not exist.
    pub async fn definition(
        &self,
        kind: MonitoringKind,
        name: &str,
    ) -> Result<Option<Definition>, ApiFailure> {
        job_definition::describe(&self.client, kind, name).await
    }
}

fn non_empty(token: Option<&str>) -> Option<String> {
    token.filter(|token| !token.is_empty()).map(str::to_owned)
}

impl Schedules for AwsSchedules {
    async fn list_page(
        &self,
        next_token: Option<String>,
        naming: Option<&JobDefinitionRef>,
    ) -> Result<Page, ApiFailure> {
        let output = self
            .client
            .list_monitoring_schedules()
            .max_results(PAGE_SIZE)
            .set_next_token(next_token)
            .set_monitoring_job_definition_name(naming.map(|r| r.name.clone()))
            .set_monitoring_type_equals(naming.map(|r| MonitoringType::from(r.kind.as_str())))
            .send()
            .await
            .map_err(|error| ApiFailure::from_sdk("ListMonitoringSchedules", &error))?;
        let items = output
            .monitoring_schedule_summaries()
            .iter()
            .filter_map(|summary| {
                Some(Summary {
                    name: summary.monitoring_schedule_name()?.to_owned(),
                    arn: summary.monitoring_schedule_arn().map(str::to_owned),
                })
            })
            .collect();
        Ok(Page {
            items,
            next_token: non_empty(output.next_token()),
        })
    }

    async fn list_job_definitions(
        &self,
        kind: MonitoringKind,
        next_token: Option<String>,
    ) -> Result<Page, ApiFailure> {
        let client = &self.client;
        macro_rules! list {
            ($call:ident, $operation:literal) => {{
                let output = client
                    .$call()
                    .max_results(PAGE_SIZE)
                    .set_next_token(next_token)
                    .send()
                    .await
                    .map_err(|error| ApiFailure::from_sdk($operation, &error))?;
                let items = output
                    .job_definition_summaries()
                    .iter()
                    .filter_map(|summary| {
                        Some(Summary {
                            name: summary.monitoring_job_definition_name()?.to_owned(),
                            arn: summary.monitoring_job_definition_arn().map(str::to_owned),
                        })
                    })
                    .collect();
                Ok(Page {
                    items,
                    next_token: non_empty(output.next_token()),
                })
            }};
        }
        match kind {
            MonitoringKind::DataQuality => list!(
                list_data_quality_job_definitions,
                "ListDataQualityJobDefinitions"
            ),
            MonitoringKind::ModelQuality => list!(
                list_model_quality_job_definitions,
                "ListModelQualityJobDefinitions"
            ),
            MonitoringKind::ModelBias => list!(
                list_model_bias_job_definitions,
                "ListModelBiasJobDefinitions"
            ),
            MonitoringKind::ModelExplainability => list!(
                list_model_explainability_job_definitions,
                "ListModelExplainabilityJobDefinitions"
            ),
        }
    }

    async fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>, ApiFailure> {
        let mut tags = BTreeMap::new();
        let mut next_token = None;
        loop {
            let output = self
                .client
                .list_tags()
                .resource_arn(arn)
                .max_results(100)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|error| ApiFailure::from_sdk("ListTags", &error))?;
            for tag in output.tags() {
                if let (Some(key), Some(value)) = (tag.key(), tag.value()) {
                    tags.insert(key.to_owned(), value.to_owned());
                }
            }
            next_token = non_empty(output.next_token());
            if next_token.is_none() {
                return Ok(tags);
            }
        }
    }

    async fn describe(&self, name: &str) -> Result<Option<ScheduleView>, ApiFailure> {
        Ok(self.describe_output(name).await?.as_ref().map(view_of))
    }

    async fn describe_job_definition(
        &self,
        reference: &JobDefinitionRef,
    ) -> Result<JobDefinitionState, ApiFailure> {
        // A missing name is a fact about the schedule, not a failure.
        Ok(
            match self.definition(reference.kind, &reference.name).await? {
                Some(definition) => JobDefinitionState::Found(definition.network().map(network_of)),
                None => JobDefinitionState::Missing,
            },
        )
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
