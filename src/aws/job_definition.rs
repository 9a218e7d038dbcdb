//! The four kinds of standalone monitoring job definition, as the SageMaker SDK sees them. They
//! share one shape under different names (`DataQualityAppSpecification`,
//! `ModelBiasAppSpecification`, ...), so the mapping is written once, as a table, and describe,
//! compare and copy are each written once over it.

use crate::aws::PAGE_SIZE;
use crate::aws::pacing::{Pacer, send};
use crate::core::resource::MonitoringKind;
use crate::error::ApiFailure;
use crate::rule::ports::{Page, Summary};
use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::operation::describe_data_quality_job_definition::DescribeDataQualityJobDefinitionOutput;
use aws_sdk_sagemaker::operation::describe_model_bias_job_definition::DescribeModelBiasJobDefinitionOutput;
use aws_sdk_sagemaker::operation::describe_model_explainability_job_definition::DescribeModelExplainabilityJobDefinitionOutput;
use aws_sdk_sagemaker::operation::describe_model_quality_job_definition::DescribeModelQualityJobDefinitionOutput;
use aws_sdk_sagemaker::types::MonitoringNetworkConfig;

/// A job definition as Describe returned it.
#[derive(Debug, Clone, PartialEq)]
pub enum Definition {
    DataQuality(DescribeDataQualityJobDefinitionOutput),
    ModelQuality(DescribeModelQualityJobDefinitionOutput),
    ModelBias(DescribeModelBiasJobDefinitionOutput),
    ModelExplainability(DescribeModelExplainabilityJobDefinitionOutput),
}

/// `$m!` once with every kind's SDK names: the variant, the describe and create calls, their
/// operation names, and the four members whose names carry the kind.
macro_rules! kinds {
    ($m:ident) => {
        $m! {
            DataQuality, describe_data_quality_job_definition, create_data_quality_job_definition,
            list_data_quality_job_definitions, "ListDataQualityJobDefinitions",
            "DescribeDataQualityJobDefinition", "CreateDataQualityJobDefinition",
            [data_quality_baseline_config, set_data_quality_baseline_config],
            [data_quality_app_specification, set_data_quality_app_specification],
            [data_quality_job_input, set_data_quality_job_input],
            [data_quality_job_output_config, set_data_quality_job_output_config];
            ModelQuality, describe_model_quality_job_definition, create_model_quality_job_definition,
            list_model_quality_job_definitions, "ListModelQualityJobDefinitions",
            "DescribeModelQualityJobDefinition", "CreateModelQualityJobDefinition",
            [model_quality_baseline_config, set_model_quality_baseline_config],
            [model_quality_app_specification, set_model_quality_app_specification],
            [model_quality_job_input, set_model_quality_job_input],
            [model_quality_job_output_config, set_model_quality_job_output_config];
            ModelBias, describe_model_bias_job_definition, create_model_bias_job_definition,
            list_model_bias_job_definitions, "ListModelBiasJobDefinitions",
            "DescribeModelBiasJobDefinition", "CreateModelBiasJobDefinition",
            [model_bias_baseline_config, set_model_bias_baseline_config],
            [model_bias_app_specification, set_model_bias_app_specification],
            [model_bias_job_input, set_model_bias_job_input],
            [model_bias_job_output_config, set_model_bias_job_output_config];
            ModelExplainability, describe_model_explainability_job_definition,
            create_model_explainability_job_definition,
            list_model_explainability_job_definitions, "ListModelExplainabilityJobDefinitions",
            "DescribeModelExplainabilityJobDefinition", "CreateModelExplainabilityJobDefinition",
            [model_explainability_baseline_config, set_model_explainability_baseline_config],
            [model_explainability_app_specification, set_model_explainability_app_specification],
            [model_explainability_job_input, set_model_explainability_job_input],
            [model_explainability_job_output_config, set_model_explainability_job_output_config]
        }
    };
}

macro_rules! definition_operations {
    ($($kind:ident, $describe:ident, $create:ident, $list:ident, $list_op:literal,
       $describe_op:literal, $create_op:literal,
       $([$member:ident, $setter:ident]),+);+) => {
        /// One page of the job definitions of one kind.
        pub async fn list(
            client: &Client,
            pacer: &Pacer,
            kind: MonitoringKind,
            next_token: Option<String>,
        ) -> Result<Page, ApiFailure> {
            match kind {
                $(MonitoringKind::$kind => {
                    let request = client
                        .$list()
                        .max_results(PAGE_SIZE)
                        .set_next_token(next_token);
                    let output = send!(pacer, $list_op, request)
                        .map_err(|error| ApiFailure::from_sdk($list_op, &error))?;
                    let items = output
                        .job_definition_summaries()
                        .iter()
                        .filter_map(|s| {
                            Summary::new(
                                s.monitoring_job_definition_name(),
                                s.monitoring_job_definition_arn(),
                            )
                        })
                        .collect();
                    Ok(Page::new(items, output.next_token()))
                })+
            }
        }

        /// Describes a job definition: `Ok(None)` when SageMaker says it does not exist.
        pub async fn describe(
            client: &Client,
            pacer: &Pacer,
            kind: MonitoringKind,
            name: &str,
        ) -> Result<Option<Definition>, ApiFailure> {
            match kind {
                $(MonitoringKind::$kind => match send!(pacer, $describe_op, client.$describe().job_definition_name(name)) {
                    Ok(output) => Ok(Some(Definition::$kind(output))),
                    Err(error)
                        if error
                            .as_service_error()
                            .is_some_and(|service| service.is_resource_not_found()) =>
                    {
                        Ok(None)
                    }
                    Err(error) => Err(ApiFailure::from_sdk($describe_op, &error)),
                },)+
            }
        }

        impl Definition {
            pub fn network(&self) -> Option<&MonitoringNetworkConfig> {
                match self {
                    $(Definition::$kind(definition) => definition.network_config.as_ref(),)+
                }
            }

            /// Whether `other` runs the same job: every member equal but the name, the ARN, the
            /// creation time and `EnableNetworkIsolation`.
            pub fn same_job(&self, other: &Definition) -> bool {
                match (self, other) {
                    $((Definition::$kind(a), Definition::$kind(b)) => {
                        a.role_arn == b.role_arn
                            && a.job_resources == b.job_resources
                            && a.stopping_condition == b.stopping_condition
                            && $(a.$member == b.$member)&&+
                            && without_isolation(a.network_config.as_ref())
                                == without_isolation(b.network_config.as_ref())
                    })+
                    _ => false,
                }
            }
        }

        /// Creates `name` as a copy of `source` with network isolation on. Only the write edge
        /// (remediation with `--apply`, or `Remediate=true`) calls it.
        pub(crate) async fn create_isolated_copy(
            client: &Client,
            pacer: &Pacer,
            source: &Definition,
            name: &str,
        ) -> Result<(), ApiFailure> {
            match source {
                $(Definition::$kind(definition) => {
                    let request = client
                        .$create()
                        .job_definition_name(name)
                        .set_role_arn(definition.role_arn.clone())
                        .set_job_resources(definition.job_resources.clone())
                        .set_stopping_condition(definition.stopping_condition.clone())
                        .set_network_config(Some(isolated(definition.network_config.as_ref())))
                        $(.$setter(definition.$member.clone()))+;
                    send!(pacer, $create_op, request)
                        .map_err(|error| ApiFailure::from_sdk($create_op, &error))?;
                })+
            }
            Ok(())
        }
    };
}

kinds!(definition_operations);

/// The network settings with the isolation flag left out, to compare two definitions.
fn without_isolation(
    network: Option<&MonitoringNetworkConfig>,
) -> (Option<bool>, Option<&aws_sdk_sagemaker::types::VpcConfig>) {
    (
        network.and_then(|n| n.enable_inter_container_traffic_encryption),
        network.and_then(|n| n.vpc_config.as_ref()),
    )
}

/// The same network settings with isolation on: encryption and VPC are kept.
pub fn isolated(network: Option<&MonitoringNetworkConfig>) -> MonitoringNetworkConfig {
    MonitoringNetworkConfig::builder()
        .set_enable_inter_container_traffic_encryption(
            network.and_then(|n| n.enable_inter_container_traffic_encryption),
        )
        .enable_network_isolation(true)
        .set_vpc_config(network.and_then(|n| n.vpc_config.clone()))
        .build()
}
