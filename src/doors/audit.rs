//! `audit`: the periodic sweep, writing nothing, for the current account and region or for a
//! whole estate (`--accounts`/`--organization`, `--regions`, `--role`). Each account and region
//! is swept on its own with its own clients; one that cannot be read is named with the reason,
//! and the rest is still reported.

use super::exit::Stop;
use crate::aws::accounts::{assume_role, role_arn};
use crate::aws::dry_run::DryRun;
use crate::aws::estate::{self, Caller};
use crate::aws::remediate::Planner;
use crate::aws::sdk::{self, Clients};
use crate::core::event::{Invocation, ResultToken, Trigger};
use crate::core::params::{Control, DEFAULT_CONCURRENCY, MAX_CONCURRENCY, RuleParams};
use crate::core::verdict::{Compliance, Reading};
use crate::error::{AccountError, ApiFailure, SetupError};
use crate::rule::{Handled, RunOptions};
use aws_config::SdkConfig;
use aws_smithy_types::DateTime;
use futures::StreamExt;
use tracing::Instrument;

mod output;

/// Accounts and regions read at once unless `--parallel` says otherwise.
pub const DEFAULT_PARALLEL: u16 = 4;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// JSON lines instead of a table (each with its AccountId and Region)
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV (RFC 4180, with a header row) instead of a table
    #[arg(long)]
    csv: bool,
    /// The strict Security Hub reading: only an embedded job definition's flag counts
    #[arg(long)]
    strict: bool,
    /// Judge the standalone job definitions instead (SageMaker.11, .12 and their twins)
    #[arg(long)]
    job_definitions: bool,
    /// Describes in flight at once, in each account and region
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY as u16,
          value_parser = clap::value_parser!(u16).range(1..=MAX_CONCURRENCY as i64))]
    concurrency: u16,
    /// Regions to read, comma-separated, or `all` for every region each account has enabled
    /// (default: the configured region)
    #[arg(long, value_delimiter = ',', value_parser = region_name)]
    regions: Vec<String>,
    /// Accounts to read, comma-separated 12-digit ids (default: the caller's)
    #[arg(long, value_delimiter = ',', value_parser = account_id, conflicts_with = "organization")]
    accounts: Vec<String>,
    /// Every active account of the organization (organizations:ListAccounts)
    #[arg(long)]
    organization: bool,
    /// The role to assume in each account but the caller's own (a name, with its path if any)
    #[arg(long, value_parser = role_name)]
    role: Option<String>,
    /// Accounts and regions read at once
    #[arg(long, default_value_t = DEFAULT_PARALLEL,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    parallel: u16,
}

/// How the rows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

fn account_id(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.len() == 12 && value.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err("an account id is 12 digits".into())
    }
}

fn region_name(value: &str) -> Result<String, String> {
    let value = value.trim();
    let valid = !value.is_empty()
        && value
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err("a region name such as eu-west-1, or all".into())
    }
}

fn role_name(value: &str) -> Result<String, String> {
    let value = value.trim().trim_start_matches('/');
    let valid = !value.is_empty()
        && !value.starts_with("arn:")
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(
            "a role name (with its path if any), not an ARN: the account comes from --accounts"
                .into(),
        )
    }
}

/// One account and region to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub account: String,
    pub region: String,
}

/// What reading one account and region gave.
pub enum Read {
    /// The sweep ran; its report says whether every resource was judged.
    Swept(Box<Handled>),
    /// Nothing could be read there, and why.
    Unread(String),
}

pub struct TargetResult {
    pub target: Target,
    pub read: Read,
}

impl TargetResult {
    /// Whether everything there was read and judged.
    pub fn complete(&self) -> bool {
        matches!(&self.read, Read::Swept(handled) if handled.report.is_complete())
    }

    pub fn non_compliant(&self) -> usize {
        match &self.read {
            Read::Swept(handled) => handled.report.of(Compliance::NonCompliant),
            Read::Unread(_) => 0,
        }
    }
}

/// The audit's exit code: whether everything was read, and whether anything is NON_COMPLIANT.
/// (2, bad input, is decided before anything is read.)
pub fn exit_code(everything_read: bool, non_compliant: bool) -> i32 {
    match (everything_read, non_compliant) {
        (true, false) => 0,
        (false, false) => 1,
        (true, true) => 3,
        (false, true) => 4,
    }
}

/// Runs the audit and returns the exit code.
pub async fn run(args: AuditArgs) -> Result<i32, Stop> {
    let format = match (args.json, args.csv) {
        (true, _) => Format::Json,
        (_, true) => Format::Csv,
        _ => Format::Table,
    };
    let control = if args.job_definitions {
        Control::JobDefinitions
    } else {
        Control::MonitoringSchedules
    };
    let invocation = audit_invocation(&args, control);
    let home = sdk::load().await?;
    let caller = estate::caller(&home.sdk_config)
        .await
        .map_err(AccountError::Caller)?;
    let accounts = if args.organization {
        estate::organization_accounts(&home.sdk_config)
            .await
            .map_err(AccountError::Organization)?
    } else if args.accounts.is_empty() {
        vec![caller.account.clone()]
    } else {
        dedup(args.accounts.clone())
    };
    let others: Vec<&str> = accounts
        .iter()
        .filter(|account| **account != caller.account)
        .map(String::as_str)
        .collect();
    if args.role.is_none() && !others.is_empty() {
        return Err(SetupError::NeedsRole {
            accounts: others.join(", "),
        }
        .into());
    }
    let regions = Regions::from_args(&args.regions, &home.sdk_config);
    let estate = Estate {
        home: &home,
        caller: &caller,
        role: args.role.as_deref(),
        regions: &regions,
    };
    let single = accounts.len() == 1 && regions.is_single();
    let parallel = usize::from(args.parallel);
    // Each account's credentials and regions first (a role assumed once per account), then
    // every account and region, `parallel` at a time, in the order they were named.
    let prepared: Vec<Vec<Prepared>> = futures::stream::iter(&accounts)
        .map(|account| estate.prepare(account))
        .buffered(parallel)
        .collect()
        .await;
    let options = RunOptions {
        keep_rows: true,
        ..RunOptions::default()
    };
    let results: Vec<TargetResult> = futures::stream::iter(prepared.into_iter().flatten())
        .map(|prepared| sweep(prepared, &invocation, &options))
        .buffered(parallel)
        .collect()
        .await;
    let mut out = std::io::stdout().lock();
    output::print(
        &mut out,
        &mut std::io::stderr(),
        &results,
        control,
        format,
        single,
    )?;
    let everything_read = results.iter().all(TargetResult::complete);
    let non_compliant = results.iter().any(|result| result.non_compliant() > 0);
    Ok(exit_code(everything_read, non_compliant))
}

fn dedup(mut ids: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    ids
}

fn audit_invocation(args: &AuditArgs, control: Control) -> Invocation {
    Invocation {
        trigger: Trigger::Periodic {
            notified_at: DateTime::from(std::time::SystemTime::now()),
        },
        params: RuleParams {
            reading: if args.strict {
                Reading::Literal
            } else {
                Reading::Resolved
            },
            concurrency: usize::from(args.concurrency),
            control,
            ..RuleParams::default()
        },
        result_token: ResultToken::TestMode,
        rule_name: None,
        account_id: None,
        execution_role_arn: None,
        left_scope: false,
    }
}

/// Which regions each account is read in.
enum Regions {
    Named(Vec<String>),
    /// Every region the account has enabled, asked of each account.
    AllEnabled,
}

impl Regions {
    fn from_args(named: &[String], home: &SdkConfig) -> Regions {
        if named.iter().any(|region| region == "all") {
            return Regions::AllEnabled;
        }
        if named.is_empty() {
            let current = home.region().map(ToString::to_string).unwrap_or_default();
            return Regions::Named(vec![current]);
        }
        Regions::Named(dedup(named.to_vec()))
    }

    fn is_single(&self) -> bool {
        matches!(self, Regions::Named(regions) if regions.len() == 1)
    }
}

/// What every account is read with.
struct Estate<'a> {
    home: &'a Clients,
    caller: &'a Caller,
    role: Option<&'a str>,
    regions: &'a Regions,
}

/// One account and region, ready to sweep or already known to be unreadable.
struct Prepared {
    target: Target,
    ready: Result<(Clients, Option<String>), String>,
}

impl Estate<'_> {
    /// The account's credentials (the caller's own in its own account, else the role) and its
    /// regions; an account that cannot be entered is one unreadable entry per region named, or
    /// one for all its regions.
    async fn prepare(&self, account: &str) -> Vec<Prepared> {
        let unread = |regions: &[String], reason: String| -> Vec<Prepared> {
            regions
                .iter()
                .map(|region| Prepared {
                    target: Target {
                        account: account.to_owned(),
                        region: region.clone(),
                    },
                    ready: Err(reason.clone()),
                })
                .collect()
        };
        let named = match self.regions {
            Regions::Named(regions) => regions.clone(),
            Regions::AllEnabled => vec!["all".to_owned()],
        };
        let (config, role) = match self.credentials(account).await {
            Ok(found) => found,
            Err(error) => return unread(&named, error.to_string()),
        };
        let regions = match self.regions {
            Regions::Named(regions) => regions.clone(),
            Regions::AllEnabled => match estate::enabled_regions(&config).await {
                Ok(regions) => regions,
                Err(failure) => {
                    return unread(
                        &named,
                        format!(
                            "{failure}: cannot tell which regions are enabled (account:ListRegions)"
                        ),
                    );
                }
            },
        };
        regions
            .into_iter()
            .map(|region| Prepared {
                ready: Ok((
                    estate::clients_in(&config, &region, self.home),
                    role.clone(),
                )),
                target: Target {
                    account: account.to_owned(),
                    region,
                },
            })
            .collect()
    }

    async fn credentials(
        &self,
        account: &str,
    ) -> Result<(SdkConfig, Option<String>), AccountError> {
        let home = &self.home.sdk_config;
        let role = match self.role {
            Some(name) if account != self.caller.account => name,
            _ => return Ok((home.clone(), None)),
        };
        let arn = role_arn(&self.caller.partition, account, role);
        let config = assume_role(home, &arn).await?;
        Ok((config, Some(arn)))
    }
}

/// Sweeps one account and region, writing nothing.
async fn sweep(prepared: Prepared, invocation: &Invocation, options: &RunOptions) -> TargetResult {
    let Prepared { target, ready } = prepared;
    // At WARN, so that the warnings of one account and region say where they come from at the
    // command line's default verbosity.
    let span = tracing::warn_span!("target", account = %target.account, region = %target.region);
    let read = async {
        let (clients, role) = match ready {
            Ok(ready) => ready,
            Err(reason) => return Read::Unread(reason),
        };
        let planner = Planner::of(&clients);
        let sink = DryRun::new(false);
        let handled = super::handle(&clients, &sink, planner, invocation, options, role).await;
        match handled {
            Ok(handled) => {
                handled.report.log("command-line");
                unread_reason(&handled, &target)
                    .map_or_else(|| Read::Swept(Box::new(handled)), Read::Unread)
            }
            Err(error) => Read::Unread(error.to_string()),
        }
    }
    .instrument(span)
    .await;
    TargetResult { target, read }
}

/// A sweep whose listing failed before it found anything read nothing: say why, and what an
/// invalid token in a region usually means.
fn unread_reason(handled: &Handled, target: &Target) -> Option<String> {
    let report = &handled.report;
    let failure: &ApiFailure = report.sweep.list_failure.as_ref()?;
    // The failed listing is the one unjudged entry when it failed on its first page.
    if report.judged() > 0 || report.unjudged.len() > 1 {
        return None;
    }
    let invalid_token = matches!(
        failure.code.as_deref(),
        Some("UnrecognizedClientException" | "InvalidClientTokenId")
    );
    Some(if invalid_token {
        format!(
            "{}; is {} enabled in account {}? (--regions all reads only the regions each account has enabled)",
            failure.to_string().trim_end_matches('.'),
            target.region,
            target.account
        )
    } else {
        failure.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_says_what_was_read_and_what_was_found() {
        assert_eq!(exit_code(true, false), 0);
        assert_eq!(exit_code(false, false), 1);
        assert_eq!(exit_code(true, true), 3);
        assert_eq!(exit_code(false, true), 4);
    }

    #[test]
    fn names_are_checked_before_anything_is_read() {
        assert_eq!(account_id(" 111111111111").unwrap(), "111111111111");
        assert!(account_id("11111111111").is_err());
        assert!(account_id("11111111111a").is_err());
        assert_eq!(region_name("eu-west-1").unwrap(), "eu-west-1");
        assert!(region_name("EU West").is_err());
        assert_eq!(role_name("/ops/sm14-reader").unwrap(), "ops/sm14-reader");
        assert!(role_name("arn:aws:iam::111111111111:role/r").is_err());
        assert!(role_name("a role").is_err());
    }
}
