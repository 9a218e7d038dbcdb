//! The fake's answers held against recorded ones (see tests/fixtures/README.md for each source).

use crate::support::*;
use serde_json::{Value, json};

/// The fake's ListMonitoringSchedules summary has the recorded CLI output's members, with
/// epoch-second timestamps, and no NetworkConfig: so a sweep must describe every schedule.
#[test]
fn the_fakes_list_output_has_the_recorded_shape() {
    let recorded = fixture("list_monitoring_schedules/blog_cli_list_output_dataquality.json");
    let summary = &recorded["MonitoringScheduleSummaries"][0];
    let seed = fake_aws::seed::Seed::from_json(
        &json!({"schedules": [{
            "MonitoringScheduleName": summary["MonitoringScheduleName"],
            "MonitoringScheduleArn": summary["MonitoringScheduleArn"],
            "CreationTime": summary["CreationTime"],
            "LastModifiedTime": summary["LastModifiedTime"],
            "MonitoringScheduleStatus": summary["MonitoringScheduleStatus"],
            "EndpointName": summary["EndpointName"],
            "MonitoringType": "DataQuality",
            "MonitoringScheduleConfig": {
                "MonitoringJobDefinitionName": summary["MonitoringJobDefinitionName"],
                "MonitoringType": "DataQuality",
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}
            }
        }]})
        .to_string(),
    )
    .unwrap();
    let fake = start(seed);
    let client = list_through_the_sdk(&fake);
    let mut keys: Vec<&String> = client["MonitoringScheduleSummaries"][0]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let mut want: Vec<&String> = summary.as_object().unwrap().keys().collect();
    keys.sort();
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(
        client["MonitoringScheduleSummaries"][0]["CreationTime"],
        summary["CreationTime"]
    );
}

/// Lists through the real SDK client, then reads back the JSON the fake answered with.
fn list_through_the_sdk(fake: &fake_aws::FakeAws) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(fake.url())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                fake_aws::seed::DEFAULT_ACCESS_KEY,
                fake_aws::seed::DEFAULT_SECRET_KEY,
                None,
                None,
                "test",
            ))
            .load()
            .await;
        let client = aws_sdk_sagemaker::Client::new(&config);
        let output = client
            .list_monitoring_schedules()
            .max_results(100)
            .send()
            .await
            .unwrap();
        let summary = &output.monitoring_schedule_summaries()[0];
        let mut value = json!({});
        let fields: [(&str, Option<Value>); 8] = [
            (
                "MonitoringScheduleName",
                summary.monitoring_schedule_name().map(Value::from),
            ),
            (
                "MonitoringScheduleArn",
                summary.monitoring_schedule_arn().map(Value::from),
            ),
            (
                "CreationTime",
                summary.creation_time().map(|t| json!(t.as_secs_f64())),
            ),
            (
                "LastModifiedTime",
                summary.last_modified_time().map(|t| json!(t.as_secs_f64())),
            ),
            (
                "MonitoringScheduleStatus",
                summary
                    .monitoring_schedule_status()
                    .map(|s| Value::from(s.as_str())),
            ),
            ("EndpointName", summary.endpoint_name().map(Value::from)),
            (
                "MonitoringJobDefinitionName",
                summary.monitoring_job_definition_name().map(Value::from),
            ),
            (
                "MonitoringType",
                summary.monitoring_type().map(|t| Value::from(t.as_str())),
            ),
        ];
        for (key, field) in fields {
            if let Some(field) = field {
                value[key] = field;
            }
        }
        json!({"MonitoringScheduleSummaries": [value]})
    })
}
