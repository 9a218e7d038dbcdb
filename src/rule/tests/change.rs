use super::*;

#[tokio::test]
async fn a_job_definition_change_rejudges_only_the_schedules_that_name_it() {
    let memory = account();
    let change = Invocation::from_value(json!({
        "invokingEvent": json!({
            "messageType": "ConfigurationItemChangeNotification",
            "configurationItem": {
                "resourceType": "AWS::SageMaker::ModelBiasJobDefinition",
                "resourceId": "arn:bias/shared",
                "resourceName": "shared",
                "configurationItemCaptureTime": "2026-11-28T10:00:00.000Z",
                "configurationItemStatus": "OK",
                "configuration": {"JobDefinitionName": "shared", "NetworkConfig": {"EnableNetworkIsolation": false}},
            }
        }).to_string(),
        "resultToken": "t",
    }))
    .unwrap();
    let handled = run(&memory, &change, &RunOptions::default()).await;
    let delivered = memory.delivered();
    assert_eq!(delivered.len(), 3, "{delivered:?}");
    // Judged against the item (now not isolated), without describing the definition.
    assert_eq!(delivered["arn:schedule/d-bias"], NonCompliant);
    assert_eq!(delivered["arn:schedule/e-bias-too"], NonCompliant);
    assert_eq!(delivered["arn:bias/shared"], NotApplicable);
    assert_eq!(handled.report.sweep.stale, 0);
}
