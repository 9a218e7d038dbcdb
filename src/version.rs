//! Which build is running: the package version and the commit it was built from, so an
//! operator can tell which release judged a resource (`--version`, the Lambda's first log line,
//! the metrics record of every invocation).
//!
//! The commit comes from `MONITORING_SCHEDULE_ISOLATION_COMMIT` at compile time, which
//! `scripts/release` sets, rather than from a build script asking git: a plain `cargo build`
//! then needs no git and no `.git` directory, and the same source always compiles to the same
//! binary (it says `unknown`). Cargo rebuilds when the variable changes.

use std::sync::OnceLock;

/// The package version, as in `Cargo.toml` (and the SAR `SemanticVersion`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit the release was built from, or `unknown` for a build outside `make release`.
pub const COMMIT: &str = match option_env!("MONITORING_SCHEDULE_ISOLATION_COMMIT") {
    Some(commit) if !commit.is_empty() => commit,
    _ => "unknown",
};

/// `0.1.0 (commit 1a2b3c…)`, as `--version` prints it after the program's name.
pub fn line() -> &'static str {
    static LINE: OnceLock<String> = OnceLock::new();
    LINE.get_or_init(|| format!("{VERSION} (commit {COMMIT})"))
}
