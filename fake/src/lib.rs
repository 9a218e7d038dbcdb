//! A small local fake of the SageMaker, AWS Config, Security Hub and STS APIs, speaking their
//! wire protocols (awsJson1.1 routed by `X-Amz-Target`, restJson1 routed by method and path for
//! Security Hub, awsQuery XML for STS) on 127.0.0.1, plus a Lambda Runtime API so the rule's
//! Lambda front door can be driven the way Lambda drives it.
//!
//! No emulator covers monitoring schedules, so the project keeps this one. It checks SigV4
//! signatures, enforces the API limits the rule must respect (page sizes, batch sizes,
//! annotation length), records what it was asked, and injects faults on request.

pub mod drive;
pub mod faults;
pub mod runtime;
pub mod seed;
pub mod services;
pub mod sigv4;

mod admin;
mod protocol;
mod state;

pub use state::{Account, CallRecord, Credential, PutRecord, RecordedEvaluation, State};

pub use drive::cargo_lambda;
pub use services::{
    Reply, aggregator, config, organizations, paginate, sagemaker, securityhub, sts,
};

use bytes::Bytes;
use faults::{Dice, Faults, Injected};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use protocol::{HttpResponse, Protocol, json_error, raw, route};
use seed::{DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, Seed};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub runtime: runtime::Runtime,
    requests: AtomicU64,
    /// `FakeAws::on_call` actions: operation, the serving that fires it, the action.
    hooks: Mutex<Vec<(String, usize, Option<Hook>)>>,
}

type Hook = Box<dyn FnOnce(&mut State) + Send>;

/// A running fake on its own thread and runtime, so that synchronous tests, benchmarks and the
/// demo can use it alike. Dropping it stops the server.
pub struct FakeAws {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeAws {
    pub fn start(seed: Seed) -> Result<FakeAws, String> {
        Self::start_on(seed, 0)
    }

    pub fn start_on(seed: Seed, port: u16) -> Result<FakeAws, String> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(seed)?),
            runtime: runtime::Runtime::default(),
            requests: AtomicU64::new(0),
            hooks: Mutex::new(Vec::new()),
        });
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .map_err(|error| format!("cannot listen on 127.0.0.1:{port}: {error}"))?;
        std_listener
            .set_nonblocking(true)
            .map_err(|error| error.to_string())?;
        let addr = std_listener
            .local_addr()
            .map_err(|error| error.to_string())?;
        let (shutdown, stopped) = oneshot::channel();
        let server_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("fake-aws".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a tokio runtime for the fake");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("listener");
                    tokio::select! {
                        _ = serve(listener, server_shared) => {}
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_timeout(Duration::from_millis(100));
            })
            .map_err(|error| error.to_string())?;
        Ok(FakeAws {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The environment a client needs to reach the fake as the default account.
    pub fn client_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.url()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY.to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }

    /// The environment Lambda gives a function, its Runtime API being this fake's; with
    /// [`FakeAws::client_env`], all a binary needs to run as `function` here.
    pub fn lambda_env(&self, function: &str) -> Vec<(String, String)> {
        let mut env = self.client_env();
        env.extend(
            [
                ("AWS_LAMBDA_RUNTIME_API", self.runtime_api()),
                ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
                ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
                (
                    "AWS_LAMBDA_LOG_GROUP_NAME",
                    format!("/aws/lambda/{function}"),
                ),
                (
                    "AWS_LAMBDA_LOG_STREAM_NAME",
                    "2026/11/28/[$LATEST]0123456789abcdef".to_owned(),
                ),
                ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
            ]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value)),
        );
        env
    }

    /// `127.0.0.1:PORT`, for `AWS_LAMBDA_RUNTIME_API`.
    pub fn runtime_api(&self) -> String {
        self.addr.to_string()
    }

    /// Runs `f` with the fake's state locked: to seed more, change faults, or read records.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.shared.state.lock().expect("fake state lock"))
    }

    pub fn set_faults(&self, faults: Faults) {
        self.with_state(|state| {
            state.dice = Dice::new(faults.seed.max(1));
            state.faults = faults;
        });
    }

    pub fn evaluations(&self) -> Vec<RecordedEvaluation> {
        self.with_state(|state| state.evaluations.clone())
    }

    pub fn puts(&self) -> Vec<PutRecord> {
        self.with_state(|state| state.puts.clone())
    }

    pub fn calls(&self) -> Vec<CallRecord> {
        self.with_state(|state| state.calls.clone())
    }

    /// Runs `action` on the state when `operation` is served the `nth` time (from 1), before
    /// it is answered: a deterministic point in the middle of a run.
    pub fn on_call(
        &self,
        operation: &str,
        nth: usize,
        action: impl FnOnce(&mut State) + Send + 'static,
    ) {
        let mut hooks = self.shared.hooks.lock().expect("fake hooks lock");
        hooks.push((operation.to_owned(), nth, Some(Box::new(action))));
    }

    /// Calls of `operation` whose client gave up (closed the connection) before the answer.
    pub fn abandoned(&self, operation: &str) -> usize {
        self.with_state(|state| state.abandoned.get(operation).copied().unwrap_or(0))
    }

    /// The most calls of `operation` the fake was answering at once.
    pub fn most_in_flight(&self, operation: &str) -> usize {
        self.with_state(|state| state.in_flight.get(operation).map_or(0, |(_, most)| *most))
    }

    /// The most calls of `operation` that arrived within any one second.
    pub fn most_per_second(&self, operation: &str) -> usize {
        let arrivals =
            self.with_state(|state| state.arrivals.get(operation).cloned().unwrap_or_default());
        let mut most = 0;
        let mut first = 0;
        for (last, at) in arrivals.iter().enumerate() {
            while at.duration_since(arrivals[first]) >= Duration::from_secs(1) {
                first += 1;
            }
            most = most.max(last - first + 1);
        }
        most
    }

    /// Calls per operation, faulted ones included.
    pub fn call_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for call in self.calls() {
            *counts.entry(call.operation).or_default() += 1;
        }
        counts
    }

    /// Invokes the function attached to the Lambda Runtime API and waits for its answer:
    /// `Ok(response)` or `Err(error body)`.
    /// The ARN the Runtime API gives the function (`Lambda-Runtime-Invoked-Function-Arn`).
    pub fn set_function_arn(&self, arn: &str) {
        self.shared.runtime.set_function_arn(arn);
    }

    pub fn invoke(
        &self,
        event: &Value,
        deadline_in: Duration,
        wait: Duration,
    ) -> Result<Value, Value> {
        self.shared.runtime.invoke(event, deadline_in, wait)
    }
}

impl Drop for FakeAws {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { handle(shared, request).await }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Returned to hyper to drop the connection without an answer.
#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault injection")
    }
}

impl std::error::Error for Reset {}

/// One request: the Lambda Runtime API, the fake's own controls, or an AWS call, which is
/// routed, authenticated, perhaps answered with an injected fault, and dispatched.
async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<HttpResponse, Reset> {
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
