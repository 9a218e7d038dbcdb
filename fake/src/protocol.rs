//! The three wire protocols the fake speaks, and how each shapes an answer: awsJson1.1
//! (routed by `X-Amz-Target`, errors as `__type` in the body), restJson1 (Security Hub, routed
//! by method and path, errors named in `x-amzn-errortype` as well as the body; the Account
//! API's `/listRegions` is routed by its path too) and awsQuery (STS, routed by the form's
//! `Action`, errors as XML).

use crate::{securityhub, sts};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::json;

pub(crate) type HttpResponse = Response<Full<Bytes>>;

/// Which protocol and operation a request is: `X-Amz-Target` for the JSON services, the method
/// and path for the REST ones, the form's `Action` for STS.
pub(crate) fn route(
    method: &str,
    path: &str,
    headers: &hyper::HeaderMap,
    body: &[u8],
) -> Result<(Protocol, String), String> {
    // The Account API is REST-JSON: its operation is the path.
    if path == "/listRegions" {
        return Ok((Protocol::Json("Account".into()), "ListRegions".into()));
    }
    if let Some(operation) = securityhub::route(method, path) {
        return Ok((
            Protocol::Json(securityhub::SERVICE.into()),
            operation.into(),
        ));
    }
    let target = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok());
    match target {
        Some(target) => match target.split_once('.') {
            Some((service, operation)) => {
                Ok((Protocol::Json(service.to_owned()), operation.to_owned()))
            }
            None => Err(target.to_owned()),
        },
        None => sts::action(body)
            .map(|action| (Protocol::Query, action))
            .ok_or_else(|| "no X-Amz-Target header and no query Action".to_owned()),
    }
}

pub(crate) enum Protocol {
    Json(String),
    Query,
}

impl Protocol {
    /// The service name a request must be signed for.
    pub(crate) fn signing_name(&self) -> &'static str {
        match self {
            Protocol::Json(service) if service == "SageMaker" => "sagemaker",
            Protocol::Json(service) if service == "StarlingDoveService" => "config",
            Protocol::Json(service) if service == "AWSOrganizationsV20161128" => "organizations",
            Protocol::Json(service) if service == "Account" => "account",
            Protocol::Json(service) if service == securityhub::SERVICE => securityhub::SIGNING_NAME,
            Protocol::Json(_) => "unknown",
            Protocol::Query => "sts",
        }
    }

    /// The error code this protocol's services give: STS (awsQuery) names some errors
    /// differently from the JSON services.
    pub(crate) fn code(&self, query: &'static str, json: &'static str) -> &'static str {
        match self {
            Protocol::Query => query,
            Protocol::Json(_) => json,
        }
    }

    /// How the service answers throttling, and its own failures.
    pub(crate) fn throttled(&self) -> (StatusCode, &'static str) {
        match self {
            Protocol::Json(service) if service == securityhub::SERVICE => securityhub::THROTTLED,
            _ => (StatusCode::BAD_REQUEST, "ThrottlingException"),
        }
    }

    pub(crate) fn internal(&self) -> (StatusCode, &'static str) {
        match self {
            Protocol::Json(service) if service == securityhub::SERVICE => securityhub::INTERNAL,
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure"),
        }
    }

    pub(crate) fn content_type(&self) -> &'static str {
        match self {
            Protocol::Json(service) if service == "Account" || service == securityhub::SERVICE => {
                "application/json"
            }
            Protocol::Json(_) => "application/x-amz-json-1.1",
            Protocol::Query => "text/xml",
        }
    }

    pub(crate) fn error(
        &self,
        status: StatusCode,
        code: &str,
        message: &str,
        request_id: &str,
    ) -> HttpResponse {
        match self {
            // restJson1 names the error in a header, and the body says it again.
            Protocol::Json(service) if service == securityhub::SERVICE => {
                let body = json!({"Code": code, "Message": message}).to_string();
                let mut response = raw(status, "application/json", Bytes::from(body), request_id);
                if let Ok(value) = hyper::header::HeaderValue::from_str(code) {
                    response.headers_mut().insert("x-amzn-errortype", value);
                }
                response
            }
            Protocol::Json(_) => json_error(status, code, message, request_id),
            Protocol::Query => raw(
                status,
                "text/xml",
                Bytes::from(sts::error_xml(code, message, request_id)),
                request_id,
            ),
        }
    }
}

pub(crate) fn json_error(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> HttpResponse {
    let body = json!({"__type": code, "message": message}).to_string();
    raw(
        status,
        "application/x-amz-json-1.1",
        Bytes::from(body),
        request_id,
    )
}

pub(crate) fn raw(
    status: StatusCode,
    content_type: &str,
    body: Bytes,
    request_id: &str,
) -> HttpResponse {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amzn-requestid", request_id)
        .body(Full::new(body))
        .expect("a valid response")
}
