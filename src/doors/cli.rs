//! The command-line front door: the same service as the Lambda, driven from a shell.

use crate::aws::accounts::Accounts;
use crate::aws::config::AwsConfig;
use crate::aws::dry_run::DryRun;
use crate::aws::remediate::{Planner, Remediator};
use crate::aws::sdk;
use crate::core::event::{Invocation, ResultToken, Trigger};
use crate::core::params::{Control, DEFAULT_CONCURRENCY, MAX_CONCURRENCY, RuleParams};
use crate::core::resource::SCHEDULE_TYPE;
use crate::core::verdict::Reading;
use crate::error::Error;
use crate::logging;
use crate::rule::ports::Fixer;
use crate::rule::recorder::Row;
use crate::rule::report::Report;
use crate::rule::{Handled, RunOptions};
use aws_smithy_types::DateTime;
use clap::{Parser, Subcommand};
use std::io::{Read, Write};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "monitoring-schedule-isolation",
    version,
    about = "AWS Config rule for Security Hub SageMaker.14: monitoring schedules must run with network isolation",
    long_about = "AWS Config rule for Security Hub SageMaker.14: monitoring schedules must run with network isolation.\n\nStarted by the Lambda runtime (AWS_LAMBDA_RUNTIME_API set) it serves Config events; from a shell it runs the same code. Honours AWS_REGION, AWS_PROFILE, the credential chain and AWS_ENDPOINT_URL.\n\nExit codes: 0 done, 1 some resources could not be judged or delivered, 2 bad input."
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
    /// Sweep the current account and region as a periodic event would, and print what it finds
    /// without writing anything
    Audit {
        /// JSON lines instead of a table
        #[arg(long)]
        json: bool,
        /// The strict Security Hub reading: only an embedded job definition's flag counts
        #[arg(long)]
        strict: bool,
        /// Judge the standalone job definitions instead (SageMaker.11, .12 and their twins)
        #[arg(long)]
        job_definitions: bool,
        /// Describes in flight at once
        #[arg(long, default_value_t = DEFAULT_CONCURRENCY as u16,
              value_parser = clap::value_parser!(u16).range(1..=MAX_CONCURRENCY as i64))]
        concurrency: u16,
    },
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
pub async fn main() -> i32 {
    let cli = Cli::parse();
    logging::init_cli(cli.verbose);
    match run(cli).await {
        Ok(code) => code,
        Err(error) => fail(&error),
    }
}

/// Runs the command: the exit code of a run that finished, or why it could not.
async fn run(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Evaluate { event, dry_run } => evaluate(&event, dry_run).await,
        Command::Audit {
            json,
            strict,
            job_definitions,
            concurrency,
        } => audit(json, strict, job_definitions, usize::from(concurrency)).await,
        Command::Remediate { schedule, apply } => remediate(&schedule, apply).await,
        Command::Check(args) => Ok(super::check::run(args).await),
    }
}

async fn evaluate(path: &std::path::Path, dry_run: bool) -> Result<i32, Error> {
    let invocation = read_event(path)?;
    let accounts = Accounts::new(sdk::load().await?);
    let (clients, role) = accounts.clients_for(&invocation).await?;
    let options = RunOptions::default();
    // A dry run holds no edge that can write: its delivery prints, its fixer only plans.
    let handled = if dry_run {
        let planner = Planner::of(&clients);
        super::handle(
            &clients,
            DryRun::new(true),
            planner,
            &invocation,
            &options,
            role,
        )
        .await?
    } else {
        let config = AwsConfig::of(&clients);
        let remediator = Remediator::of(&clients);
        super::handle(&clients, config, remediator, &invocation, &options, role).await?
    };
    Ok(finish(&handled, |_| {
        for planned in &handled.report.fixes.planned {
            eprintln!("would remediate {planned}");
        }
        eprintln!("{}", handled.report.human_line(dry_run));
    }))
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

async fn audit(
    json: bool,
    strict: bool,
    job_definitions: bool,
    concurrency: usize,
) -> Result<i32, Error> {
    let clients = sdk::load().await?;
    let control = if job_definitions {
        Control::JobDefinitions
    } else {
        Control::MonitoringSchedules
    };
    let invocation = Invocation {
        trigger: Trigger::Periodic {
            notified_at: DateTime::from(std::time::SystemTime::now()),
        },
        params: RuleParams {
            reading: if strict {
                Reading::Literal
            } else {
                Reading::Resolved
            },
            concurrency,
            control,
            ..RuleParams::default()
        },
        result_token: ResultToken::TestMode,
        rule_name: None,
        account_id: None,
        execution_role_arn: None,
        left_scope: false,
    };
    let planner = Planner::of(&clients);
    let options = RunOptions {
        keep_rows: true,
        ..RunOptions::default()
    };
    let sink = DryRun::new(false);
    let handled = super::handle(&clients, sink, planner, &invocation, &options, None).await?;
    Ok(finish(&handled, |handled| {
        print_audit(handled, control, json);
        eprintln!("{}", handled.report.human_line(true));
    }))
}

async fn remediate(schedule: &str, apply: bool) -> Result<i32, Error> {
    let clients = sdk::load().await?;
    let result = if apply {
        Remediator::of(&clients).fix(schedule).await
    } else {
        Planner::of(&clients).fix(schedule).await
    };
    let remediation = match result {
        Ok(remediation) => remediation,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(1);
        }
    };
    let mut out = std::io::stdout().lock();
    let verb = if remediation.applied {
        "applied"
    } else {
        "would apply (dry run; --apply to change)"
    };
    let _ = writeln!(out, "{schedule}: {verb}");
    for step in &remediation.steps {
        let _ = writeln!(out, "  - {step}");
    }
    if remediation.changes_anything() {
        let _ = writeln!(
            out,
            "Isolated monitoring jobs have no network access: make sure their inputs and outputs are reachable through VPC endpoints or staged data before the next run."
        );
    }
    Ok(0)
}

/// The audit's rows, by name: a table, or JSON lines with the API's field names and the
/// resource's name under `MonitoringScheduleName` or `JobDefinitionName`.
fn print_audit(handled: &Handled, control: Control, json: bool) {
    let mut rows: Vec<&Row> = handled.rows.iter().collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = std::io::stdout().lock();
    if json {
        for row in rows {
            let mut line = serde_json::to_value(&row.evaluation).expect("serialisable");
            let member = if row.evaluation.compliance_resource_type == SCHEDULE_TYPE {
                "MonitoringScheduleName"
            } else {
                "JobDefinitionName"
            };
            line[member] = row.name.clone().into();
            let _ = writeln!(out, "{line}");
        }
        return;
    }
    let heading = match control {
        Control::MonitoringSchedules => "SCHEDULE",
        Control::JobDefinitions => "JOB DEFINITION",
    };
    let width = rows
        .iter()
        .filter_map(|row| row.name.as_ref().map(|name| name.chars().count()))
        .max()
        .unwrap_or(0)
        .max(heading.len());
    let _ = writeln!(out, "{heading:width$}  {:14}  ANNOTATION", "VERDICT");
    for row in rows {
        let _ = writeln!(
            out,
            "{:width$}  {:14}  {}",
            row.name.as_deref().unwrap_or("?"),
            row.evaluation.compliance_type.as_str(),
            row.evaluation.annotation
        );
    }
    for unjudged in &handled.report.unjudged {
        let _ = writeln!(
            out,
            "{:width$}  {:14}  {}",
            unjudged.resource, "UNJUDGED", unjudged.reason
        );
    }
}

/// Logs the summary, shows the result, and gives the exit code the report's outcome calls for.
fn finish(handled: &Handled, show: impl FnOnce(&Handled)) -> i32 {
    let report: &Report = &handled.report;
    report.log("command-line");
    show(handled);
    match report.outcome() {
        Ok(()) => 0,
        Err(error) => fail(&error),
    }
}

fn fail(error: &Error) -> i32 {
    eprintln!("error: {error}");
    error.exit_code()
}
