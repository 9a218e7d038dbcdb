//! The Lambda front door: parse, run the service, log the summary, fail loudly when work was
//! left undone so Config shows the invocation as failed. CloudFormation hook requests are
//! told apart by their shape first and answered by `hook`.

use crate::aws::accounts::Accounts;
use crate::aws::config::AwsConfig;
use crate::aws::remediate::Remediator;
use crate::aws::sdk;
use crate::core::event::Invocation;
use crate::core::verdict::Compliance;
use crate::error::Error;
use crate::logging;
use crate::rule::RunOptions;
use crate::rule::deadline::Deadline;
use crate::version;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::Instrument;

/// The Lambda runtime's loop, with the clients made once per process; the process's exit code
/// when the runtime itself stops.
pub async fn main() -> ExitCode {
    logging::init_lambda();
    tracing::info!(
        version = version::VERSION,
        commit = version::COMMIT,
        "starting"
    );
    let clients = match sdk::load().await {
        Ok(clients) => clients,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let accounts = Arc::new(Accounts::new(clients));
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let accounts = Arc::clone(&accounts);
        async move { handle(&accounts, event).await }
    }))
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

/// Handles one event: in the account the event names, acting as the configured role.
async fn handle(accounts: &Accounts, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    if super::hook::is_hook(&payload) {
        let deadline = deadline_from(context.deadline, SystemTime::now());
        return Ok(super::hook::serve(accounts, &payload, &context.request_id, deadline).await);
    }
    let invocation = Invocation::from_value(payload).map_err(|error| {
        let error = Error::from(error);
        tracing::error!(request_id = %context.request_id, %error, "rejected the event");
        Diagnostic::from(error)
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
            deadline: deadline_from(context.deadline, SystemTime::now()),
            ..RunOptions::default()
        };
        accounts.learn_home(&context.invoked_function_arn);
        let assumed = accounts.clients_for(&invocation, options.deadline).await;
        let (clients, role) = assumed.map_err(|error| {
            let error = Error::from(error);
            tracing::error!(%error, "cannot act in the event's account");
            Diagnostic::from(error)
        })?;
        let config = AwsConfig::of(&clients);
        let fixer = Remediator::of(&clients);
        let report = super::handle(&clients, config, fixer, &invocation, &options, role)
            .await?
            .report;
        report.log(&rule);
        let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
        if let Err(error) = writeln!(std::io::stdout(), "{}", report.emf(&rule, &function)) {
            tracing::warn!(%error, "could not write the invocation's metrics record");
        }
        if let Err(error) = report.outcome() {
            tracing::error!(%error, "invocation incomplete");
            return Err(error.into());
        }
        Ok(json!({
            "compliant": report.of(Compliance::Compliant),
            "nonCompliant": report.of(Compliance::NonCompliant),
            "notApplicable": report.of(Compliance::NotApplicable),
            "delivered": report.delivered,
        }))
    }
    .instrument(span)
    .await
}

/// Epoch milliseconds before any real Lambda deadline (September 2001). Smaller values are
/// durations: cargo-lambda's emulator sends the function timeout, not a point in time.
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

/// Stops starting work a tenth of the remaining time (2 to 30 s) before the deadline; the rest
/// is for reads still running, delivery and the report (see [`Deadline`]). `now` is the wall
/// clock the runtime's deadline is measured on.
fn deadline_from(deadline_ms: u64, now: SystemTime) -> Option<Deadline> {
    if deadline_ms == 0 {
        return None;
    }
    let remaining = if deadline_ms < EPOCH_MS_FLOOR {
        Duration::from_millis(deadline_ms)
    } else {
        let now_ms = now.duration_since(UNIX_EPOCH).ok()?.as_millis() as u64;
        Duration::from_millis(deadline_ms.saturating_sub(now_ms))
    };
    let reserve = (remaining / 10).clamp(Duration::from_secs(2), Duration::from_secs(30));
    Some(Deadline::within(remaining, reserve))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 15 January 2027, as the runtime would give it.
    const NOW_MS: u64 = 1_800_000_000_000;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(NOW_MS)
    }

    /// From now on the test's paused clock: when judging stops, reads are given up, delivery
    /// starts nothing, and no answer is waited for.
    fn moments(deadline: &Deadline) -> [Duration; 4] {
        let now = tokio::time::Instant::now();
        [
            deadline.stop_starting - now,
            deadline.abandon - now,
            deadline.last_delivery - now,
            deadline.end - now,
        ]
    }

    fn ms(millis: [u64; 4]) -> [Duration; 4] {
        millis.map(Duration::from_millis)
    }

    #[tokio::test(start_paused = true)]
    async fn an_epoch_deadline_leaves_a_tenth_in_reserve() {
        let deadline = deadline_from(NOW_MS + 300_000, now()).unwrap();
        assert_eq!(moments(&deadline), ms([270_000, 285_000, 292_500, 296_250]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_deadline_keeps_at_least_two_seconds() {
        let deadline = deadline_from(NOW_MS + 5_000, now()).unwrap();
        assert_eq!(moments(&deadline), ms([3_000, 4_000, 4_500, 4_750]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_small_value_is_a_duration_as_the_emulator_sends_it() {
        // A tenth would be 60 s; the reserve is capped at 30 s.
        let deadline = deadline_from(600_000, now()).unwrap();
        assert_eq!(moments(&deadline), ms([570_000, 585_000, 592_500, 596_250]));
        assert!(deadline_from(0, now()).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_already_past_leaves_nothing() {
        let deadline = deadline_from(NOW_MS - 1_000, now()).unwrap();
        assert_eq!(moments(&deadline), ms([0, 0, 0, 0]));
    }
}
