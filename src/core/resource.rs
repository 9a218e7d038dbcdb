//! What kind of resource an id names: a monitoring schedule, one of the four kinds of standalone
//! job definition, or something this rule does not judge. Read once from a resource type, and
//! used everywhere after as a value.

use std::fmt;

/// The resource type SageMaker.14 judges, as AWS Config names it.
pub const SCHEDULE_TYPE: &str = "AWS::SageMaker::MonitoringSchedule";

/// The four kinds of standalone monitoring job definition. Names are unique per kind only, so
/// the kind picks the Describe operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MonitoringKind {
    DataQuality,
    ModelQuality,
    ModelBias,
    ModelExplainability,
}

impl MonitoringKind {
    pub const ALL: [MonitoringKind; 4] = [
        MonitoringKind::DataQuality,
        MonitoringKind::ModelQuality,
        MonitoringKind::ModelBias,
        MonitoringKind::ModelExplainability,
    ];

    /// The `MonitoringType` value SageMaker uses for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            MonitoringKind::DataQuality => "DataQuality",
            MonitoringKind::ModelQuality => "ModelQuality",
            MonitoringKind::ModelBias => "ModelBias",
            MonitoringKind::ModelExplainability => "ModelExplainability",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    /// The SageMaker call that lists job definitions of this kind.
    pub fn list_operation(self) -> &'static str {
        match self {
            MonitoringKind::DataQuality => "ListDataQualityJobDefinitions",
            MonitoringKind::ModelQuality => "ListModelQualityJobDefinitions",
            MonitoringKind::ModelBias => "ListModelBiasJobDefinitions",
            MonitoringKind::ModelExplainability => "ListModelExplainabilityJobDefinitions",
        }
    }

    /// The AWS Config resource type of a job definition of this kind.
    pub fn resource_type(self) -> &'static str {
        match self {
            MonitoringKind::DataQuality => "AWS::SageMaker::DataQualityJobDefinition",
            MonitoringKind::ModelQuality => "AWS::SageMaker::ModelQualityJobDefinition",
            MonitoringKind::ModelBias => "AWS::SageMaker::ModelBiasJobDefinition",
            MonitoringKind::ModelExplainability => {
                "AWS::SageMaker::ModelExplainabilityJobDefinition"
            }
        }
    }
}

impl fmt::Display for MonitoringKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A standalone job definition, identified the only way that is unambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobDefinitionRef {
    pub kind: MonitoringKind,
    pub name: String,
}

impl JobDefinitionRef {
    pub fn new(kind: MonitoringKind, name: impl Into<String>) -> Self {
        JobDefinitionRef {
            kind,
            name: name.into(),
        }
    }
}

/// A resource type, as far as this rule is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Schedule,
    JobDefinition(MonitoringKind),
    /// Any other type: never judged, NOT_APPLICABLE under its own type.
    Other,
}

impl ResourceKind {
    pub fn of(resource_type: &str) -> ResourceKind {
        if resource_type == SCHEDULE_TYPE {
            return ResourceKind::Schedule;
        }
        MonitoringKind::ALL
            .into_iter()
            .find(|kind| kind.resource_type() == resource_type)
            .map_or(ResourceKind::Other, ResourceKind::JobDefinition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_monitoring_type_and_resource_type() {
        for kind in MonitoringKind::ALL {
            assert_eq!(MonitoringKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                ResourceKind::of(kind.resource_type()),
                ResourceKind::JobDefinition(kind)
            );
        }
        assert_eq!(MonitoringKind::parse("dataquality"), None);
        assert_eq!(ResourceKind::of(SCHEDULE_TYPE), ResourceKind::Schedule);
        assert_eq!(ResourceKind::of("AWS::S3::Bucket"), ResourceKind::Other);
    }
}
