//! The Lambda Runtime API (`/2018-06-01/runtime/...`), so the real binary can run under
//! `AWS_LAMBDA_RUNTIME_API` exactly as Lambda runs it, with a deadline the test chooses.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex as AsyncMutex, mpsc};

struct Pending {
    request_id: String,
    deadline_ms: u64,
    event: Value,
}

pub struct Runtime {
    sender: mpsc::UnboundedSender<Pending>,
    receiver: AsyncMutex<mpsc::UnboundedReceiver<Pending>>,
    answers: Mutex<HashMap<String, std::sync::mpsc::Sender<Result<Value, Value>>>>,
    serial: AtomicU64,
    /// `Lambda-Runtime-Invoked-Function-Arn`: tests change it to put the function in another
    /// partition or account.
    function_arn: Mutex<String>,
}

/// The function ARN the Runtime API hands out unless a test sets another.
pub const DEFAULT_FUNCTION_ARN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:monitoring-schedule-isolation";

impl Default for Runtime {
    fn default() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        Runtime {
            sender,
            receiver: AsyncMutex::new(receiver),
            answers: Mutex::new(HashMap::new()),
            serial: AtomicU64::new(0),
            function_arn: Mutex::new(DEFAULT_FUNCTION_ARN.to_owned()),
        }
    }
}

impl Runtime {
    pub fn set_function_arn(&self, arn: &str) {
        *self.function_arn.lock().expect("function ARN lock") = arn.to_owned();
    }

    pub fn invoke(
        &self,
        event: &Value,
        deadline_in: Duration,
        wait: Duration,
    ) -> Result<Value, Value> {
        let request_id = format!(
            "00000000-0000-4000-8000-{:012}",
            self.serial.fetch_add(1, Ordering::Relaxed)
        );
        let deadline_ms = (SystemTime::now() + deadline_in)
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let (answer, answered) = std::sync::mpsc::channel();
        self.answers
            .lock()
            .expect("answers lock")
            .insert(request_id.clone(), answer);
        self.sender
            .send(Pending {
                request_id,
                deadline_ms,
                event: event.clone(),
            })
            .map_err(|_| Value::from("the runtime API is closed"))?;
        answered
            .recv_timeout(wait)
            .unwrap_or_else(|_| Err(Value::from("no answer from the function in time")))
    }
}

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("a valid response")
}

pub async fn handle(runtime: &Runtime, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    if path == "/2018-06-01/runtime/invocation/next" {
        let next = runtime.receiver.lock().await.recv().await;
        let function_arn = runtime
            .function_arn
            .lock()
            .expect("function ARN lock")
            .clone();
        return match next {
            Some(pending) => Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("lambda-runtime-aws-request-id", &pending.request_id)
                .header(
                    "lambda-runtime-deadline-ms",
                    pending.deadline_ms.to_string(),
                )
                .header("lambda-runtime-invoked-function-arn", function_arn)
                .header(
                    "lambda-runtime-trace-id",
                    "Root=1-00000000-000000000000000000000000",
                )
                .body(Full::new(Bytes::from(pending.event.to_string())))
                .expect("a valid response"),
            None => reply(StatusCode::INTERNAL_SERVER_ERROR, Bytes::new()),
        };
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let parsed: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::from(String::from_utf8_lossy(&body).into_owned()));
    let mut segments = path.trim_start_matches("/2018-06-01/runtime/").split('/');
    match (segments.next(), segments.next(), segments.next()) {
        (Some("invocation"), Some(request_id), Some(kind @ ("response" | "error"))) => {
            if let Some(answer) = runtime
                .answers
                .lock()
                .expect("answers lock")
                .remove(request_id)
            {
                let _ = answer.send(if kind == "response" {
                    Ok(parsed)
                } else {
                    Err(parsed)
                });
            }
            reply(
                StatusCode::ACCEPTED,
                Bytes::from_static(b"{\"status\":\"OK\"}"),
            )
        }
        (Some("init"), Some("error"), _) => {
            let mut answers = runtime.answers.lock().expect("answers lock");
            for (_, answer) in answers.drain() {
                let _ = answer.send(Err(parsed.clone()));
            }
            reply(
                StatusCode::ACCEPTED,
                Bytes::from_static(b"{\"status\":\"OK\"}"),
            )
        }
        _ => reply(StatusCode::NOT_FOUND, Bytes::new()),
    }
}
