//! What the repository promises about itself, read from its files as a reviewer would: the
//! IAM in the templates evaluated as AWS evaluates it, the templates rendered as CloudFormation
//! renders them, the pinned toolchain, and the release layout. A test that needs the fake to
//! answer a behaviour belongs in tests/wire; these use it only to list the calls a template's
//! role must allow.

mod foreach;
mod lambda_policy;
mod policy;
mod release;
mod repository;
mod templates;

#[path = "../wire/support/mod.rs"]
mod support;
