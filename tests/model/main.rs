//! The verdict over data, with no fake and no binary: properties over arbitrary input and the
//! recorded third-party fixtures. A test that needs the fake belongs in tests/wire; one that
//! reads the repository's files, in tests/repo.

mod fixtures;
mod properties;

use serde_json::Value;
use std::path::PathBuf;

/// A recording under tests/fixtures.
pub fn fixture(path: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
