//! The binary under a Lambda runtime.

// The fake's Runtime API, exactly as Lambda would run the binary.
mod lambda;
// cargo-lambda's emulator (`cargo lambda watch` + `cargo lambda invoke`).
mod cargo_lambda;
