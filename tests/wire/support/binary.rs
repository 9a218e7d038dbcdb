//! The real binary pointed at one fake: what a wire test runs (ripgrep's `TestCommand`).

use super::{Run, evaluate, periodic_event, run};
use fake_aws::FakeAws;
use serde_json::Value;

pub struct Binary<'a> {
    fake: &'a FakeAws,
}

impl<'a> Binary<'a> {
    pub fn new(fake: &'a FakeAws) -> Binary<'a> {
        Binary { fake }
    }

    /// `evaluate --event -` with `event` on stdin: what it delivers, the fake records.
    pub fn evaluate(&self, event: &Value) -> Run {
        evaluate(self.fake, event, false, &[])
    }

    /// `evaluate --event - --dry-run`: judged and reported, nothing delivered.
    pub fn dry_run(&self, event: &Value) -> Run {
        evaluate(self.fake, event, true, &[])
    }

    /// A periodic sweep with these rule parameters, under a result token the fake takes.
    pub fn sweep(&self, params: &str) -> Run {
        self.evaluate(&periodic_event(params, "token"))
    }

    /// Any command line, with no input.
    pub fn run(&self, args: &[&str]) -> Run {
        run(self.fake, args, None, &[])
    }
}
