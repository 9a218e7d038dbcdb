//! One result for one resource, in the words PutEvaluations uses.

use crate::core::verdict::{Compliance, Verdict};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Evaluation {
    pub compliance_resource_type: String,
    pub compliance_resource_id: String,
    pub compliance_type: Compliance,
    pub annotation: String,
    #[serde(serialize_with = "iso_time")]
    pub ordering_timestamp: DateTime,
}

impl Evaluation {
    pub fn new(
        resource_type: impl Into<String>,
        resource_id: impl Into<String>,
        verdict: Verdict,
        ordering_timestamp: DateTime,
    ) -> Self {
        Evaluation {
            compliance_resource_type: resource_type.into(),
            compliance_resource_id: resource_id.into(),
            compliance_type: verdict.compliance,
            annotation: verdict.annotation,
            ordering_timestamp,
        }
    }

    /// One JSON object on one line, as `evaluate --dry-run` prints it.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("an evaluation always serialises")
    }
}

fn iso_time<S: Serializer>(time: &DateTime, serializer: S) -> Result<S::Ok, S::Error> {
    let text = time
        .fmt(Format::DateTime)
        .map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_use_the_api_field_names() {
        let evaluation = Evaluation::new(
            crate::SCHEDULE_TYPE,
            "arn:aws:sagemaker:us-east-1:1:monitoring-schedule/s",
            Verdict::not_applicable("gone"),
            DateTime::from_secs(1_795_860_000),
        );
        let line: serde_json::Value = serde_json::from_str(&evaluation.to_json_line()).unwrap();
        assert_eq!(
            line,
            serde_json::json!({
                "ComplianceResourceType": "AWS::SageMaker::MonitoringSchedule",
                "ComplianceResourceId": "arn:aws:sagemaker:us-east-1:1:monitoring-schedule/s",
                "ComplianceType": "NOT_APPLICABLE",
                "Annotation": "gone",
                "OrderingTimestamp": "2026-11-28T10:00:00Z"
            })
        );
    }
}
