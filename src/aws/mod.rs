//! The edges to AWS: each implements a port of `rule/` with the AWS SDK. Reads and writes are
//! kept apart: `sagemaker` and `config` read (Config's `put` is the one delivery), `remediate`
//! holds SageMaker's writes, and `dry_run` wraps Config so that it writes nothing.

pub mod accounts;
pub mod calls;
pub mod config;
pub mod dry_run;
pub mod estate;
mod job_definition;
pub mod pacing;
pub mod remediate;
pub mod sagemaker;
pub mod sdk;

/// The largest page the SageMaker list calls return (`MaxResults` 1..100).
pub const PAGE_SIZE: i32 = 100;
