//! The running fake: [`FakeAws`] starts the server on its own thread and runtime, hands every
//! connection to the request pipeline, and gives tests the state to seed and read, the
//! environment a client or a Lambda function needs, and the records it kept.

use crate::faults::{Dice, Faults};
use crate::seed::{DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, Seed};
use crate::{CallRecord, PutRecord, RecordedEvaluation, State, pipeline, runtime};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// What the server's tasks and the [`FakeAws`] handle share.
pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub runtime: runtime::Runtime,
    /// Numbers each AWS call's request id.
    pub requests: AtomicU64,
    /// `FakeAws::on_call` actions: operation, the serving that fires it, the action.
    pub hooks: Mutex<Vec<(String, usize, Option<Hook>)>>,
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

    /// The ARN the Runtime API gives the function (`Lambda-Runtime-Invoked-Function-Arn`).
    pub fn set_function_arn(&self, arn: &str) {
        self.shared.runtime.set_function_arn(arn);
    }

    /// Invokes the function attached to the Lambda Runtime API and waits for its answer:
    /// `Ok(response)` or `Err(error body)`.
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
                async move { pipeline::handle(shared, request).await }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
