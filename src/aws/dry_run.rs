//! The sink a dry run delivers to: it prints each evaluation as a JSON line (`evaluate
//! --dry-run`) or drops it (`audit`), and holds no client, so it cannot write to AWS.

use crate::core::evaluation::Evaluation;
use crate::core::event::ResultToken;
use crate::error::ApiFailure;
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
                .try_for_each(|evaluation| writeln!(out, "{}", evaluation.to_json_line()));
            *unprintable = printed.err();
        }
        Ok(Vec::new())
    }
}
