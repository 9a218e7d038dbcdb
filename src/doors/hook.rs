//! The door for CloudFormation Lambda hook requests, which reach the Lambda door: it describes
//! the job definition a schedule names, in the function's own account (a hook runs in the
//! account of the stack it guards), within the invocation's deadline, and answers. What the
//! answer is, is decided in `check/hook.rs`.

use crate::aws::accounts::Accounts;
use crate::aws::sagemaker::AwsSageMaker;
use crate::check::hook::{Answer, Decision, decide};
use crate::rule::deadline::{Deadline, within};
use crate::rule::ports::SageMakerReads;
use serde_json::Value;

pub use crate::check::hook::is_hook;

/// Answers one hook request, describing a named job definition through `reads` if needed. A
/// describe still running at the deadline's `abandon` is given up, and the hook fails closed
/// while it can still answer.
async fn answer<S: SageMakerReads>(
    reads: &S,
    request: &Value,
    deadline: Option<Deadline>,
) -> Value {
    let answer = match decide(request) {
        Decision::Answer(answer) => answer,
        Decision::Describe(reference) => {
            let described = match within(deadline, reads.describe_job_definition(&reference)).await
            {
                Ok(described) => described.map_err(|failure| failure.to_string()),
                Err(_) => Err("no answer before the Lambda deadline.".to_owned()),
            };
            Answer::described(&reference, described)
        }
    };
    answer.response(request)
}

/// Serves one hook request with the function's own clients, and logs the answer without the
/// resource's properties.
pub async fn serve(
    accounts: &Accounts,
    request: &Value,
    request_id: &str,
    deadline: Option<Deadline>,
) -> Value {
    let reads = AwsSageMaker::of(accounts.own_clients());
    let response = answer(&reads, request, deadline).await;
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
    use crate::core::resource::{JobDefinitionRef, MonitoringKind};
    use crate::core::schedule::ScheduleView;
    use crate::core::verdict::JobDefinitionState;
    use crate::error::ApiFailure;
    use crate::rule::ports::Page;
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::time::Duration;

    /// SageMaker whose job-definition describes answer after an hour; the hook calls nothing
    /// else.
    struct Hanging;

    impl SageMakerReads for Hanging {
        async fn list_page(
            &self,
            _: Option<String>,
            _: Option<&JobDefinitionRef>,
        ) -> Result<Page, ApiFailure> {
            unreachable!("the hook lists nothing")
        }
        async fn describe(&self, _: &str) -> Result<Option<ScheduleView>, ApiFailure> {
            unreachable!("the hook describes no schedule")
        }
        async fn describe_job_definition(
            &self,
            _: &JobDefinitionRef,
        ) -> Result<JobDefinitionState, ApiFailure> {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            Ok(JobDefinitionState::Missing)
        }
        async fn list_job_definitions(
            &self,
            _: MonitoringKind,
            _: Option<String>,
        ) -> Result<Page, ApiFailure> {
            unreachable!("the hook lists nothing")
        }
        async fn tags(&self, _: &str) -> Result<BTreeMap<String, String>, ApiFailure> {
            unreachable!("the hook reads no tags")
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_describe_that_hangs_is_given_up_at_the_deadline_and_fails_closed() {
        let request = json!({
            "clientRequestToken": "t",
            "actionInvocationPoint": "CREATE_PRE_PROVISION",
            "requestData": {"targetName": "AWS::SageMaker::MonitoringSchedule",
                "targetModel": {"resourceProperties": {"MonitoringScheduleConfig":
                    {"MonitoringJobDefinitionName": "jd", "MonitoringType": "ModelBias"}}}}
        });
        // The hook's 25 s timeout, with the reserve the Lambda door keeps (2.5 s): reads are
        // given up halfway through it.
        let deadline = Deadline::within(Duration::from_secs(25), Duration::from_millis(2_500));
        let start = tokio::time::Instant::now();
        let response = answer(&Hanging, &request, Some(deadline)).await;
        assert_eq!(
            tokio::time::Instant::now() - start,
            Duration::from_millis(23_750)
        );
        assert_eq!(
            response,
            json!({"hookStatus": "FAILED", "errorCode": "InternalFailure",
                   "message": "Could not describe ModelBias job definition 'jd' to judge this schedule, so the hook fails closed: no answer before the Lambda deadline.",
                   "clientRequestToken": "t"})
        );
    }
}
