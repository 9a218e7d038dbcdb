//! `/_fake/...`: the fake's own controls over HTTP, for a fake running in another process (the
//! standalone `fake-aws` server): health, what it recorded, and the faults to inject.

use crate::State;
use crate::faults::{Dice, Faults};
use crate::protocol::{HttpResponse, raw};
use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{Value, json};

/// Answers one control, `path` being its `/_fake/...` path.
pub(crate) fn handle(state: &mut State, path: &str, body: &[u8]) -> HttpResponse {
    let value = match path {
        "/_fake/health" => json!({"ok": true}),
        "/_fake/evaluations" => serde_json::to_value(&state.evaluations).unwrap_or_default(),
        "/_fake/calls" => serde_json::to_value(&state.calls).unwrap_or_default(),
        "/_fake/findings" => Value::from(state.findings()),
        "/_fake/results" => {
            let results: Vec<Value> = state
                .accounts
                .iter()
                .flat_map(|(account, data)| {
                    data.results.values().map(move |result| {
                        let mut result = result.clone();
                        result["AccountId"] = Value::from(account.as_str());
                        result
                    })
                })
                .collect();
            Value::from(results)
        }
        "/_fake/faults" => match serde_json::from_slice::<Faults>(body) {
            Ok(faults) => {
                state.dice = Dice::new(faults.seed.max(1));
                state.faults = faults;
                json!({"ok": true})
            }
            Err(error) => json!({"error": error.to_string()}),
        },
        _ => json!({"error": "unknown control"}),
    };
    raw(
        StatusCode::OK,
        "application/json",
        Bytes::from(value.to_string()),
        "admin",
    )
}
