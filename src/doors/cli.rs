//! The command-line front door: the same service as the Lambda, driven from a shell.

use super::audit::{self, AuditArgs};
use super::exit::{self, Stop};
use crate::aws::accounts::Accounts;
use crate::aws::config::AwsConfig;
use crate::aws::dry_run::DryRun;
use crate::aws::remediate::{Planner, Remediator};
use crate::aws::sdk;
use crate::core::event::Invocation;
use crate::error::Error;
use crate::escaping;
use crate::logging;
use crate::rule::ports::Fixer;
use crate::rule::report::Report;
use crate::rule::{Handled, RunOptions};
use clap::{Parser, Subcommand};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "monitoring-schedule-isolation",
    version = crate::version::line(),
    about = "AWS Config rule for Security Hub SageMaker.14: monitoring schedules must run with network isolation",
    long_about = "AWS Config rule for Security Hub SageMaker.14: monitoring schedules must run with network isolation.\n\nStarted by the Lambda runtime (AWS_LAMBDA_RUNTIME_API set) it serves Config events; from a shell it runs the same code. Honours AWS_REGION, AWS_PROFILE, the credential chain and AWS_ENDPOINT_URL.\n\nExit codes: 0 done, 1 some resources could not be judged or delivered, 2 bad input. audit: 0 everything read and nothing NON_COMPLIANT, 1 something not read (nothing NON_COMPLIANT in the rest), 2 bad input, 3 NON_COMPLIANT found (everything read), 4 NON_COMPLIANT found and something not read."
)]
struct Cli {
    /// More log output on stderr (-v: verdicts and summary, -vv: detail)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Handle one Config event exactly as the Lambda would, PutEvaluations included
    Evaluate {
        /// The event: a file, or - for stdin
        #[arg(long)]
        event: PathBuf,
        /// Print the evaluations as JSON lines instead of sending them; call nothing that writes
        #[arg(long)]
        dry_run: bool,
    },
    /// Sweep as a periodic event would and print what it finds, writing nothing: the current
    /// account and region, or every account and region named
    Audit(AuditArgs),
    /// Show how to turn network isolation on for one schedule; change it only with --apply.
    /// Isolated jobs reach their inputs only through VPC endpoints or staged data.
    Remediate {
        /// The monitoring schedule's name
        #[arg(long)]
        schedule: String,
        /// Make the change (UpdateMonitoringSchedule, and a job-definition copy if needed)
        #[arg(long)]
        apply: bool,
    },
    Check(super::check::CheckArgs),
}

/// Parses the command line, runs it, and returns the process exit code.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init_cli(cli.verbose);
    exit::code(run(cli).await)
}

/// Runs the command: the exit code of a run that finished, or why it stopped.
async fn run(cli: Cli) -> Result<i32, Stop> {
    match cli.command {
        Command::Evaluate { event, dry_run } => evaluate(&event, dry_run).await,
        Command::Audit(args) => audit::run(args).await,
        Command::Remediate { schedule, apply } => remediate(&schedule, apply).await,
        Command::Check(args) => super::check::run(args).await,
    }
}

async fn evaluate(path: &std::path::Path, dry_run: bool) -> Result<i32, Stop> {
    let invocation = read_event(path)?;
    let accounts = Accounts::new(sdk::load().await?);
    let (clients, role) = accounts.clients_for(&invocation, None).await?;
    let options = RunOptions::default();
    // A dry run holds no edge that can write: its delivery prints, its fixer only plans.
    let handled = if dry_run {
        let planner = Planner::of(&clients);
        let printer = DryRun::new(true);
        let handled =
            super::handle(&clients, &printer, planner, &invocation, &options, role).await?;
        printer.printed()?;
        handled
    } else {
        let config = AwsConfig::of(&clients);
        let remediator = Remediator::of(&clients);
        super::handle(&clients, config, remediator, &invocation, &options, role).await?
    };
    finish(&handled, |handled| {
        let mut err = io::stderr();
        for planned in &handled.report.fixes.planned {
            writeln!(err, "would remediate {}", escaping::text(planned))?;
        }
        writeln!(
            err,
            "{}",
            escaping::text(&handled.report.human_line(dry_run))
        )
    })
}

fn read_event(path: &std::path::Path) -> Result<Invocation, Error> {
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|content| bytes = content)
    };
    read.map_err(|error| Error::Read {
        what: format!("the event {}", path.display()),
        message: error.to_string(),
    })?;
    Ok(Invocation::from_slice(&bytes)?)
}

async fn remediate(schedule: &str, apply: bool) -> Result<i32, Stop> {
    let clients = sdk::load().await?;
    let result = if apply {
        Remediator::of(&clients).fix(schedule).await
    } else {
        Planner::of(&clients).fix(schedule).await
    };
    let remediation = match result {
        Ok(remediation) => remediation,
        Err(error) => {
            exit::complain(&error.to_string());
            return Ok(1);
        }
    };
    let mut out = io::stdout().lock();
    let verb = if remediation.applied {
        "applied"
    } else {
        "would apply (dry run; --apply to change)"
    };
    writeln!(out, "{}: {verb}", escaping::text(schedule))?;
    for step in &remediation.steps {
        writeln!(out, "  - {}", escaping::text(&step.to_string()))?;
    }
    if remediation.changes_anything() {
        writeln!(
            out,
            "Isolated monitoring jobs have no network access: make sure their inputs and outputs are reachable through VPC endpoints or staged data before the next run."
        )?;
    }
    Ok(0)
}

/// Logs the summary, shows the result, and gives the exit code the report's outcome calls for.
fn finish(handled: &Handled, show: impl FnOnce(&Handled) -> io::Result<()>) -> Result<i32, Stop> {
    let report: &Report = &handled.report;
    report.log("command-line");
    show(handled)?;
    Ok(match report.outcome() {
        Ok(()) => 0,
        Err(error) => exit::failed(&error),
    })
}
