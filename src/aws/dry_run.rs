//! The sink a dry run delivers to: it prints each evaluation as a JSON line (`evaluate
//! --dry-run`), through `escaping` as every text output, or drops it (`audit`), and holds no
//! client, so it cannot write to AWS.

use crate::core::evaluation::Evaluation;
use crate::core::event::ResultToken;
use crate::error::ApiFailure;
use crate::escaping;
use crate::rule::ports::Deliver;
use std::io::{self, Write};
use std::sync::Mutex;

pub struct DryRun {
    /// Print each evaluation as a JSON line on stdout when it would have been sent.
    print: bool,
    /// Why stdout could not be written, once it could not: nothing more is printed.
    unprintable: Mutex<Option<io::Error>>,
}

impl DryRun {
    pub fn new(print: bool) -> Self {
        DryRun {
            print,
            unprintable: Mutex::new(None),
        }
    }

    /// Whether every evaluation was printed: the write error that stopped it if not, for the
    /// command line to end on (a closed pipe is a normal end there).
    pub fn printed(&self) -> io::Result<()> {
        match self.unprintable.lock().expect("never poisoned").take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// Printing is not delivery: a stdout that cannot be written fails no evaluation.
impl Deliver for &DryRun {
    async fn put(
        &self,
        batch: &[Evaluation],
        _token: &ResultToken,
    ) -> Result<Vec<(String, String)>, ApiFailure> {
        let mut unprintable = self.unprintable.lock().expect("never poisoned");
        if self.print && unprintable.is_none() {
            let mut out = io::stdout().lock();
            let printed = batch
                .iter()
                .try_for_each(|evaluation| writeln!(out, "{}", line(evaluation)));
            *unprintable = printed.err();
        }
        Ok(Vec::new())
    }
}

/// An evaluation as `evaluate --dry-run` prints it.
fn line(evaluation: &Evaluation) -> String {
    escaping::json(evaluation.to_json_line())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::verdict::Verdict;
    use aws_smithy_types::DateTime;

    #[test]
    fn a_line_holds_no_character_that_acts_on_a_terminal() {
        let evaluation = Evaluation::new(
            crate::SCHEDULE_TYPE,
            "evil\u{9b}2J\u{202e}",
            Verdict::not_applicable("tag value \u{1b}[2K\u{7f}\u{2028}::error::x"),
            DateTime::from_secs(1_795_860_000),
        );
        let line = line(&evaluation);
        assert!(
            !line.contains(['\u{1b}', '\u{7f}', '\u{9b}', '\u{202e}', '\u{2028}']),
            "{line}"
        );
        // The same document to a parser.
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["ComplianceResourceId"], "evil\u{9b}2J\u{202e}");
        assert_eq!(back["Annotation"], evaluation.annotation);
    }
}
