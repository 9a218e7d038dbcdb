//! What became of one resource, as the sweep and the change path hand it to the service to
//! record: judged (its verdict, the resource it is for, what the verdict rests on), not judged
//! and why, or gone before it could be.

use crate::core::schedule::JobSpec;
use crate::core::verdict::Verdict;
use crate::error::ApiFailure;
use aws_smithy_types::DateTime;
use std::fmt;

/// Why a resource got no evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// An AWS call failed after its retries.
    Api(ApiFailure),
    /// Still being read when the Lambda deadline came.
    Deadline,
    /// SageMaker listed it without an ARN, and Config records it under no other id.
    NoId,
    /// Config's copy of the item could not be read as a configuration.
    Unreadable(String),
    /// The oversized item names nothing to describe it by.
    Unnamed,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Api(failure) => failure.fmt(f),
            Reason::Deadline => f.write_str("still being read at the Lambda deadline"),
            Reason::NoId => f.write_str("SageMaker returned no ARN to report it under"),
            Reason::Unreadable(detail) => write!(
                f,
                "the recorded configuration item has an unexpected shape: {detail}"
            ),
            Reason::Unnamed => {
                f.write_str("the oversized item has no resourceName to describe it by")
            }
        }
    }
}

impl From<ApiFailure> for Reason {
    fn from(failure: ApiFailure) -> Self {
        Reason::Api(failure)
    }
}

/// A resource the rule could not judge, and why. It got no evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unjudged {
    pub resource: String,
    pub reason: Reason,
}

/// The resource a verdict is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub resource_type: String,
    /// What the evaluation names it by: the id Config records it under, else its ARN.
    pub id: String,
    pub name: Option<String>,
    pub arn: Option<String>,
}

/// A verdict for one resource, to be reported with `at` as its `OrderingTimestamp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub subject: Subject,
    pub verdict: Verdict,
    pub at: DateTime,
    /// The job definition a schedule's verdict rests on, as the schedule names or embeds it;
    /// `None` when no schedule was read (an exemption by name, a job definition, a stale
    /// result).
    pub rests_on: Option<JobSpec>,
}

/// What became of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Judged(Judged),
    /// It got no evaluation, and why.
    Unjudged(Unjudged),
    /// Listed, then gone before it could be described: skipped, not judged.
    Vanished,
}

impl Outcome {
    pub fn unjudged(resource: impl Into<String>, reason: impl Into<Reason>) -> Self {
        Outcome::Unjudged(Unjudged {
            resource: resource.into(),
            reason: reason.into(),
        })
    }
}
