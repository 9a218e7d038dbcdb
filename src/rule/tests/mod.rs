//! The service over the in-memory account (`ports/memory.rs`), one file per behaviour: where a
//! new test goes.
//!
//! * `sweep.rs`: what a periodic sweep judges, under which ids, what it clears, and what
//!   follows its verdicts (remediation, the rows).
//! * `change.rs`: one changed item.
//! * `deadline.rs`: the Lambda deadline's phases, for a sweep and for a change, and
//!   remediation after the verdicts: what is done before each moment, what is named after.
//! * `cut_short.rs`: a sweep the deadline cut short: what it re-states, and how the sweeps that
//!   follow reach every schedule in turn.
//!
//! Tests of time run on a paused tokio clock (`start_paused`), which moves only when every
//! task waits, so the instants they assert are exact; `Memory`'s latencies are on that clock.
//! Delivery's retries and back-off are tested beside it, in `delivery.rs`.

mod change;
mod cut_short;
mod deadline;
mod sweep;

use super::ports::memory::{Memory, periodic};
use super::*;
use crate::core::resource::{MonitoringKind, SCHEDULE_TYPE};
use crate::core::schedule::{JobSpec, Network};
use crate::core::verdict::Compliance::{self, *};
use crate::rule::outcome::Reason;
use crate::rule::ports::HeldResult;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn named(name: &str, kind: &str) -> JobSpec {
    JobSpec::Named {
        name: name.into(),
        monitoring_type: Some(kind.into()),
    }
}

fn embedded(isolated: bool) -> JobSpec {
    JobSpec::Embedded(Some(Network {
        isolation: Some(isolated),
        vpc: false,
    }))
}

/// A NON_COMPLIANT result Config has held for a day.
fn held(id: &str) -> HeldResult {
    HeldResult {
        resource_type: SCHEDULE_TYPE.into(),
        resource_id: id.into(),
        compliance: NonCompliant,
        annotation: "held".into(),
        recorded_at: 1_795_860_000.0 - 86_400.0,
    }
}

/// Seven schedules: embedded both ways, the same job-definition name under two types with
/// opposite settings, one naming nothing that exists.
fn account() -> Memory {
    Memory::new()
        .schedule("a-embedded-on", embedded(true))
        .schedule("b-embedded-off", embedded(false))
        .schedule("c-dq", named("shared", "DataQuality"))
        .schedule("d-bias", named("shared", "ModelBias"))
        .schedule("e-bias-too", named("shared", "ModelBias"))
        .schedule("f-missing", named("gone", "ModelQuality"))
        .schedule("g-nothing", JobSpec::Missing)
        .job_definition(MonitoringKind::DataQuality, "shared", false)
        .job_definition(MonitoringKind::ModelBias, "shared", true)
}

fn expected() -> BTreeMap<String, Compliance> {
    [
        ("a-embedded-on", Compliant),
        ("b-embedded-off", NonCompliant),
        ("c-dq", NonCompliant),
        ("d-bias", Compliant),
        ("e-bias-too", Compliant),
        ("f-missing", NonCompliant),
        ("g-nothing", NonCompliant),
    ]
    .into_iter()
    .map(|(name, compliance)| (format!("arn:schedule/{name}"), compliance))
    .collect()
}

/// `count` schedules with embedded job definitions, `s-00000` and on, isolated where
/// `isolated` says, listed in one page.
fn embedded_schedules(count: usize, isolated: impl Fn(usize) -> bool) -> Memory {
    let mut memory = Memory::new();
    memory.page_size = 100;
    for i in 0..count {
        memory = memory.schedule(&format!("s-{i:05}"), embedded(isolated(i)));
    }
    memory
}

async fn run(memory: &Memory, invocation: &Invocation, options: &RunOptions) -> Handled {
    Service::new(memory, memory, memory, memory)
        .handle(invocation, options)
        .await
        .unwrap()
}

/// [`run`], and how long it took on the test's paused clock.
async fn timed(
    memory: &Memory,
    invocation: &Invocation,
    options: &RunOptions,
) -> (Handled, Duration) {
    let start = tokio::time::Instant::now();
    let handled = run(memory, invocation, options).await;
    (handled, tokio::time::Instant::now() - start)
}

/// A deadline `remaining` from the moment it is made (so one per run), keeping `reserve`:
/// judging stops `reserve` before the end,
/// reads are given up at half of it, delivery starts nothing at a quarter and waits for no
/// answer at an eighth.
fn deadline(remaining: Duration, reserve: Duration) -> RunOptions {
    RunOptions {
        deadline: Some(Deadline::within(remaining, reserve)),
        ..RunOptions::default()
    }
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Instants from the start, in milliseconds.
fn at_ms(millis: &[u64]) -> Vec<Duration> {
    millis.iter().copied().map(Duration::from_millis).collect()
}
