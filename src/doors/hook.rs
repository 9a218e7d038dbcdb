//! CloudFormation Lambda hooks (`AWS::CloudFormation::LambdaHook`): the same function answers
//! them, recognised by their shape before a Config event is parsed.
//!
//! Request and response shapes: CloudFormation Hooks User Guide, "Create Lambda functions to
//! evaluate resources for Lambda Hooks",
//! <https://docs.aws.amazon.com/cloudformation-cli/latest/hooks-userguide/lambda-hooks-create-lambda-function.html>.
//! A request carries `actionInvocationPoint` (`CREATE_PRE_PROVISION`, `UPDATE_PRE_PROVISION`,
//! `DELETE_PRE_PROVISION`), `hookTypeName` and `requestData` {`targetName` (the resource
//! type), `targetType`, `targetLogicalId`, `targetModel` {`resourceProperties`,
//! `previousResourceProperties`}}, and may carry `clientRequestToken`, which the answer echoes.
//! The answer is `{"hookStatus": "SUCCESS" | "FAILED", "errorCode": "NonCompliant" |
//! "InternalFailure" (when FAILED), "message", "clientRequestToken"}`; CloudFormation cuts
//! messages at 4,096 characters (Cloud Control at 1,024), and annotations are at most 256.
//!
//! A monitoring schedule is judged by `ScheduleView` over its properties; one that names a job
//! definition by that job definition, described in the account (read-only). A job definition
//! of the four kinds is judged by its `NetworkConfig`. NON_COMPLIANT fails the operation with
//! the annotation as the message. Anything else succeeds: other types, deletions, compliant
//! resources. When the verdict cannot be reached (the properties cannot be read, or the named
//! job definition cannot be described) the hook fails closed: FAILED with `InternalFailure`
//! and the reason. The hook's `FailureMode` (FAIL or WARN) decides what a failure does.

use crate::aws::accounts::Accounts;
use crate::aws::sagemaker::AwsSageMaker;
use crate::check::cloudformation::booleans_from_strings;
use crate::core::resource::{JobDefinitionRef, ResourceKind};
use crate::core::schedule::{ScheduleView, network_from};
use crate::core::verdict::{
    Compliance, JobDefinitionState, Judgement, Reading, Verdict, fit, judge, judge_job_definition,
};
use crate::rule::ports::SageMakerReads;
use serde_json::{Map, Value};

/// Whether an invocation is a hook request: `requestData` with the hook's own members.
pub fn is_hook(payload: &Value) -> bool {
    payload.get("requestData").is_some_and(Value::is_object)
        && (payload.get("actionInvocationPoint").is_some() || payload.get("hookTypeName").is_some())
}

/// A hook's answer, before it is written as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    failed: Option<&'static str>,
    message: String,
}

impl Answer {
    fn success(message: impl Into<String>) -> Self {
        Answer {
            failed: None,
            message: message.into(),
        }
    }

    fn internal_failure(message: String) -> Self {
        Answer {
            failed: Some("InternalFailure"),
            message: fit(message),
        }
    }

    fn of(verdict: Verdict) -> Self {
        Answer {
            failed: (verdict.compliance == Compliance::NonCompliant).then_some("NonCompliant"),
            message: verdict.annotation,
        }
    }
}

/// What a request needs: an answer now, or a job definition described first.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Answer(Answer),
    Describe(JobDefinitionRef),
}

/// Decides what the properties alone settle.
fn decide(request: &Value) -> Decision {
    let data = &request["requestData"];
    let action = request
        .get("actionInvocationPoint")
        .and_then(Value::as_str)
        .unwrap_or("");
    if action.starts_with("DELETE") {
        return Decision::Answer(Answer::success("Deletion is not judged."));
    }
    let resource_type = data
        .get("targetName")
        .and_then(Value::as_str)
        .or_else(|| data.get("targetType").and_then(Value::as_str))
        .unwrap_or("");
    let properties = match data.pointer("/targetModel/resourceProperties") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(properties) => booleans_from_strings(properties.clone()),
    };
    match ResourceKind::of(resource_type) {
        ResourceKind::Other => Decision::Answer(Answer::success(format!(
            "{resource_type} is not a SageMaker monitoring schedule or job definition: not judged."
        ))),
        ResourceKind::Schedule => match ScheduleView::from_configuration(&properties) {
            Err(error) => Decision::Answer(Answer::internal_failure(format!(
                "Cannot read the schedule's properties ({error}), so isolation cannot be confirmed."
            ))),
            Ok(view) => match judge(&view.job, Reading::Resolved) {
                Judgement::Final(verdict) => Decision::Answer(Answer::of(verdict)),
                Judgement::NeedsJobDefinition(reference) => Decision::Describe(reference),
            },
        },
        ResourceKind::JobDefinition(kind) => {
            match network_from(properties.get("NetworkConfig"), "NetworkConfig") {
                Err(error) => Decision::Answer(Answer::internal_failure(format!(
                    "Cannot read the job definition's properties ({error}), so isolation cannot be confirmed."
                ))),
                Ok(network) => {
                    let name = properties
                        .get("JobDefinitionName")
                        .and_then(Value::as_str)
                        .or_else(|| data.get("targetLogicalId").and_then(Value::as_str))
                        .unwrap_or("(unnamed)");
                    Decision::Answer(Answer::of(judge_job_definition(
                        &JobDefinitionRef::new(kind, name),
                        &JobDefinitionState::Found(network),
                    )))
                }
            }
        }
    }
}

/// Answers one hook request, describing a named job definition through `reads` if needed.
async fn answer<S: SageMakerReads>(reads: &S, request: &Value) -> Value {
    let answer = match decide(request) {
        Decision::Answer(answer) => answer,
        Decision::Describe(reference) => match reads.describe_job_definition(&reference).await {
            Ok(state) => Answer::of(judge_job_definition(&reference, &state)),
            Err(failure) => Answer::internal_failure(format!(
                "Could not describe {} job definition '{}' to judge this schedule, so the hook fails closed: {failure}",
                reference.kind, reference.name
            )),
        },
    };
    let mut response = Map::new();
    let status = if answer.failed.is_some() {
        "FAILED"
    } else {
        "SUCCESS"
    };
    response.insert("hookStatus".into(), status.into());
    if let Some(code) = answer.failed {
        response.insert("errorCode".into(), code.into());
    }
    response.insert("message".into(), answer.message.into());
    if let Some(token) = request.get("clientRequestToken").and_then(Value::as_str) {
        response.insert("clientRequestToken".into(), token.into());
    }
    Value::Object(response)
}

/// Serves one hook request with the function's own clients (a hook runs in the account of
/// the stack it guards), and logs the answer without the resource's properties.
pub async fn serve(accounts: &Accounts, request: &Value, request_id: &str) -> Value {
    let reads = AwsSageMaker::of(accounts.own_clients());
    let response = answer(&reads, request).await;
    let data = &request["requestData"];
    tracing::info!(
        request_id,
        action = request["actionInvocationPoint"].as_str().unwrap_or(""),
        target = data["targetName"].as_str().unwrap_or(""),
        logical_id = data["targetLogicalId"].as_str().unwrap_or(""),
        hook_status = response["hookStatus"].as_str().unwrap_or(""),
        error_code = response["errorCode"].as_str().unwrap_or(""),
        "hook answered"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(action: &str, target: &str, properties: Value) -> Value {
        json!({
            "awsAccountId": "123456789012",
            "hookTypeName": "Private::SageMaker::MonitoringIsolation",
            "actionInvocationPoint": action,
            "requestData": {
                "targetName": target, "targetType": target, "targetLogicalId": "Resource",
                "targetModel": {"resourceProperties": properties}
            }
        })
    }

    #[test]
    fn hook_requests_are_told_from_config_events() {
        assert!(is_hook(&request(
            "CREATE_PRE_PROVISION",
            "AWS::S3::Bucket",
            json!({})
        )));
        assert!(!is_hook(
            &json!({"invokingEvent": "{}", "requestData": "x"})
        ));
        assert!(!is_hook(&json!({"requestData": {}})));
    }

    #[test]
    fn the_properties_settle_embedded_schedules_and_job_definitions() {
        let open = decide(&request(
            "CREATE_PRE_PROVISION",
            "AWS::SageMaker::MonitoringSchedule",
            json!({"MonitoringScheduleConfig": {"MonitoringJobDefinition": {"NetworkConfig": {"EnableNetworkIsolation": "false"}}}}),
        ));
        let Decision::Answer(answer) = open else {
            panic!("an embedded schedule needs nothing else");
        };
        assert_eq!(answer.failed, Some("NonCompliant"));
        assert!(answer.message.contains("sets EnableNetworkIsolation=false"));

        let named = decide(&request(
            "UPDATE_PRE_PROVISION",
            "AWS::SageMaker::MonitoringSchedule",
            json!({"MonitoringScheduleConfig": {"MonitoringJobDefinitionName": "jd", "MonitoringType": "ModelBias"}}),
        ));
        assert_eq!(
            named,
            Decision::Describe(JobDefinitionRef::new(
                crate::core::resource::MonitoringKind::ModelBias,
                "jd"
            ))
        );

        let Decision::Answer(answer) = decide(&request(
            "CREATE_PRE_PROVISION",
            "AWS::SageMaker::DataQualityJobDefinition",
            json!({"NetworkConfig": {"EnableNetworkIsolation": "true"}}),
        )) else {
            panic!("a job definition needs nothing else");
        };
        assert_eq!(answer.failed, None);
        assert!(
            answer
                .message
                .starts_with("DataQuality job definition 'Resource' has")
        );
    }

    #[test]
    fn unreadable_properties_fail_closed() {
        let Decision::Answer(answer) = decide(&request(
            "CREATE_PRE_PROVISION",
            "AWS::SageMaker::MonitoringSchedule",
            json!({"MonitoringScheduleConfig": "not an object"}),
        )) else {
            panic!("no describe for unreadable properties");
        };
        assert_eq!(answer.failed, Some("InternalFailure"));
        assert!(
            answer
                .message
                .contains("MonitoringScheduleConfig: expected an object")
        );
    }
}
