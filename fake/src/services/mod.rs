//! The AWS services the fake answers, one file each: what each operation does to the state and
//! the limits it enforces. The request pipeline hands each call to `dispatch` once it is
//! routed, authenticated and past any injected fault; here it reaches its service, and the
//! service's [`Reply`] is written in the call's protocol.

pub mod aggregator;
pub mod config;
pub mod organizations;
pub mod sagemaker;
pub mod securityhub;
pub mod sts;

use crate::protocol::{HttpResponse, Protocol, raw};
use crate::{Context, State};
use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{Value, json};

/// One page of a list answer: `size` items from `start`, under `items_member`, and the token
/// of the next page (`page-N`) under `token_member` when more remain.
pub fn paginate<T>(
    all: &[T],
    start: usize,
    size: usize,
    render: impl Fn(&T) -> Value,
    items_member: &str,
    token_member: &str,
) -> Value {
    let items: Vec<Value> = all.iter().skip(start).take(size).map(render).collect();
    let mut output = json!({ items_member: items });
    if start + size < all.len() {
        output[token_member] = Value::from(format!("page-{}", start + size));
    }
    output
}

/// What an API handler answers.
pub enum Reply {
    Json(Value),
    /// An awsJson1.1 error: HTTP status, `__type`, message.
    Error(StatusCode, &'static str, String),
    Xml(StatusCode, String),
}

impl Reply {
    pub fn client_error(code: &'static str, message: impl Into<String>) -> Reply {
        Reply::Error(StatusCode::BAD_REQUEST, code, message.into())
    }
}

/// Hands the call to its service and writes the answer.
pub(crate) fn dispatch(
    state: &mut State,
    protocol: &Protocol,
    operation: &str,
    context: &Context,
    body: &[u8],
    request_id: &str,
) -> HttpResponse {
    let reply = match protocol {
        Protocol::Query => sts::handle(state, operation, body, context, request_id),
        Protocol::Json(service) => match serde_json::from_slice::<Value>(body) {
            Err(error) => Reply::client_error("SerializationException", error.to_string()),
            Ok(mut input) => match service.as_str() {
                // A misbehaving endpoint: every page is the first one, token and all.
                _ if state.faults.repeat_tokens.iter().any(|op| op == operation) => {
                    if let Some(object) = input.as_object_mut() {
                        object.remove("NextToken");
                        object.remove("nextToken");
                    }
                    match service.as_str() {
                        "SageMaker" => sagemaker::handle(state, context, operation, &input),
                        securityhub::SERVICE => {
                            securityhub::handle(state, context, operation, &input)
                        }
                        _ if aggregator::serves(operation) => {
                            aggregator::handle(state, context, operation, &input)
                        }
                        _ => config::handle(state, context, operation, &input),
                    }
                }
                "SageMaker" => sagemaker::handle(state, context, operation, &input),
                "StarlingDoveService" if aggregator::serves(operation) => {
                    aggregator::handle(state, context, operation, &input)
                }
                "StarlingDoveService" => config::handle(state, context, operation, &input),
                "AWSOrganizationsV20161128" | "Account" => {
                    organizations::handle(state, operation, &input)
                }
                securityhub::SERVICE => securityhub::handle(state, context, operation, &input),
                _ => Reply::client_error(
                    "UnknownOperationException",
                    format!("unknown service {service}"),
                ),
            },
        },
    };
    match reply {
        Reply::Json(value) => raw(
            StatusCode::OK,
            protocol.content_type(),
            Bytes::from(value.to_string()),
            request_id,
        ),
        Reply::Error(status, code, message) => protocol.error(status, code, &message, request_id),
        Reply::Xml(status, text) => raw(status, "text/xml", Bytes::from(text), request_id),
    }
}
