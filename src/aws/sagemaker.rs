//! Reading schedules and job definitions from SageMaker: the rule's read edge. It has no
//! method that writes; remediation's writes are in `remediate.rs`.

use crate::aws::PAGE_SIZE;
use crate::aws::job_definition::{self, Definition};
use crate::aws::pacing::{Pacer, send};
use crate::aws::sdk::Clients;
use crate::core::pages::all_pages;
use crate::core::resource::{JobDefinitionRef, MonitoringKind};
use crate::core::schedule::{JobSpec, Network, ScheduleView};
use crate::core::verdict::JobDefinitionState;
use crate::error::ApiFailure;
use crate::rule::ports::{Page, SageMakerReads, Summary};
use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::operation::describe_monitoring_schedule::DescribeMonitoringScheduleOutput;
use aws_sdk_sagemaker::types::{MonitoringNetworkConfig, MonitoringType};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct AwsSageMaker {
    client: Client,
    pacer: Arc<Pacer>,
}

impl AwsSageMaker {
    pub fn new(client: Client, pacer: Arc<Pacer>) -> Self {
        AwsSageMaker { client, pacer }
    }

    pub fn of(clients: &Clients) -> Self {
        Self::new(clients.sagemaker.clone(), clients.pacer.clone())
    }

    /// The whole Describe output (remediation sends the configuration back): `Ok(None)` when
    /// the schedule does not exist.
    pub async fn describe_output(
        &self,
        name: &str,
    ) -> Result<Option<DescribeMonitoringScheduleOutput>, ApiFailure> {
        let request = self
            .client
            .describe_monitoring_schedule()
            .monitoring_schedule_name(name);
        match send!(self.pacer, "DescribeMonitoringSchedule", request) {
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
        job_definition::describe(&self.client, &self.pacer, kind, name).await
    }
}

impl SageMakerReads for AwsSageMaker {
    async fn list_page(
        &self,
        next_token: Option<String>,
        naming: Option<&JobDefinitionRef>,
    ) -> Result<Page, ApiFailure> {
        let request = self
            .client
            .list_monitoring_schedules()
            .max_results(PAGE_SIZE)
            .set_next_token(next_token)
            .set_monitoring_job_definition_name(naming.map(|r| r.name.clone()))
            .set_monitoring_type_equals(naming.map(|r| MonitoringType::from(r.kind.as_str())));
        let output = send!(self.pacer, "ListMonitoringSchedules", request)
            .map_err(|error| ApiFailure::from_sdk("ListMonitoringSchedules", &error))?;
        let items = output
            .monitoring_schedule_summaries()
            .iter()
            .filter_map(|s| {
                let summary =
                    Summary::new(s.monitoring_schedule_name(), s.monitoring_schedule_arn())?;
                let monitoring_type = s.monitoring_type().map(|kind| kind.as_str());
                Some(summary.naming(s.monitoring_job_definition_name(), monitoring_type))
            })
            .collect();
        Ok(Page::new(items, output.next_token()))
    }

    async fn list_job_definitions(
        &self,
        kind: MonitoringKind,
        next_token: Option<String>,
    ) -> Result<Page, ApiFailure> {
        job_definition::list(&self.client, &self.pacer, kind, next_token).await
    }

    async fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>, ApiFailure> {
        let pairs = all_pages("ListTags", |next_token| async move {
            let request = self
                .client
                .list_tags()
                .resource_arn(arn)
                .max_results(100)
                .set_next_token(next_token);
            let output = send!(self.pacer, "ListTags", request)
                .map_err(|error| ApiFailure::from_sdk("ListTags", &error))?;
            let pairs: Vec<(String, String)> = output
                .tags()
                .iter()
                .filter_map(|tag| Some((tag.key()?.to_owned(), tag.value()?.to_owned())))
                .collect();
            Ok((pairs, output.next_token))
        })
        .await?;
        Ok(pairs.into_iter().collect())
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
