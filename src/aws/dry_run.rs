//! The sink a dry run delivers to: it prints each evaluation as a JSON line (`evaluate
//! --dry-run`) or drops it (`audit`), and holds no client, so it cannot write. It is also a dry
//! run's Security Hub writer, which plans every update and sends none (the door prints them).

use crate::core::evaluation::Evaluation;
use crate::core::event::ResultToken;
use crate::core::security_hub::Batch;
use crate::error::ApiFailure;
use crate::rule::ports::Deliver;
use crate::rule::security_hub::{FindingsWrites, Updated};
use std::io::Write;

pub struct DryRun {
    /// Print each evaluation as a JSON line on stdout when it would have been sent.
    print: bool,
}

impl DryRun {
    pub fn new(print: bool) -> Self {
        DryRun { print }
    }
}

impl Deliver for DryRun {
    async fn put(
        &self,
        batch: &[Evaluation],
        _token: &ResultToken,
    ) -> Result<Vec<(String, String)>, ApiFailure> {
        if self.print {
            let mut out = std::io::stdout().lock();
            for evaluation in batch {
                // A closed stdout (`| head`) is the reader's choice, not a failure to report.
                let _ = writeln!(out, "{}", evaluation.to_json_line());
            }
        }
        Ok(Vec::new())
    }
}

impl FindingsWrites for DryRun {
    async fn update(&self, _batch: &Batch) -> Result<Updated, ApiFailure> {
        Ok(Updated::Planned)
    }
}
