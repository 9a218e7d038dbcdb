//! What became of one resource: judged (its verdict, and the resource it is for), or not, and
//! why.

use crate::error::ApiFailure;
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

/// The resource a verdict is for: its type and the id it is reported under, and its name.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'s> {
    pub resource_type: &'s str,
    pub id: &'s str,
    pub name: Option<&'s str>,
}
