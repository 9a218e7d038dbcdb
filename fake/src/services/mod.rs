//! The AWS services the fake answers, one file each: what each operation does to the state and
//! the limits it enforces. The request pipeline hands each call here once it is routed,
//! authenticated and past any injected fault.

pub mod aggregator;
pub mod config;
pub mod organizations;
pub mod sagemaker;
pub mod securityhub;
pub mod sts;
