//! The command-line front door: the same service as the Lambda, driven from a shell.

use crate::accounts::Accounts;
use crate::dry_run::DryRun;
use crate::error::Error;
use crate::evaluations::AwsEvaluations;
use crate::event::{Invocation, ResultToken, Trigger};
use crate::params::{Control, DEFAULT_CONCURRENCY, MAX_CONCURRENCY, RuleParams};
use crate::remediate::{Fixer, Planner, Remediator};
use crate::rule::{RunOptions, Service};
use crate::sagemaker::AwsSchedules;
use crate::sdk;
use crate::summary::Report;
use crate::verdict::Reading;
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
pub struct Cli {
    /// More log output on stderr (-v: verdicts and summary, -vv: detail)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
}

/// Runs the command and returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Evaluate { event, dry_run } => evaluate(&event, dry_run).await,
        Command::Audit {
            json,
            strict,
            job_definitions,
            concurrency,
        } => audit(json, strict, job_definitions, usize::from(concurrency)).await,
        Command::Remediate { schedule, apply } => remediate(&schedule, apply).await,
    }
}

async fn evaluate(path: &std::path::Path, dry_run: bool) -> i32 {
    let invocation = match read_event(path) {
        Ok(invocation) => invocation,
        Err(message) => return fail(2, &message),
    };
    let clients = match sdk::load().await {
        Ok(clients) => clients,
        Err(error) => return fail(2, &error.to_string()),
    };
    let accounts = Accounts::new(clients);
    let (clients, role) = match accounts.clients_for(&invocation).await {
        Ok(found) => found,
        Err(error) => return fail(1, &error.to_string()),
    };
    let schedules = AwsSchedules::new(clients.sagemaker.clone());
    let evaluations = AwsEvaluations::new(clients.config);
    let options = RunOptions::default();
    // A dry run holds no edge that can write: Config's is wrapped, SageMaker's only plans.
    let result = if dry_run {
        let planner = Planner::new(AwsSchedules::new(clients.sagemaker));
        let service = Service::new(
            schedules,
            DryRun::new(evaluations, true),
            planner,
            clients.counter,
        );
        service.handle(&invocation, &options).await
    } else {
        let remediator = Remediator::new(clients.sagemaker);
        let service = Service::new(schedules, evaluations, remediator, clients.counter);
        service.handle(&invocation, &options).await
    };
    let result = result.map(|mut report| {
        report.acting_as = role;
        report
    });
    finish(result, |report| {
        for planned in &report.planned_remediations {
            eprintln!("would remediate {planned}");
        }
        eprintln!("{}", report.human_line(dry_run));
    })
}

fn read_event(path: &std::path::Path) -> Result<Invocation, String> {
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|content| bytes = content)
    };
    read.map_err(|error| format!("cannot read the event {}: {error}", path.display()))?;
    Invocation::from_slice(&bytes).map_err(|error| Error::from(error).to_string())
}

async fn audit(json: bool, strict: bool, job_definitions: bool, concurrency: usize) -> i32 {
    let clients = match sdk::load().await {
        Ok(clients) => clients,
        Err(error) => return fail(2, &error.to_string()),
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
            control: if job_definitions {
                Control::JobDefinitions
            } else {
                Control::MonitoringSchedules
            },
            ..RuleParams::default()
        },
        result_token: ResultToken::TestMode,
        rule_name: None,
        account_id: None,
        execution_role_arn: None,
        left_scope: false,
    };
    let service = Service::new(
        AwsSchedules::new(clients.sagemaker.clone()),
        DryRun::new(AwsEvaluations::new(clients.config), false),
        Planner::new(AwsSchedules::new(clients.sagemaker)),
        clients.counter,
    );
    let options = RunOptions {
        keep_judged: true,
        ..RunOptions::default()
    };
    let result = service.handle(&invocation, &options).await;
    finish(result, |report| {
        print_audit(report, json);
        eprintln!("{}", report.human_line(true));
    })
}

async fn remediate(schedule: &str, apply: bool) -> i32 {
    let clients = match sdk::load().await {
        Ok(clients) => clients,
        Err(error) => return fail(2, &error.to_string()),
    };
    let result = if apply {
        Remediator::new(clients.sagemaker).fix(schedule).await
    } else {
        Planner::new(AwsSchedules::new(clients.sagemaker))
            .fix(schedule)
            .await
    };
    match result {
        Ok(remediation) => {
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
            0
        }
        Err(failure) => fail(1, &failure.to_string()),
    }
}

fn print_audit(report: &Report, json: bool) {
    let mut rows: Vec<_> = report.judged_items.iter().collect();
    rows.sort_by(|a, b| a.schedule_name.cmp(&b.schedule_name));
    let mut out = std::io::stdout().lock();
    if json {
        for row in rows {
            let mut line = serde_json::to_value(&row.evaluation).expect("serialisable");
            line["MonitoringScheduleName"] = row.schedule_name.clone().into();
            let _ = writeln!(out, "{line}");
        }
        return;
    }
    let width = rows
        .iter()
        .filter_map(|row| row.schedule_name.as_ref().map(|name| name.chars().count()))
        .max()
        .unwrap_or(0)
        .max("SCHEDULE".len());
    let _ = writeln!(out, "{:width$}  {:14}  ANNOTATION", "SCHEDULE", "VERDICT");
    for row in rows {
        let _ = writeln!(
            out,
            "{:width$}  {:14}  {}",
            row.schedule_name.as_deref().unwrap_or("?"),
            row.evaluation.compliance_type.as_str(),
            row.evaluation.annotation
        );
    }
    for unjudged in &report.unjudged {
        let _ = writeln!(
            out,
            "{:width$}  {:14}  {}",
            unjudged.resource, "UNJUDGED", unjudged.reason
        );
    }
}

fn finish(result: Result<Report, Error>, show: impl FnOnce(&Report)) -> i32 {
    match result {
        Err(error) => fail(error.exit_code(), &error.to_string()),
        Ok(report) => {
            report.log("command-line");
            show(&report);
            match report.outcome() {
                Ok(()) => 0,
                Err(error) => fail(error.exit_code(), &error.to_string()),
            }
        }
    }
}

fn fail(code: i32, message: &str) -> i32 {
    eprintln!("error: {message}");
    code
}
