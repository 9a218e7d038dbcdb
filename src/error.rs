//! Errors the operator sees, each with enough context to act on.
//!
//! Two kinds, because they meet different people. [`ApiFailure`] (with its [`FailureKind`]) is
//! one AWS call that gave no usable answer, classified so the rule can decide whether to retry
//! it and name it in a report; it travels inside reports, one per resource. [`Error`] is why a
//! whole invocation did not finish its job: it decides the command line's exit code and the
//! Lambda error type in one place, and holds the two causes found before any work starts,
//! [`SetupError`] (no clients can be made) and [`AccountError`] (the event's account cannot be
//! entered). Enums (not boxed errors) so each door can match on the cause.

use crate::core::event::EventError;
use aws_runtime::retries::classifiers::THROTTLING_ERRORS;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use std::fmt;

/// Why an AWS call did not give an answer, reduced to what decides retry and reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    AccessDenied,
    Throttled,
    Server,
    Timeout,
    Transport,
    /// The credentials lapsed before the call reached AWS; renewed ones can succeed.
    Expired,
    /// The service answered in a way that cannot be used (a token it gave before, pages that
    /// never end).
    Unusable,
    /// The service refused the request as written (validation, bad token, unknown rule).
    Refused,
}

impl FailureKind {
    /// Whether trying the same request again later can succeed.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            FailureKind::Throttled
                | FailureKind::Server
                | FailureKind::Timeout
                | FailureKind::Transport
                | FailureKind::Expired
        )
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::AccessDenied => "access denied",
            FailureKind::Throttled => "throttled",
            FailureKind::Server => "server error",
            FailureKind::Timeout => "timed out",
            FailureKind::Transport => "connection failed",
            FailureKind::Expired => "credentials expired",
            FailureKind::Unusable => "unusable answer",
            FailureKind::Refused => "refused",
        })
    }
}

/// A failed AWS call, after the SDK's own retries. Every AWS error a person sees (in the command
/// line's output, in logs, in an invocation's error) is one of these, shown by its `Display`:
/// the operation, what kind of failure, AWS's error code and message, and the request id to
/// quote to AWS Support or look up in CloudTrail. Never the SDK's `Debug`, which is the whole
/// HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub operation: &'static str,
    pub kind: FailureKind,
    pub code: Option<String>,
    pub message: String,
    /// `x-amzn-RequestId` of AWS's answer; `None` when no answer came.
    pub request_id: Option<String>,
}

/// `DescribeMonitoringSchedule: access denied (AccessDeniedException): User ... is not
/// authorized ... (request id 7f0c...)`.
impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.kind)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " (request id {request_id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiFailure {}

impl ApiFailure {
    /// The service refused the request as written, or its answer says the request cannot be
    /// carried out (a resource that is not there to fix).
    pub fn refused(operation: &'static str, message: impl Into<String>) -> Self {
        ApiFailure {
            operation,
            kind: FailureKind::Refused,
            code: None,
            message: message.into(),
            request_id: None,
        }
    }

    /// The service answered, but not in a way that can be used.
    pub fn unusable(operation: &'static str, message: impl Into<String>) -> Self {
        ApiFailure {
            operation,
            kind: FailureKind::Unusable,
            code: None,
            message: message.into(),
            request_id: None,
        }
    }

    /// Still waiting for the answer when the Lambda deadline came, so given up.
    pub fn abandoned(operation: &'static str) -> Self {
        ApiFailure {
            operation,
            kind: FailureKind::Timeout,
            code: None,
            message: "no answer before the Lambda deadline".into(),
            request_id: None,
        }
    }

    /// What an SDK call's error says, without the response it came in.
    pub fn from_sdk<E>(operation: &'static str, error: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let request_id = error.request_id().map(str::to_owned);
        let (kind, code, message) = match error {
            SdkError::ServiceError(context) => {
                let service = context.err();
                let code = service.code().map(str::to_owned);
                let message = match service.message() {
                    Some(message) => message.to_owned(),
                    // An answer with no error code or message (a proxy's or load balancer's
                    // page): its status is all there is to say.
                    None if code.is_none() => format!("HTTP {}", context.raw().status()),
                    None => String::new(),
                };
                (classify(code.as_deref()), code, message)
            }
            SdkError::TimeoutError(_) => (
                FailureKind::Timeout,
                None,
                "no response within the configured timeout".into(),
            ),
            SdkError::DispatchFailure(failure) => (
                if failure.is_timeout() {
                    FailureKind::Timeout
                } else {
                    FailureKind::Transport
                },
                None,
                source_chain(error),
            ),
            SdkError::ResponseError(_) => (
                FailureKind::Server,
                None,
                format!("unreadable response: {}", source_chain(error)),
            ),
            _ => (FailureKind::Refused, None, source_chain(error)),
        };
        ApiFailure {
            operation,
            kind,
            code,
            message,
            request_id,
        }
    }
}

fn classify(code: Option<&str>) -> FailureKind {
    match code {
        Some(code) if code.contains("AccessDenied") || code == "UnauthorizedOperation" => {
            FailureKind::AccessDenied
        }
        Some(code) if is_throttle(code) => FailureKind::Throttled,
        Some(code) if is_expired_credentials(code) => FailureKind::Expired,
        Some(code)
            if code.contains("InternalFailure")
                || code.contains("InternalError")
                || code.contains("ServiceUnavailable")
                || code.contains("InternalServerError") =>
        {
            FailureKind::Server
        }
        _ => FailureKind::Refused,
    }
}

/// Whether an error code is throttling: the AWS SDK's own list, which its retries and this
/// rule's pacing (`aws/pacing.rs`) both go by.
pub fn is_throttle(code: &str) -> bool {
    THROTTLING_ERRORS.contains(&code)
}

/// STS answers `ExpiredToken`, the JSON services `ExpiredTokenException`, S3-style APIs
/// `RequestExpired`.
pub fn is_expired_credentials(code: &str) -> bool {
    code.starts_with("ExpiredToken") || code == "RequestExpired"
}

/// Every message in an error's chain of causes, joined by `: ` (what `DisplayErrorContext`
/// writes, without the `Debug` dump it appends).
pub fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The environment cannot make AWS clients.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("no AWS region is configured: set AWS_REGION (or a region in your AWS profile)")]
    NoRegion,
    #[error("{name} is not valid: '{value}' ({expected})")]
    BadSetting {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "accounts other than the caller's ({accounts}) can only be read through a role: give --role NAME, a role in each account that these credentials may assume"
    )]
    NeedsRole { accounts: String },
}

/// Why an invocation cannot act in the event's account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error(
        "cannot assume {role} in account {account}: {failure}.{}",
        permission_hint(failure, role)
    )]
    AssumeRole {
        account: String,
        role: String,
        failure: Box<ApiFailure>,
    },
    #[error(
        "the event is for account {event_account}, but the function runs in {own_account} and no role to assume is configured: set the ExecutionRoleName rule parameter (or AssumeExecutionRole=true)"
    )]
    NoRole {
        event_account: String,
        own_account: String,
    },
    #[error("AssumeExecutionRole is true but the event has no executionRoleArn")]
    NoExecutionRoleArn,
    #[error(
        "a role to assume is configured but the event has no accountId: the function acts only in the event's own account, so it assumes nothing"
    )]
    NoAccountId,
    #[error(
        "the event for account {event_account} names executionRoleArn {role} in account {role_account}: an event can only make the function act in its own account"
    )]
    ForeignRole {
        event_account: String,
        role: String,
        role_account: String,
    },
    #[error("cannot tell which partition this runs in: {0}")]
    Partition(ApiFailure),
    #[error("cannot tell whose credentials these are: {0}")]
    Caller(ApiFailure),
    #[error(
        "cannot list the organization's accounts: {0}. --organization needs organizations:ListAccounts, from the management account or a delegated administrator"
    )]
    Organization(ApiFailure),
}

/// What to check when STS refused a role; nothing when it did not answer in time.
fn permission_hint(failure: &ApiFailure, role: &str) -> String {
    match failure.kind {
        FailureKind::AccessDenied | FailureKind::Refused => format!(
            " The caller (the function's role; on the command line, your credentials) needs sts:AssumeRole on {role}, and that role must trust it."
        ),
        _ => String::new(),
    }
}

/// Why an invocation did not finish its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The event itself is unusable: nothing was judged.
    #[error("bad input: {0}")]
    BadInput(#[from] EventError),
    /// The environment cannot make AWS clients (no region, a bad setting).
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The input file or stream could not be read.
    #[error("cannot read {what}: {message}")]
    Read { what: String, message: String },
    /// Config does not know the resource type in this region: nothing can be recorded.
    #[error(
        "AWS Config refused ComplianceResourceType {resource_type} in this region ({message}); no evaluation was recorded. This rule will not report schedules under AWS::::Account instead: enable recording of {resource_type} or deploy in a region that supports it."
    )]
    TypeRefused {
        resource_type: String,
        message: String,
    },
    /// The invocation could not act in the event's account.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// Some resources were not judged or not delivered; everything else was.
    #[error("{0}")]
    Incomplete(String),
}

impl Error {
    /// The command line's exit code: 2 for input or settings it cannot use, 1 for work left
    /// undone.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadInput(_) | Error::Setup(_) | Error::Read { .. } => 2,
            Error::TypeRefused { .. } | Error::Account(_) | Error::Incomplete(_) => 1,
        }
    }

    /// The Lambda error type, what a dashboard groups failed invocations by.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::BadInput(_) | Error::Read { .. } => "BadInput",
            Error::Setup(_) => "Setup",
            Error::TypeRefused { .. } => "ResourceTypeRefused",
            Error::Incomplete(_) => "Incomplete",
            Error::Account(_) => "AccountAccess",
        }
    }
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(error: Error) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.kind().to_owned(),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            classify(Some("AccessDeniedException")),
            FailureKind::AccessDenied
        );
        assert_eq!(
            classify(Some("ThrottlingException")),
            FailureKind::Throttled
        );
        // The SDK's own list: these two were missing from one local list or the other.
        for code in ["LimitExceededException", "SlowDown", "RequestLimitExceeded"] {
            assert_eq!(classify(Some(code)), FailureKind::Throttled, "{code}");
        }
        assert_eq!(classify(Some("InternalFailure")), FailureKind::Server);
        assert_eq!(classify(Some("ValidationException")), FailureKind::Refused);
        assert_eq!(classify(None), FailureKind::Refused);
        assert_eq!(
            classify(Some("ExpiredTokenException")),
            FailureKind::Expired
        );
        assert!(FailureKind::Expired.is_transient());
        assert!(FailureKind::Throttled.is_transient());
        assert!(!FailureKind::AccessDenied.is_transient());
    }

    #[test]
    fn failures_read_as_one_line() {
        let failure = ApiFailure {
            operation: "DescribeMonitoringSchedule",
            kind: FailureKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "not authorized".into(),
            request_id: Some("4b2f".into()),
        };
        assert_eq!(
            failure.to_string(),
            "DescribeMonitoringSchedule: access denied (AccessDeniedException): not authorized (request id 4b2f)"
        );
    }
}
