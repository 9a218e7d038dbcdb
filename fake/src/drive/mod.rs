//! What drives the rule's binary from outside the fake: local Lambda emulators.

pub mod cargo_lambda;
