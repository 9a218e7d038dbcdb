//! What a CloudFormation Lambda hook (`AWS::CloudFormation::LambdaHook`) answers, pure: a
//! request in, an answer out, or first the job definition to describe. The Lambda door
//! recognises a request by its shape ([`is_hook`]) before a Config event is parsed, and
//! `doors/hook.rs` does the describing and the writing.
//!
//! Request and response shapes: CloudFormation Hooks User Guide, "Create Lambda functions to
//! evaluate resources for Lambda Hooks",
//! <https://docs.aws.amazon.com/cloudformation-cli/latest/hooks-userguide/lambda-hooks-create-lambda-function.html>.
//! A resource request carries `actionInvocationPoint` (`CREATE_PRE_PROVISION`,
//! `UPDATE_PRE_PROVISION`, `DELETE_PRE_PROVISION`), `hookTypeName`, `clientRequestToken` and
//! `requestData` {`targetName` (the resource type), `targetType` (the type again, or
//! `RESOURCE` when Cloud Control API makes the call), `targetLogicalId`, `targetModel`
//! {`resourceProperties`, `previousResourceProperties`}}. A stack or change-set request has
//! `targetName` `STACK` or `CHANGE_SET` and, instead of a model, a `payload` URL to the
//! template. The answer is `{"hookStatus": "SUCCESS" | "FAILED", "errorCode": "NonCompliant" |
//! "InternalFailure" (when FAILED), "message", "clientRequestToken"}` (the token is required:
//! the request's, echoed); CloudFormation cuts messages at 4,096 characters (Cloud Control at
//! 1,024), and annotations are at most 256.
//!
//! A monitoring schedule is judged by `ScheduleView` over its properties; one that names a job
//! definition by that job definition, described in the account (read-only). A job definition
//! of the four kinds is judged by its `NetworkConfig`. NON_COMPLIANT fails the operation with
//! the annotation as the message. Other types, deletions and compliant resources succeed. What
//! cannot be read fails closed, FAILED with `InternalFailure` and the reason: a request that
//! names no resource type, a schedule or job definition without properties or with properties
//! that cannot be read, an invocation point this hook does not know, a named job definition
//! that cannot be described, and stack or change-set requests (this hook does not fetch their
//! templates; `template-hook.yaml` targets resources only). The hook's `FailureMode` (FAIL or
//! WARN) decides what a failure does.

use crate::check::cloudformation::booleans_from_strings;
use crate::core::resource::{JobDefinitionRef, ResourceKind};
use crate::core::schedule::{ScheduleView, network_from};
use crate::core::verdict::{
    ANNOTATION_LIMIT, Compliance, JobDefinitionState, Judgement, Reading, Verdict, judge,
    judge_job_definition,
};
use serde_json::{Map, Value};

/// Whether an invocation is a hook request: `requestData` with the hook's own members.
pub fn is_hook(payload: &Value) -> bool {
    payload.get("requestData").is_some_and(Value::is_object)
        && (payload.get("actionInvocationPoint").is_some() || payload.get("hookTypeName").is_some())
}

/// A hook's answer, before it is written as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
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
            message: fit_keeping_end(message),
        }
    }

    /// The answer for a schedule once the job definition it names was described, or why it
    /// could not be.
    pub fn described(
        reference: &JobDefinitionRef,
        described: Result<JobDefinitionState, String>,
    ) -> Self {
        match described {
            Ok(state) => Answer::of(judge_job_definition(reference, &state)),
            Err(why) => Answer::internal_failure(format!(
                "Could not describe {} job definition '{}' to judge this schedule, so the hook fails closed: {why}",
                reference.kind, reference.name
            )),
        }
    }

    /// The answer as the hook returns it, with the request's token (required in the answer;
    /// the guide's stack request spells it `clientRequesttoken`).
    pub fn response(&self, request: &Value) -> Value {
        let mut response = Map::new();
        let status = if self.failed.is_some() {
            "FAILED"
        } else {
            "SUCCESS"
        };
        response.insert("hookStatus".into(), status.into());
        if let Some(code) = self.failed {
            response.insert("errorCode".into(), code.into());
        }
        response.insert("message".into(), self.message.clone().into());
        let token = ["clientRequestToken", "clientRequesttoken"]
            .iter()
            .find_map(|key| request.get(*key).and_then(Value::as_str))
            .unwrap_or_default();
        response.insert("clientRequestToken".into(), token.into());
        Value::Object(response)
    }

    fn of(verdict: Verdict) -> Self {
        Answer {
            failed: (verdict.compliance == Compliance::NonCompliant).then_some("NonCompliant"),
            message: verdict.annotation,
        }
    }
}

/// The characters kept from the end of a message cut to fit: an AWS failure ends with its
/// request id (` (request id <36 characters>)`), which is what to quote to AWS Support.
const KEPT_END: usize = 64;

/// `text` within [`ANNOTATION_LIMIT`] characters, cut in the middle: its start says what
/// failed, its end holds the request id.
fn fit_keeping_end(text: String) -> String {
    let count = text.chars().count();
    if count <= ANNOTATION_LIMIT {
        return text;
    }
    let start: String = text.chars().take(ANNOTATION_LIMIT - 1 - KEPT_END).collect();
    let end: String = text.chars().skip(count - KEPT_END).collect();
    format!("{start}…{end}")
}

/// What a request needs: an answer now, or a job definition described first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Answer(Answer),
    Describe(JobDefinitionRef),
}

/// What a request is about.
enum Target<'r> {
    /// A resource of this type.
    Resource(&'r str),
    /// A whole stack or change set: its template is behind the `payload` URL.
    Template(&'r str),
    /// Nothing this hook can tell.
    Unknown,
}

impl<'r> Target<'r> {
    /// `targetName`; else `targetType` when it names a type (Cloud Control's is `RESOURCE`);
    /// else a `payload` says it is a stack or change set.
    fn of(data: &'r Value) -> Self {
        let name = |key: &str| data.get(key).and_then(Value::as_str);
        let named = name("targetName").or_else(|| {
            name("targetType").filter(|t| t.contains("::") || matches!(*t, "STACK" | "CHANGE_SET"))
        });
        match named {
            Some(whole @ ("STACK" | "CHANGE_SET")) => Target::Template(whole),
            Some(resource_type) => Target::Resource(resource_type),
            None if data.get("payload").is_some() => Target::Template("stack or change set"),
            None => Target::Unknown,
        }
    }
}

/// Decides what the request alone settles.
pub fn decide(request: &Value) -> Decision {
    let data = &request["requestData"];
    let action = request.get("actionInvocationPoint").and_then(Value::as_str);
    let resource_type = match Target::of(data) {
        Target::Template(what) => {
            return Decision::Answer(Answer::internal_failure(format!(
                "A {what} request: this hook reads resource requests only (TargetOperations RESOURCE) and does not fetch the template, so isolation cannot be read here."
            )));
        }
        _ if action == Some("DELETE_PRE_PROVISION") => {
            return Decision::Answer(Answer::success("Deletion is not judged."));
        }
        Target::Unknown => {
            return Decision::Answer(Answer::internal_failure(
                "The request names no resource type (requestData.targetName), so whether it is a monitoring schedule cannot be read.".into(),
            ));
        }
        Target::Resource(resource_type) => resource_type,
    };
    // `None`: a monitoring schedule.
    let job_definition = match ResourceKind::of(resource_type) {
        ResourceKind::Other => {
            return Decision::Answer(Answer::success(format!(
                "{resource_type} is not a SageMaker monitoring schedule or job definition: not judged."
            )));
        }
        ResourceKind::Schedule => None,
        ResourceKind::JobDefinition(kind) => Some(kind),
    };
    if !matches!(
        action,
        Some("CREATE_PRE_PROVISION" | "UPDATE_PRE_PROVISION")
    ) {
        return Decision::Answer(Answer::internal_failure(format!(
            "actionInvocationPoint {} is not one this hook knows (CREATE_PRE_PROVISION, UPDATE_PRE_PROVISION, DELETE_PRE_PROVISION), so the request cannot be read.",
            action.map_or("(none)".to_owned(), |a| format!("'{a}'"))
        )));
    }
    let properties = match data.pointer("/targetModel/resourceProperties") {
        Some(properties @ Value::Object(_)) => booleans_from_strings(properties.clone()),
        _ => {
            return Decision::Answer(Answer::internal_failure(format!(
                "The {resource_type} request has no targetModel.resourceProperties object, so its properties cannot be read."
            )));
        }
    };
    match job_definition {
        None => match ScheduleView::from_configuration(&properties) {
            Err(error) => Decision::Answer(Answer::internal_failure(format!(
                "Cannot read the schedule's properties ({error}), so isolation cannot be confirmed."
            ))),
            Ok(view) => match judge(&view.job, Reading::Resolved) {
                Judgement::Final(verdict) => Decision::Answer(Answer::of(verdict)),
                Judgement::NeedsJobDefinition(reference) => Decision::Describe(reference),
            },
        },
        Some(kind) => match network_from(properties.get("NetworkConfig"), "NetworkConfig") {
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
        },
    }
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
    fn a_long_failure_is_cut_in_the_middle_and_keeps_its_request_id() {
        let failure = format!(
            "DescribeModelBiasJobDefinition: access denied (AccessDeniedException): {} (request id 7f0c2b9e-0000-4000-8000-1234567890ab)",
            "x".repeat(400)
        );
        let reference =
            JobDefinitionRef::new(crate::core::resource::MonitoringKind::ModelBias, "jd");
        let answer = Answer::described(&reference, Err(failure));
        assert_eq!(answer.failed, Some("InternalFailure"));
        assert_eq!(answer.message.chars().count(), ANNOTATION_LIMIT);
        assert!(
            answer.message.starts_with(
                "Could not describe ModelBias job definition 'jd' to judge this schedule, so the hook fails closed: DescribeModelBiasJobDefinition: access denied (AccessDeniedException): xxx"
            ),
            "{}",
            answer.message
        );
        // The last 64 characters: 14 of the message, then the request id.
        let end = format!(
            "x…{} (request id 7f0c2b9e-0000-4000-8000-1234567890ab)",
            "x".repeat(14)
        );
        assert!(answer.message.ends_with(&end), "{}", answer.message);
        // A short one is left whole.
        let short = Answer::described(&reference, Err("refused (request id 1)".into()));
        assert!(
            short
                .message
                .ends_with("fails closed: refused (request id 1)")
        );
    }

    #[test]
    fn the_response_carries_the_status_the_code_and_the_token() {
        let failed = Answer::internal_failure("cannot read".into());
        assert_eq!(
            failed.response(&json!({"clientRequesttoken": "t-1"})),
            json!({"hookStatus": "FAILED", "errorCode": "InternalFailure",
                   "message": "cannot read", "clientRequestToken": "t-1"})
        );
        assert_eq!(
            Answer::success("fine").response(&json!({})),
            json!({"hookStatus": "SUCCESS", "message": "fine", "clientRequestToken": ""})
        );
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

    const SCHEDULE: &str = "AWS::SageMaker::MonitoringSchedule";

    fn open_schedule() -> Value {
        json!({"MonitoringScheduleConfig": {"MonitoringJobDefinition": {"NetworkConfig": {"EnableNetworkIsolation": false}}}})
    }

    /// The answer `decide` gives at once (none of these needs a describe).
    fn answered(request: &Value) -> Answer {
        match decide(request) {
            Decision::Answer(answer) => answer,
            Decision::Describe(reference) => panic!("describes {reference:?}"),
        }
    }

    #[test]
    fn a_request_that_names_no_resource_type_fails_closed() {
        let mut request = request("CREATE_PRE_PROVISION", SCHEDULE, open_schedule());
        let data = request["requestData"].as_object_mut().unwrap();
        data.remove("targetName");
        data.remove("targetType");
        let answer = answered(&request);
        assert_eq!(answer.failed, Some("InternalFailure"), "{}", answer.message);
        assert!(
            answer.message.contains("names no resource type"),
            "{}",
            answer.message
        );
        // Cloud Control's targetType (RESOURCE) says no more.
        request["requestData"]["targetType"] = json!("RESOURCE");
        assert_eq!(answered(&request).failed, Some("InternalFailure"));
        // The type in targetType alone is enough.
        request["requestData"]["targetType"] = json!(SCHEDULE);
        assert_eq!(answered(&request).failed, Some("NonCompliant"));
    }

    #[test]
    fn a_schedule_or_job_definition_without_properties_to_read_fails_closed() {
        for target in [SCHEDULE, "AWS::SageMaker::ModelBiasJobDefinition"] {
            let mut request = request("UPDATE_PRE_PROVISION", target, json!({}));
            for model in [
                None,
                Some(json!({})),
                Some(json!({"resourceProperties": null})),
                Some(json!({"resourceProperties": "x"})),
            ] {
                match &model {
                    None => {
                        request["requestData"]
                            .as_object_mut()
                            .unwrap()
                            .remove("targetModel");
                    }
                    Some(model) => request["requestData"]["targetModel"] = model.clone(),
                }
                let answer = answered(&request);
                assert_eq!(
                    answer.failed,
                    Some("InternalFailure"),
                    "{target} {model:?}: {}",
                    answer.message
                );
                assert!(
                    answer.message.contains("cannot be read"),
                    "{}",
                    answer.message
                );
            }
        }
        // Another type needs nothing read.
        let mut other = request("CREATE_PRE_PROVISION", "AWS::S3::Bucket", json!({}));
        other["requestData"]
            .as_object_mut()
            .unwrap()
            .remove("targetModel");
        assert_eq!(answered(&other).failed, None);
    }

    #[test]
    fn an_unknown_invocation_point_is_not_passed() {
        for action in ["DELETE_PRE_PROVISION_X", "IMPORT_PRE_PROVISION", ""] {
            let answer = answered(&request(action, SCHEDULE, open_schedule()));
            assert_eq!(
                answer.failed,
                Some("InternalFailure"),
                "{action}: {}",
                answer.message
            );
            assert!(
                answer.message.contains("actionInvocationPoint"),
                "{}",
                answer.message
            );
        }
        let mut missing = request("CREATE_PRE_PROVISION", SCHEDULE, open_schedule());
        missing
            .as_object_mut()
            .unwrap()
            .remove("actionInvocationPoint");
        assert_eq!(answered(&missing).failed, Some("InternalFailure"));
        // A deletion, or a type this hook does not judge, passes whatever the point.
        assert_eq!(
            answered(&request("DELETE_PRE_PROVISION", SCHEDULE, json!(null))).failed,
            None
        );
        assert_eq!(
            answered(&request(
                "IMPORT_PRE_PROVISION",
                "AWS::S3::Bucket",
                json!({})
            ))
            .failed,
            None
        );
    }

    #[test]
    fn stack_and_change_set_requests_are_not_read_so_they_fail_closed() {
        for target in ["STACK", "CHANGE_SET"] {
            let request = json!({
                "clientRequestToken": "t", "hookTypeName": "Private::SageMaker::MonitoringIsolation",
                "actionInvocationPoint": "CREATE_PRE_PROVISION",
                "requestData": {"targetName": target, "targetType": target,
                                "targetLogicalId": "stack", "payload": "https://s3.example/template"}
            });
            let answer = answered(&request);
            assert_eq!(answer.failed, Some("InternalFailure"), "{target}");
            assert!(
                answer.message.contains("cannot be read"),
                "{}",
                answer.message
            );
        }
        // Only a payload URL: the same.
        let request = json!({"actionInvocationPoint": "UPDATE_PRE_PROVISION",
                             "requestData": {"payload": "https://s3.example/template"}});
        assert_eq!(answered(&request).failed, Some("InternalFailure"));
    }

    #[test]
    fn a_cloud_control_request_is_judged_like_any_other() {
        let mut request = request("CREATE_PRE_PROVISION", SCHEDULE, open_schedule());
        request["requestData"]["targetType"] = json!("RESOURCE");
        request["stackId"] = json!("");
        assert_eq!(answered(&request).failed, Some("NonCompliant"));
    }
}
