//! What the fake holds: each account's resources and the results Config holds for them, the
//! credentials it accepts, the faults it injects, and the record of every call it was asked,
//! which tests read back.

use crate::faults::{Dice, Faults, Injected, RateLimiter};
use crate::seed::{self, DEFAULT_ACCESS_KEY, DEFAULT_ACCOUNT, DEFAULT_SECRET_KEY, Seed};
use crate::{aggregator, securityhub};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// One account's resources and what Config holds for it.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub schedules: BTreeMap<String, Value>,
    /// By (kind, name): the same name can exist under several kinds.
    pub job_definitions: BTreeMap<(String, String), Value>,
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    pub config_items: Vec<Value>,
    pub discovered: Option<Vec<Value>>,
    /// Config records resources under their ARNs (as it does for these types) instead of the
    /// fake's own ids.
    pub config_ids_are_arns: bool,
    /// Config's results, by (rule name, resource type, resource id).
    pub results: BTreeMap<(String, String, String), Value>,
    /// Security Hub's findings here (ASFF), as GetFindings returns them.
    pub findings: Vec<Value>,
    pub security_hub_disabled: bool,
    /// Resource types the recorder does not record here: an aggregator shows none of them.
    pub unrecorded_types: Vec<String>,
}

/// A credential the fake accepts, and the account it acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub secret: String,
    pub session_token: Option<String>,
    pub account: String,
    /// After this, calls signed with it are refused with `ExpiredTokenException`.
    pub expires: Option<std::time::SystemTime>,
}

/// One call as it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRecord {
    pub operation: String,
    pub access_key: String,
    pub account: String,
    pub region: String,
    /// The fault that answered it, `Injected::None` when its handler did.
    pub injected: Injected,
    #[serde(skip)]
    pub arrived: std::time::Instant,
    /// The `x-amzn-RequestId` of its answer.
    pub request_id: String,
}

/// One evaluation Config accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedEvaluation {
    pub account: String,
    pub access_key: String,
    pub result_token: String,
    pub test_mode: bool,
    pub evaluation: Value,
}

/// One successful PutEvaluations call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PutRecord {
    pub account: String,
    pub evaluations: usize,
    pub failed: usize,
}

#[derive(Debug)]
pub struct State {
    pub accounts: BTreeMap<String, Account>,
    pub credentials: HashMap<String, Credential>,
    pub faults: Faults,
    pub dice: Dice,
    pub limiter: RateLimiter,
    pub calls: Vec<CallRecord>,
    pub evaluations: Vec<RecordedEvaluation>,
    pub puts: Vec<PutRecord>,
    /// Role ARNs whose AssumeRole is refused with AccessDenied.
    pub denied_roles: Vec<String>,
    /// Every role ARN AssumeRole was asked for, in order.
    pub assumed_roles: Vec<String>,
    /// How long credentials from AssumeRole last (STS's own default, an hour, when unset).
    pub credential_lifetime: Option<Duration>,
    /// Requests (UpdateMonitoringSchedule, Create*JobDefinition) as received.
    pub writes: Vec<(String, Value)>,
    /// Result tokens Config issued, and the rule each reports for. `fake-token:<rule>` tokens
    /// are valid too; any other token is refused, as Config refuses one it did not issue.
    pub result_tokens: HashMap<String, String>,
    /// Regions this fake serves (the SigV4 scope names one); a call for another is refused,
    /// as one to a region the account has not enabled is.
    pub regions: Vec<String>,
    /// Regions the account has not enabled (ListRegions says so; calls there are refused).
    pub disabled_regions: Vec<String>,
    /// Calls in flight now, and the most ever at once, per operation.
    pub in_flight: HashMap<String, (usize, usize)>,
    /// When each call reached the fake, per operation, to measure the rate it was sent at.
    pub arrivals: HashMap<String, Vec<std::time::Instant>>,
    /// Calls whose client closed the connection before the answer, per operation.
    pub abandoned: BTreeMap<String, usize>,
    /// Calls refused because their credentials had expired.
    pub expired_calls: usize,
    /// Lifetimes of the next AssumeRole credentials, in order; then `credential_lifetime`.
    pub next_lifetimes: std::collections::VecDeque<Duration>,
    /// Whether the `Faults::hold_until` gate has opened (it stays open).
    pub gate_open: bool,
    /// Evaluations accepted but not recorded: older than the result Config held.
    pub superseded: Vec<Value>,
    /// Config aggregators over every account and region the fake holds.
    pub aggregators: aggregator::Aggregators,
}

impl State {
    pub fn new(seed: Seed) -> Result<State, String> {
        let mut accounts = BTreeMap::new();
        let mut findings = 0;
        accounts.insert(
            DEFAULT_ACCOUNT.to_owned(),
            account_from(DEFAULT_ACCOUNT, seed.account, &mut findings)?,
        );
        for (id, account) in seed.accounts {
            let account = account_from(&id, account, &mut findings)?;
            accounts.insert(id, account);
        }
        let mut credentials = HashMap::new();
        credentials.insert(
            DEFAULT_ACCESS_KEY.to_owned(),
            Credential {
                secret: DEFAULT_SECRET_KEY.to_owned(),
                session_token: None,
                account: DEFAULT_ACCOUNT.to_owned(),
                expires: None,
            },
        );
        Ok(State {
            accounts,
            credentials,
            faults: Faults::default(),
            dice: Dice::new(1),
            limiter: RateLimiter::default(),
            calls: Vec::new(),
            evaluations: Vec::new(),
            puts: Vec::new(),
            denied_roles: Vec::new(),
            assumed_roles: Vec::new(),
            credential_lifetime: None,
            writes: Vec::new(),
            result_tokens: seed::ISSUED_TOKENS
                .iter()
                .map(|token| ((*token).to_owned(), String::new()))
                .collect(),
            regions: std::iter::once(seed::DEFAULT_REGION.to_owned())
                .chain(seed.regions)
                .collect(),
            disabled_regions: seed
                .disabled_regions
                .unwrap_or_else(|| vec!["ap-east-1".to_owned()]),
            in_flight: HashMap::new(),
            arrivals: HashMap::new(),
            abandoned: BTreeMap::new(),
            expired_calls: 0,
            next_lifetimes: Default::default(),
            gate_open: false,
            superseded: Vec::new(),
            aggregators: aggregator::Aggregators::default(),
        })
    }

    pub fn account(&mut self, id: &str) -> &mut Account {
        self.accounts.entry(id.to_owned()).or_default()
    }

    /// Every Security Hub finding, of every account and region.
    pub fn findings(&self) -> Vec<Value> {
        self.accounts
            .values()
            .flat_map(|account| account.findings.iter().cloned())
            .collect()
    }
}

/// An account's (or, under `id/region`, an account's region's) resources from its seed;
/// `findings` numbers the seeded findings across accounts.
fn account_from(
    key: &str,
    seed: seed::AccountSeed,
    findings: &mut usize,
) -> Result<Account, String> {
    let mut account = Account::default();
    let (id, region) = key.split_once('/').unwrap_or((key, seed::DEFAULT_REGION));
    for finding in seed.findings {
        *findings += 1;
        account
            .findings
            .push(securityhub::complete(finding, id, region, *findings)?);
    }
    account.security_hub_disabled = seed.security_hub_disabled;
    for schedule in seed.schedules {
        let schedule = seed::normalise(schedule);
        let name = schedule
            .get("MonitoringScheduleName")
            .and_then(Value::as_str)
            .ok_or("a seeded schedule has no MonitoringScheduleName")?
            .to_owned();
        account.schedules.insert(name, schedule);
    }
    for definition in seed.job_definitions {
        let mut definition = seed::normalise(definition);
        let kind = seed::job_definition_kind(&mut definition)
            .ok_or("a seeded job definition has no recognisable kind")?;
        let name = definition
            .get("JobDefinitionName")
            .and_then(Value::as_str)
            .ok_or("a seeded job definition has no JobDefinitionName")?
            .to_owned();
        account.job_definitions.insert((kind, name), definition);
    }
    account.tags = seed.tags;
    account.config_items = seed.config_items;
    account.discovered = seed.discovered;
    account.config_ids_are_arns = seed.config_ids_are_arns;
    account.unrecorded_types = seed.unrecorded_types;
    for result in seed.results {
        let field = |name: &str| {
            result
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        account.results.insert(
            (
                field("ConfigRuleName"),
                field("ResourceType"),
                field("ResourceId"),
            ),
            result.clone(),
        );
    }
    Ok(account)
}
