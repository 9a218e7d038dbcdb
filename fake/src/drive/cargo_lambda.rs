//! cargo-lambda's Lambda emulator (`cargo lambda watch` + `cargo lambda invoke`), the way
//! developers run Rust Lambdas locally: for `make run` and the emulator test.

use std::ffi::OsStr;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running `cargo lambda watch`. Dropping it stops the emulator and the function it started
/// (one process group).
pub struct Emulator {
    child: Child,
    port: u16,
}

impl Emulator {
    pub fn installed() -> bool {
        Command::new("cargo")
            .args(["lambda", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Starts the emulator for `binary` of the package in `dir`, with `env` for the function,
    /// and waits (up to `wait`, since it may build the function first) until it listens.
    pub fn start(
        dir: &Path,
        binary: &str,
        env: &[(String, String)],
        output: impl Fn() -> Stdio,
        wait: Duration,
    ) -> Result<Emulator, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .map_err(|error| format!("no free port: {error}"))?;
        let mut command = Command::new("cargo");
        command
            .current_dir(dir)
            .args(["lambda", "watch", "--package", binary, "--bin", binary]);
        for (key, value) in env {
            command.arg("--env-var").arg(format!("{key}={value}"));
        }
        Self::listen(command, port, output, wait)
    }

    /// Only the emulator's Runtime API, for a function the caller starts itself with
    /// [`Emulator::function_env`]: a test runs the binary `cargo test` already built. Left to
    /// build the function, `cargo lambda watch` runs a plain `cargo build` of the bin, which
    /// resolves features without the dev-dependencies that `cargo test` unifies in (tokio's
    /// `test-util`, hyper's `server`, ...), so on a fresh target it compiles tokio, hyper and
    /// the 47 crates above them (the whole AWS SDK) a second time.
    pub fn apis_only(output: impl Fn() -> Stdio, wait: Duration) -> Result<Emulator, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .map_err(|error| format!("no free port: {error}"))?;
        let mut command = Command::new("cargo");
        command.args(["lambda", "watch", "--only-lambda-apis"]);
        Self::listen(command, port, output, wait)
    }

    /// The name cargo-lambda gives the function it does not start (`--only-lambda-apis`):
    /// invoke that one.
    pub const APIS_ONLY_FUNCTION: &str = "_";

    /// The environment cargo-lambda prints for a function started beside
    /// [`Emulator::apis_only`].
    pub fn function_env(&self) -> Vec<(String, String)> {
        [
            (
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt", self.port),
            ),
            (
                "AWS_LAMBDA_FUNCTION_NAME",
                Self::APIS_ONLY_FUNCTION.to_owned(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096".to_owned()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }

    /// Starts `command` (a `cargo lambda watch`) on `port` and waits until it listens.
    fn listen(
        mut command: Command,
        port: u16,
        output: impl Fn() -> Stdio,
        wait: Duration,
    ) -> Result<Emulator, String> {
        command
            .args([
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port.to_string(),
            ])
            .args(["--ignore-changes", "--quiet"])
            .stdout(output())
            .stderr(output())
            .process_group(0);
        let child = command
            .spawn()
            .map_err(|error| format!("cannot start cargo lambda watch: {error}"))?;
        let emulator = Emulator { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > wait {
                return Err(format!("cargo lambda watch did not listen within {wait:?}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(emulator)
    }

    /// `cargo lambda invoke` with `data` (`--data-file F`, `--data-ascii S`), answer as JSON.
    pub fn invoke(&self, function: &str, data: &[&OsStr]) -> std::io::Result<Output> {
        Command::new("cargo")
            .args([
                "lambda",
                "invoke",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(self.port.to_string())
            .args(["--output-format", "json"])
            .args(data)
            .arg(function)
            .output()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}
