//! A small local fake of the SageMaker, AWS Config, Security Hub and STS APIs, speaking their
//! wire protocols (awsJson1.1 routed by `X-Amz-Target`, restJson1 routed by method and path for
//! Security Hub, awsQuery XML for STS) on 127.0.0.1, plus a Lambda Runtime API so the rule's
//! Lambda front door can be driven the way Lambda drives it.
//!
//! No emulator covers monitoring schedules, so the project keeps this one. It checks SigV4
//! signatures, enforces the API limits the rule must respect (page sizes, batch sizes,
//! annotation length), records what it was asked, and injects faults on request.
//!
//! # Layout
//!
//! A request travels `server` → `pipeline` → `services`; the rest is what they share.
//!
//! * `server.rs`: [`FakeAws`], the running fake and the handle tests hold: start, client and
//!   Lambda environments, state access, records, `on_call` hooks, Runtime API invocations.
//! * `pipeline.rs`: what every AWS call goes through: routing, SigV4 and credential checks, the
//!   in-flight count, the `hold_until` gate, faults and latency; [`Context`], who is calling.
//! * `protocol.rs`: awsJson1.1, restJson1 and awsQuery: which one a request speaks, and the
//!   shapes of its answers and errors (content type, `__type`, `x-amzn-errortype`, XML).
//! * `services/`: one file per service ([`sagemaker`], [`config`], [`aggregator`],
//!   [`securityhub`], [`organizations`], [`sts`]); `mod.rs` dispatches a call to its service,
//!   and holds what they share ([`Reply`], [`paginate`]).
//! * `state.rs`: [`State`], what the fake holds ([`Account`]s, [`Credential`]s, faults) and
//!   records ([`CallRecord`], [`RecordedEvaluation`], [`PutRecord`]).
//! * `admin.rs`: the `/_fake/...` controls, for a fake in another process.
//! * [`faults`]: what can be injected, and the dice and rate limiter that decide it.
//! * [`seed`]: what a fake account starts with, loaded from recordings as they are.
//! * [`sigv4`]: signature verification. [`runtime`]: the Lambda Runtime API.
//! * [`drive`]: what runs the rule's binary from outside: [`cargo_lambda`]'s emulator.
//!
//! The services and drivers are re-exported at the crate root (`fake_aws::config`,
//! `fake_aws::cargo_lambda`), where tests name them.

pub mod drive;
pub mod faults;
pub mod runtime;
pub mod seed;
pub mod services;
pub mod sigv4;

mod admin;
mod pipeline;
mod protocol;
mod server;
mod state;

pub use drive::cargo_lambda;
pub use pipeline::Context;
pub use server::FakeAws;
pub use services::{
    Reply, aggregator, config, organizations, paginate, sagemaker, securityhub, sts,
};
pub use state::{Account, CallRecord, Credential, PutRecord, RecordedEvaluation, State};
