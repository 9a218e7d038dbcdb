//! What every AWS call goes through, in order: routed to its protocol and operation, then
//! authenticated (a known access key, a valid SigV4 signature over this very request, live
//! credentials, a region the account has enabled, the right session token), counted in flight,
//! held at the `Faults::hold_until` gate, given its fault and recorded (firing any
//! `FakeAws::on_call` hook), delayed by the injected latency and perhaps answered by the fault;
//! what is left is dispatched to its service.

use crate::faults::Injected;
use crate::protocol::{HttpResponse, Protocol, json_error, raw, route};
use crate::server::Shared;
use crate::{CallRecord, admin, runtime, securityhub, seed, services, sigv4};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Returned to hyper to drop the connection without an answer.
#[derive(Debug)]
pub(crate) struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault injection")
    }
}

impl std::error::Error for Reset {}

/// One request: the Lambda Runtime API, the fake's own controls, or an AWS call, which is
/// routed, authenticated, perhaps answered with an injected fault, and dispatched.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<HttpResponse, Reset> {
    let path = request.uri().path().to_owned();
    if path.starts_with("/2018-06-01/runtime/") {
        return Ok(runtime::handle(&shared.runtime, request).await);
    }
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(Reset),
    };
    if path.starts_with("/_fake/") {
        return Ok(admin::handle(
            &mut shared.state.lock().expect("fake state lock"),
            &path,
            &body,
        ));
    }
    let request_id = format!(
        "fake-{:08}",
        shared.requests.fetch_add(1, Ordering::Relaxed)
    );
    let (protocol, operation) = match route(parts.method.as_str(), &path, &parts.headers, &body) {
        Ok(routed) => routed,
        Err(message) => {
            return Ok(json_error(
                StatusCode::BAD_REQUEST,
                "UnknownOperationException",
                &message,
                &request_id,
            ));
        }
    };
    let context = match authenticate(&shared, &parts, &path, &body, &protocol) {
        Ok(context) => context,
        Err((status, code, message)) => {
            return Ok(protocol.error(status, code, &message, &request_id));
        }
    };
    let mut flight = InFlight::start(&shared, &operation);
    hold(&shared, &operation).await;
    let answer = match inject(&shared, &protocol, &operation, &context, &request_id).await {
        Some(answer) => answer,
        None => Ok(services::dispatch(
            &mut shared.state.lock().expect("fake state lock"),
            &protocol,
            &operation,
            &context,
            &body,
            &request_id,
        )),
    };
    flight.answered = true;
    answer
}

/// The `Faults::hold_until` gate: a call waits until that many are in flight, or `hold_ms`
/// has passed; then the gate opens for good. With the gate one above the client's limit, the
/// most in flight is exactly that limit, whatever the machine's speed.
async fn hold(shared: &Shared, operation: &str) {
    let started = tokio::time::Instant::now();
    loop {
        {
            let mut state = shared.state.lock().expect("fake state lock");
            let faults = &state.faults;
            if faults.hold_until == 0 || state.gate_open || !faults.applies_to(operation) {
                return;
            }
            let now = state.in_flight.get(operation).map_or(0, |(now, _)| *now);
            if now >= faults.hold_until
                || started.elapsed().as_millis() >= u128::from(faults.hold_ms)
            {
                state.gate_open = true;
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Counts a call in flight from its arrival to its answer (or dropped connection); dropped
/// unanswered, the client gave up on it.
struct InFlight<'a> {
    shared: &'a Shared,
    operation: String,
    answered: bool,
}

impl<'a> InFlight<'a> {
    fn start(shared: &'a Shared, operation: &str) -> Self {
        let mut state = shared.state.lock().expect("fake state lock");
        let (now, most) = state.in_flight.entry(operation.to_owned()).or_default();
        *now += 1;
        *most = (*most).max(*now);
        state
            .arrivals
            .entry(operation.to_owned())
            .or_default()
            .push(std::time::Instant::now());
        InFlight {
            shared,
            operation: operation.to_owned(),
            answered: false,
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock().expect("fake state lock");
        if let Some((now, _)) = state.in_flight.get_mut(&self.operation) {
            *now -= 1;
        }
        if !self.answered {
            *state.abandoned.entry(self.operation.clone()).or_default() += 1;
        }
    }
}

type Refusal = (StatusCode, &'static str, String);

/// Who is calling: a known access key, a valid signature over this very request, live
/// credentials and the right session token.
fn authenticate(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    path: &str,
    body: &[u8],
    protocol: &Protocol,
) -> Result<Context, Refusal> {
    let forbidden =
        |code: &'static str, message: &str| (StatusCode::FORBIDDEN, code, message.to_owned());
    let auth = parts
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(sigv4::parse)
        .ok_or_else(|| {
            forbidden(
                "MissingAuthenticationTokenException",
                "request is not SigV4-signed",
            )
        })?;
    let credential = shared
        .state
        .lock()
        .expect("fake state lock")
        .credentials
        .get(&auth.access_key)
        .cloned()
        .ok_or_else(|| {
            forbidden(
                "UnrecognizedClientException",
                &format!(
                    "The security token included in the request is invalid (unknown access key {})",
                    auth.access_key
                ),
            )
        })?;
    let query = parts.uri.query().unwrap_or("");
    let (regions, disabled) = {
        let state = shared.state.lock().expect("fake state lock");
        (state.regions.clone(), state.disabled_regions.clone())
    };
    let signable: Vec<String> = regions.iter().chain(&disabled).cloned().collect();
    let scope = sigv4::Scope {
        service: protocol.signing_name(),
        regions: &signable,
    };
    if let Err(message) = sigv4::check(
        &auth,
        &scope,
        &credential.secret,
        parts.method.as_str(),
        path,
        query,
        &parts.headers,
        body,
    ) {
        return Err(forbidden("InvalidSignatureException", &message));
    }
    if credential
        .expires
        .is_some_and(|expires| expires <= std::time::SystemTime::now())
    {
        shared.state.lock().expect("fake state lock").expired_calls += 1;
        return Err(forbidden(
            protocol.code("ExpiredToken", "ExpiredTokenException"),
            "The security token included in the request is expired",
        ));
    }
    // A region the account has not enabled knows none of its credentials; the global
    // services (Organizations, Account) answer from anywhere.
    let global = matches!(protocol.signing_name(), "organizations" | "account");
    if disabled.contains(&auth.region) && !global {
        return Err(forbidden(
            protocol.code("InvalidClientTokenId", "UnrecognizedClientException"),
            "The security token included in the request is invalid.",
        ));
    }
    let token = parts
        .headers
        .get("x-amz-security-token")
        .and_then(|value| value.to_str().ok());
    if credential.session_token.as_deref() != token {
        return Err(forbidden(
            "UnrecognizedClientException",
            "The security token included in the request is invalid",
        ));
    }
    Ok(Context {
        account: credential.account,
        access_key: auth.access_key,
        region: auth.region,
    })
}

/// Records the call and decides its fault: `Some(answer)` when the fault answers it (or drops
/// the connection), `None` when the call goes on to its handler. Latency is added either way.
async fn inject(
    shared: &Shared,
    protocol: &Protocol,
    operation: &str,
    context: &Context,
    request_id: &str,
) -> Option<Result<HttpResponse, Reset>> {
    let (injected, latency, slow) = {
        let mut state = shared.state.lock().expect("fake state lock");
        let state = &mut *state;
        let injected = state.faults.decide(
            operation,
            (&context.account, &context.region),
            &mut state.dice,
            &mut state.limiter,
        );
        state.calls.push(CallRecord {
            operation: operation.to_owned(),
            access_key: context.access_key.clone(),
            account: context.account.clone(),
            region: context.region.clone(),
            injected,
            arrived: std::time::Instant::now(),
            request_id: request_id.to_owned(),
        });
        let served = state
            .calls
            .iter()
            .filter(|call| call.operation == operation)
            .count();
        let mut hooks = shared.hooks.lock().expect("fake hooks lock");
        for (_, _, action) in hooks
            .iter_mut()
            .filter(|(op, nth, _)| op == operation && *nth == served)
        {
            if let Some(action) = action.take() {
                action(state);
            }
        }
        drop(hooks);
        (
            injected,
            Duration::from_millis(state.faults.latency_ms),
            Duration::from_millis(state.faults.slow_ms),
        )
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let error =
        |status, code, message: &str| Some(Ok(protocol.error(status, code, message, request_id)));
    match injected {
        Injected::None => None,
        Injected::Throttle => {
            let (status, code) = protocol.throttled();
            error(status, code, "Rate exceeded")
        }
        Injected::ServerError => {
            let (status, code) = protocol.internal();
            error(status, code, "injected server error")
        }
        Injected::Reset => Some(Err(Reset)),
        Injected::Slow => {
            tokio::time::sleep(slow).await;
            let (status, code) = protocol.internal();
            error(status, code, "injected slow answer")
        }
        Injected::Malformed => Some(Ok(raw(
            StatusCode::OK,
            protocol.content_type(),
            Bytes::from_static(b"{\"this is\": not json"),
            request_id,
        ))),
        // STS (awsQuery) says AccessDenied, with 403; the JSON services AccessDeniedException,
        // with 400 (awsJson1.1) or 403 (Security Hub's restJson1).
        Injected::Denied => error(
            match protocol {
                Protocol::Query => StatusCode::FORBIDDEN,
                Protocol::Json(service) if service == securityhub::SERVICE => StatusCode::FORBIDDEN,
                Protocol::Json(_) => StatusCode::BAD_REQUEST,
            },
            protocol.code("AccessDenied", "AccessDeniedException"),
            &format!(
                "User: arn:aws:sts::{}:assumed-role/fake is not authorized to perform: {operation}",
                context.account
            ),
        ),
    }
}

/// Who is calling, as the signature says.
pub struct Context {
    pub account: String,
    pub access_key: String,
    /// The region the request was signed for.
    pub region: String,
}

impl Context {
    /// The account's resources in the region of the call: the default region's under the
    /// account id, another region's under `account/region`.
    pub fn key(&self) -> String {
        if self.region == seed::DEFAULT_REGION {
            self.account.clone()
        } else {
            format!("{}/{}", self.account, self.region)
        }
    }
}
