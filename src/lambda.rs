//! The Lambda front door: parse, run the service, log the summary, fail loudly when work was
//! left undone so Config shows the invocation as failed.

use crate::error::Error;
use crate::evaluations::Evaluations;
use crate::event::Invocation;
use crate::rule::{RunOptions, Service};
use crate::sagemaker::Schedules;
use crate::sweep::Deadline;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::Instrument;

pub async fn run<S, E>(service: Service<S, E>) -> Result<(), lambda_runtime::Error>
where
    S: Schedules + Send + 'static,
    E: Evaluations + Send + 'static,
{
    let service = Arc::new(service);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let service = Arc::clone(&service);
        async move { handle(&service, event).await }
    }))
    .await
}

/// Handles one event. Public so tests can drive the handler the runtime would call.
pub async fn handle<S: Schedules, E: Evaluations>(
    service: &Service<S, E>,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    let invocation = Invocation::from_value(payload).map_err(|error| {
        let error = Error::from(error);
        tracing::error!(request_id = %context.request_id, %error, "rejected the event");
        diagnostic(&error)
    })?;
    let rule = invocation.rule_name.clone().unwrap_or_default();
    let span = tracing::info_span!(
        "invocation",
        request_id = %context.request_id,
        rule = %rule,
        trigger = invocation.trigger.name(),
        account = invocation.account_id.as_deref().unwrap_or(""),
    );
    async {
        let options = RunOptions {
            deadline: deadline_from(context.deadline),
            ..RunOptions::default()
        };
        let report = service
            .handle(&invocation, &options)
            .await
            .map_err(|error| diagnostic(&error))?;
        report.log(&rule);
        println!("{}", report.emf(&rule));
        if let Err(error) = report.outcome() {
            tracing::error!(%error, "invocation incomplete");
            return Err(diagnostic(&error));
        }
        let count = |c| report.counts.get(&c).copied().unwrap_or(0);
        use crate::verdict::Compliance::*;
        Ok(json!({
            "compliant": count(Compliant),
            "nonCompliant": count(NonCompliant),
            "notApplicable": count(NotApplicable),
            "delivered": report.delivered,
        }))
    }
    .instrument(span)
    .await
}

fn diagnostic(error: &Error) -> Diagnostic {
    Diagnostic {
        error_type: match error {
            Error::BadInput(_) => "BadInput",
            Error::TypeRefused { .. } => "ResourceTypeRefused",
            Error::Incomplete(_) => "Incomplete",
        }
        .to_owned(),
        error_message: error.to_string(),
    }
}

/// Stops starting work a tenth of the remaining time (2 to 30 s) before the deadline, and
/// abandons running reads halfway through that reserve, so delivery always has time left.
pub fn deadline_from(deadline_ms: u64) -> Option<Deadline> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    if deadline_ms == 0 {
        return None;
    }
    let remaining = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    let reserve = (remaining / 10).clamp(Duration::from_secs(2), Duration::from_secs(30));
    let now = tokio::time::Instant::now();
    let end = now + remaining;
    Some(Deadline {
        stop_starting: end.checked_sub(reserve).unwrap_or(now),
        abandon: end.checked_sub(reserve / 2).unwrap_or(now),
    })
}
