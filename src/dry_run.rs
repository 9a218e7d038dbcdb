//! A Config edge that reads for real but writes nothing: `evaluate --dry-run` and `audit`.

use crate::error::ApiFailure;
use crate::evaluation::Evaluation;
use crate::evaluations::{Evaluations, FetchedItem, HeldResult, RecordedIds};
use crate::event::ResultToken;
use aws_smithy_types::DateTime;
use std::io::Write;

pub struct DryRun<E> {
    inner: E,
    /// Print each evaluation as a JSON line on stdout when it would have been sent.
    print: bool,
}

impl<E> DryRun<E> {
    pub fn new(inner: E, print: bool) -> Self {
        DryRun { inner, print }
    }
}

impl<E: Evaluations> Evaluations for DryRun<E> {
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

    async fn item_at(
        &self,
        resource_type: &str,
        resource_id: &str,
        captured_at: DateTime,
    ) -> Result<Option<FetchedItem>, ApiFailure> {
        self.inner
            .item_at(resource_type, resource_id, captured_at)
            .await
    }

    async fn recorded_ids(
        &self,
        resource_type: &str,
        name: Option<&str>,
    ) -> Result<RecordedIds, ApiFailure> {
        self.inner.recorded_ids(resource_type, name).await
    }

    async fn held_results(&self, rule_name: &str) -> Result<Vec<HeldResult>, ApiFailure> {
        self.inner.held_results(rule_name).await
    }
}
