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
            .args(["lambda", "watch", "--package", binary, "--bin", binary])
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
        for (key, value) in env {
            command.arg("--env-var").arg(format!("{key}={value}"));
        }
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
