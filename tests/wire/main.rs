//! The wire tests: the real binary and the real AWS SDK over real HTTP on loopback, against the
//! local fake in `fake/`. One binary, one module per behaviour.
//!
//! Where a new test goes: in the module of the behaviour it pins, below. A new module only for
//! a behaviour none of them covers; add it here, in order, with a line saying what it pins.
//! Arrange with `wire_test!` (it starts and seeds the fake and hands the test the binary
//! pointed at it) or the helpers in `support`, so that the test shows only its case. A test of
//! one function over plain data goes next to the code in `src/` (a paused clock for anything
//! timed), one of the verdict over data in tests/model, one of the repository's files in
//! tests/repo.

// Starting and seeding the fake, running the binary, synthetic accounts, `wire_test!`.
#[macro_use]
mod support;

// Change events: every sample in `events/`, change and oversized, job-definition changes,
// items Config does not record, and bad input.
mod change;
// Periodic sweeps: pagination, more than 100 evaluations, rate and concurrency, exemptions,
// the job-definition rule.
mod sweep;
// Stale results cleared under their own types, and only when provably stale.
mod stale;
// What Config records and bills, sweep after sweep.
mod cost;
// What a run cut short by the deadline delivers and names.
mod deadline;
// Throttling, server errors, resets, slow and malformed answers, failed evaluations, refused
// types, a list that repeats its token.
mod faults;
// The dry run, consent, and the exact requests remediation sends.
mod remediation;
// Credentials renewed before they lapse, a role only in the event's account and partition, and
// no token, configuration or credential in the logs.
mod credentials;
// One function for a whole organization: a role assumed in each event's account.
mod organization;
// `audit` across accounts and regions.
mod audit;
// `audit --aggregator` from one Config aggregator.
mod aggregator;
// `SecurityHub=annotate|suppress` against the fake's Security Hub.
mod security_hub;
// `check` on templates and plans, `--resolve-live` against the fake.
mod check;
// The CloudFormation Lambda hook under the fake's Runtime API.
mod hook;
// The binary under a Lambda runtime: the fake's Runtime API and cargo-lambda's emulator.
mod runtime;
// AWS errors a person reads: operation, code, message and request id, no SDK dump.
mod errors;
// A closed pipe is the reader's choice, not a failure.
mod pipe;
// The fake's answers held against recorded ones.
mod recordings;
