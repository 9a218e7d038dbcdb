//! How the command line ends. Its writes hand back their errors (nothing is written with
//! `print!`, which panics on a closed pipe): a closed pipe (`| head`) is the reader's choice,
//! so the run ends there, quietly, with 0; any other failure to write ends it with a message
//! and 2; work left undone ends it with the error's own code.

use crate::error::Error;
use crate::escaping;
use std::io::{self, Write};
use std::process::ExitCode;

/// Why the command line stopped before it finished.
#[derive(Debug)]
pub enum Stop {
    /// The work could not be done: bad input or settings, an account that cannot be entered.
    Failed(Error),
    /// Standard output or standard error could not be written.
    Unwritable(io::Error),
}

/// Whatever becomes an [`Error`] stops the command line as one.
impl<E: Into<Error>> From<E> for Stop {
    fn from(error: E) -> Self {
        Stop::Failed(error.into())
    }
}

impl From<io::Error> for Stop {
    fn from(error: io::Error) -> Self {
        Stop::Unwritable(error)
    }
}

/// The process's exit code for a run that finished with `code`, or that stopped, after saying
/// why on standard error when there is something to say.
pub fn code(ran: Result<i32, Stop>) -> ExitCode {
    let (code, message) = ending(ran);
    if let Some(message) = message {
        complain(&message);
    }
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn ending(ran: Result<i32, Stop>) -> (i32, Option<String>) {
    match ran {
        Ok(code) => (code, None),
        Err(Stop::Unwritable(error)) if error.kind() == io::ErrorKind::BrokenPipe => (0, None),
        Err(Stop::Unwritable(error)) => (2, Some(format!("cannot write the output: {error}"))),
        Err(Stop::Failed(error)) => (error.exit_code(), Some(error.to_string())),
    }
}

/// Says on standard error why the work was not done, and gives the error's exit code.
pub fn failed(error: &Error) -> i32 {
    complain(&error.to_string());
    error.exit_code()
}

/// `error: ...` on standard error, escaped. When standard error itself cannot be written,
/// there is no one left to tell, and the exit code still says it.
pub fn complain(message: &str) {
    note(&format!("error: {}", escaping::text(message)));
}

/// A line on standard error, already escaped by the caller, for a person watching the run;
/// like [`complain`], it cannot fail the run (`eprintln!` would panic on a closed stderr).
pub fn note(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_a_normal_end_and_other_write_failures_are_not() {
        let closed = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(ending(Err(Stop::Unwritable(closed))), (0, None));
        let full = io::Error::from(io::ErrorKind::StorageFull);
        assert_eq!(
            ending(Err(Stop::Unwritable(full))),
            (2, Some("cannot write the output: no storage space".into()))
        );
        let incomplete = Error::Incomplete("1 resource(s) could not be judged".into());
        assert_eq!(
            ending(Err(Stop::Failed(incomplete))),
            (1, Some("1 resource(s) could not be judged".into()))
        );
        assert_eq!(ending(Ok(3)), (3, None));
    }
}
