//! `audit --aggregator` against the fake's Config aggregator over an organization of three
//! accounts in two regions: every kind of schedule judged from what the aggregator recorded,
//! named job definitions resolved in the schedule's own account and region only, UNRESOLVED
//! where a type is not recorded, drift and coverage beside the rule's results, unprocessed
//! identifiers retried then named; and nothing written, no role assumed, only the aggregator's
//! three read operations called.

use crate::support::*;
use fake_aws::FakeAws;
use fake_aws::seed::Seed;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const B: &str = "222222222222";
const C: &str = "333333333333";
const US: &str = "us-east-1";
const EU: &str = "eu-west-1";
const AGGREGATOR: &str = "org-aggregator";
const RULE: &str = "OrgConfigRule-sm14-dbgzf8ba";
const AGGREGATOR_OPERATIONS: [&str; 3] = [
    "ListAggregateDiscoveredResources",
    "BatchGetAggregateResourceConfig",
    "GetAggregateComplianceDetailsByConfigRule",
];

fn embedded(name: &str, network: Value) -> Value {
    json!({"MonitoringScheduleName": name, "MonitoringScheduleStatus": "Scheduled",
           "MonitoringScheduleConfig": {"MonitoringType": "DataQuality",
               "MonitoringJobDefinition": network}})
}

fn named(name: &str, job_definition: &str, kind: Option<&str>) -> Value {
    let mut config = json!({"MonitoringJobDefinitionName": job_definition});
    if let Some(kind) = kind {
        config["MonitoringType"] = json!(kind);
    }
    json!({"MonitoringScheduleName": name, "MonitoringScheduleStatus": "Scheduled",
           "MonitoringScheduleConfig": config})
}

fn job_definition(kind: &str, name: &str, isolated: bool) -> Value {
    json!({"MonitoringType": kind, "JobDefinitionName": name, "CreationTime": 1_793_000_000,
           "NetworkConfig": {"EnableNetworkIsolation": isolated}})
}

/// Every schedule of the organization: `(account, region, name, expected ComplianceType)`.
const EXPECTED: [(&str, &str, &str, &str); 13] = [
    (ACCOUNT, US, "home-isolated", "COMPLIANT"),
    (B, US, "b-bias-named", "NON_COMPLIANT"),
    (B, US, "b-dq-named", "COMPLIANT"),
    (B, US, "b-embedded-isolated", "COMPLIANT"),
    (B, US, "b-embedded-open", "NON_COMPLIANT"),
    (B, US, "b-explain-elsewhere", "NON_COMPLIANT"),
    (B, US, "b-missing", "NON_COMPLIANT"),
    (B, US, "b-no-network", "NON_COMPLIANT"),
    (B, US, "b-no-type", "NON_COMPLIANT"),
    (B, US, "b-quality-named", "COMPLIANT"),
    (B, EU, "b-eu-bias", "UNRESOLVED"),
    (B, EU, "b-eu-explain", "COMPLIANT"),
    (C, EU, "c-eu-strict", "COMPLIANT"),
];

fn result(name: &str, compliance: &str, recorded: u64) -> Value {
    let mut held = held(RULE, SCHEDULE_TYPE, &schedule_id(name), compliance);
    held["ResultRecordedTime"] = json!(recorded);
    held
}

/// Seconds since the epoch by the wall clock: the binary ages the rule's results by it too.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The organization. B in us-east-1 holds every kind of schedule; its ModelExplainability
/// `jd-x` exists only in eu-west-1, and its `jd-shared` is a DataQuality definition that is
/// isolated and a ModelBias one that is not. B's recorder in eu-west-1 does not record ModelBias
/// job definitions, and C's in us-east-1 does not record schedules at all (the rule found one
/// there). The rule holds a stale result, agreeing ones, none for some schedules, and none at
/// all in B's eu-west-1.
fn organization(rule_age_hours: u64) -> Seed {
    let recorded = now() - rule_age_hours * 3600;
    let accounts = json!({
        B: {
            "schedules": [
                embedded("b-embedded-isolated", json!({"NetworkConfig": {"EnableNetworkIsolation": true}})),
                embedded("b-embedded-open", json!({"NetworkConfig": {"EnableNetworkIsolation": false,
                    "VpcConfig": {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}}})),
                embedded("b-no-network", json!({})),
                json!({"MonitoringScheduleName": "b-missing", "MonitoringScheduleConfig": {}}),
                named("b-dq-named", "jd-shared", Some("DataQuality")),
                named("b-bias-named", "jd-shared", Some("ModelBias")),
                named("b-quality-named", "jd-q", Some("ModelQuality")),
                named("b-explain-elsewhere", "jd-x", Some("ModelExplainability")),
                named("b-no-type", "jd-shared", None),
            ],
            "job_definitions": [
                job_definition("DataQuality", "jd-shared", true),
                job_definition("ModelBias", "jd-shared", false),
                job_definition("ModelQuality", "jd-q", true),
                job_definition("ModelExplainability", "jd-other", true),
            ],
            "results": [
                result("b-embedded-isolated", "COMPLIANT", recorded),
                result("b-embedded-open", "COMPLIANT", recorded),
                result("b-dq-named", "COMPLIANT", now()),
                result("b-bias-named", "NON_COMPLIANT", now()),
            ],
        },
        format!("{B}/{EU}"): {
            "schedules": [
                named("b-eu-bias", "jd-shared", Some("ModelBias")),
                named("b-eu-explain", "jd-x", Some("ModelExplainability")),
            ],
            "job_definitions": [
                job_definition("ModelBias", "jd-shared", true),
                job_definition("ModelExplainability", "jd-x", true),
            ],
            "unrecorded_types": ["AWS::SageMaker::ModelBiasJobDefinition"],
        },
        C: {
            "schedules": [embedded("c-us-unrecorded", json!({"NetworkConfig": {"EnableNetworkIsolation": false}}))],
            "unrecorded_types": [SCHEDULE_TYPE],
            "results": [result("c-us-unrecorded", "NON_COMPLIANT", now())],
        },
        format!("{C}/{EU}"): {
            "schedules": [embedded("c-eu-strict", json!({"NetworkConfig": {"EnableNetworkIsolation": true}}))],
            "results": [result("c-eu-strict", "COMPLIANT", now())],
        },
    });
    Seed::from_json(
        &json!({
            "schedules": [embedded("home-isolated", json!({"NetworkConfig": {"EnableNetworkIsolation": true}}))],
            "results": [result("home-isolated", "COMPLIANT", now())],
            "accounts": accounts,
        })
        .to_string(),
    )
    .unwrap()
}

fn start_organization() -> FakeAws {
    let fake = start(organization(36));
    fake.with_state(|state| {
        state
            .aggregators
            .owners
            .insert(AGGREGATOR.into(), ACCOUNT.into())
    });
    fake
}

fn audit(fake: &FakeAws, args: &[&str]) -> Run {
    let mut all = vec!["audit", "--aggregator", AGGREGATOR];
    all.extend_from_slice(args);
    run(fake, &all, None, &[])
}

/// The schedule lines of a `--json` run, and its coverage lines by account and region.
fn split(run: &Run) -> (Vec<Value>, BTreeMap<(String, String), Value>) {
    let (coverage, lines): (Vec<Value>, Vec<Value>) = run
        .lines()
        .into_iter()
        .partition(|line| line.get("Coverage").is_some());
    let coverage = coverage
        .into_iter()
        .map(|line| {
            let row = line["Coverage"].clone();
            let at = (
                row["AccountId"].as_str().unwrap().to_owned(),
                row["Region"].as_str().unwrap().to_owned(),
            );
            (at, row)
        })
        .collect();
    (lines, coverage)
}

fn verdicts(lines: &[Value]) -> BTreeSet<(String, String, String, String)> {
    lines
        .iter()
        .map(|line| {
            let field = |name: &str| line[name].as_str().unwrap().to_owned();
            (
                field("AccountId"),
                field("Region"),
                field("MonitoringScheduleName"),
                field("ComplianceType"),
            )
        })
        .collect()
}

fn expected(keep: impl Fn(&str, &str) -> bool) -> BTreeSet<(String, String, String, String)> {
    EXPECTED
        .iter()
        .filter(|(account, region, ..)| keep(account, region))
        .map(|(a, r, n, c)| ((*a).into(), (*r).into(), (*n).into(), (*c).into()))
        .collect()
}

fn line<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|line| line["MonitoringScheduleName"] == name)
        .unwrap_or_else(|| panic!("no line for {name}"))
}

/// Writes, AssumeRole, and anything but the aggregator's reads: none of them.
fn assert_read_only(fake: &FakeAws) {
    assert!(fake.evaluations().is_empty());
    assert!(fake.with_state(|s| s.writes.is_empty()));
    assert!(fake.with_state(|s| s.assumed_roles.is_empty()));
    for call in fake.calls() {
        assert!(
            AGGREGATOR_OPERATIONS.contains(&call.operation.as_str()),
            "{call:?}"
        );
        assert_eq!(call.account, ACCOUNT, "every call is the caller's own");
    }
}

#[test]
fn every_kind_of_schedule_is_judged_with_job_definitions_of_its_own_account_and_region() {
    let fake = start_organization();
    let run = audit(&fake, &["--json"]);
    assert_eq!(
        run.code, 4,
        "NON_COMPLIANT found, and an UNRESOLVED schedule counts as not read: {}",
        run.stderr
    );
    let (lines, _) = split(&run);
    assert_eq!(verdicts(&lines), expected(|_, _| true));
    // Each line has exactly the issue's fields.
    for line in &lines {
        let keys: BTreeSet<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from([
                "AccountId",
                "Region",
                "MonitoringScheduleName",
                "ComplianceType",
                "Annotation"
            ])
        );
    }
    // The job definition of the same name but another kind is not taken; one in another region
    // is not found in this one.
    assert!(
        line(&lines, "b-bias-named")["Annotation"]
            .as_str()
            .unwrap()
            .starts_with("ModelBias job definition 'jd-shared' sets EnableNetworkIsolation=false"),
        "{}",
        line(&lines, "b-bias-named")
    );
    assert!(
        line(&lines, "b-explain-elsewhere")["Annotation"]
            .as_str()
            .unwrap()
            .contains("ModelExplainability job definition 'jd-x', which does not exist"),
        "{}",
        line(&lines, "b-explain-elsewhere")
    );
    assert!(
        line(&lines, "b-no-type")["Annotation"]
            .as_str()
            .unwrap()
            .contains("without a MonitoringType")
    );
    assert_read_only(&fake);
    assert!(
        run.stderr.contains(
            "TOTAL 6 account-region(s) (1 with coverage missing): 12 judged (6 COMPLIANT, 6 NON_COMPLIANT, 0 NOT_APPLICABLE), 1 unjudged"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_job_definition_type_not_recorded_there_is_unresolved_with_the_reason() {
    let fake = start_organization();
    let run = audit(&fake, &["--json", "--accounts", B, "--regions", EU]);
    assert_eq!(
        run.code, 1,
        "nothing NON_COMPLIANT, an UNRESOLVED schedule: {}",
        run.stderr
    );
    let (lines, coverage) = split(&run);
    assert_eq!(verdicts(&lines), expected(|a, r| a == B && r == EU));
    let reason = line(&lines, "b-eu-bias")["Annotation"].as_str().unwrap();
    assert_eq!(
        reason,
        format!(
            "Schedule names ModelBias job definition 'jd-shared', but no AWS::SageMaker::ModelBiasJobDefinition is recorded in account {B} region {EU}: the recorder may not record that type there, so its isolation is not guessed."
        )
    );
    assert_eq!(
        coverage[&(B.to_owned(), EU.to_owned())]["missing_types"],
        json!(["AWS::SageMaker::ModelBiasJobDefinition"])
    );
    assert_read_only(&fake);
}

#[test]
fn with_a_rule_each_line_carries_its_result_and_whether_it_agrees() {
    let fake = start_organization();
    let run = audit(&fake, &["--json", "--rule", RULE]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let (lines, _) = split(&run);
    let drift = |name: &str| {
        let line = line(&lines, name);
        (line["RuleResult"].clone(), line["Agrees"].clone())
    };
    // Agreeing, stale (the rule still says COMPLIANT), missed (no result at all).
    assert_eq!(
        drift("b-embedded-isolated"),
        (json!("COMPLIANT"), json!(true))
    );
    assert_eq!(drift("b-bias-named"), (json!("NON_COMPLIANT"), json!(true)));
    assert_eq!(drift("b-embedded-open"), (json!("COMPLIANT"), json!(false)));
    assert_eq!(drift("b-missing"), (Value::Null, json!(false)));
    // Nothing to agree with: unresolved.
    assert_eq!(drift("b-eu-bias"), (Value::Null, Value::Null));
    for line in &lines {
        assert_eq!(line.as_object().unwrap().len(), 7, "{line}");
    }
    // The rule was asked in every account and region, as the caller, of the aggregator.
    let asked: BTreeSet<(String, String)> = fake
        .calls()
        .into_iter()
        .filter(|c| c.operation == "GetAggregateComplianceDetailsByConfigRule")
        .map(|c| (c.account, c.region))
        .collect();
    assert_eq!(asked, BTreeSet::from([(ACCOUNT.to_owned(), US.to_owned())]));
    assert_read_only(&fake);
}

#[test]
fn coverage_names_where_the_rule_has_not_reported_types_not_recorded_and_the_results_age() {
    let fake = start_organization();
    let run = audit(&fake, &["--json", "--rule", RULE]);
    let (_, coverage) = split(&run);
    let at = |account: &str, region: &str| &coverage[&(account.to_owned(), region.to_owned())];
    // Every account seen, in every region seen.
    assert_eq!(coverage.len(), 6);
    let b_us = at(B, US);
    assert_eq!(
        *b_us,
        json!({"AccountId": B, "Region": US, "schedules": 9, "judged": 9, "rule_results": 4,
               "oldest_result_age_hours": 36.0, "missing_types": [], "rule_deployed": true})
    );
    // Deployed or not, a rule that has not reported there looks the same.
    let b_eu = at(B, EU);
    assert_eq!(b_eu["rule_deployed"], false);
    assert_eq!(b_eu["rule_results"], 0);
    assert_eq!(b_eu["oldest_result_age_hours"], Value::Null);
    assert_eq!(
        (b_eu["schedules"].clone(), b_eu["judged"].clone()),
        (json!(2), json!(1))
    );
    // The rule judged a schedule in C's us-east-1 that the aggregator does not hold.
    let c_us = at(C, US);
    assert_eq!(c_us["missing_types"], json!([SCHEDULE_TYPE]));
    assert_eq!(
        (c_us["schedules"].clone(), c_us["rule_results"].clone()),
        (json!(0), json!(1))
    );
    // Where nothing is held and nothing reported.
    let home_eu = at(ACCOUNT, EU);
    assert_eq!(home_eu["schedules"], 0);
    assert_eq!(home_eu["rule_deployed"], false);
    // Without a rule, nothing is said about one.
    let plain = audit(&fake, &["--json"]);
    let (_, coverage) = split(&plain);
    for row in coverage.values() {
        assert_eq!(row["rule_results"], Value::Null, "{row}");
        assert_eq!(row["rule_deployed"], Value::Null, "{row}");
    }
}

#[test]
fn unprocessed_identifiers_are_asked_again_then_named() {
    let fake = start_organization();
    fake.with_state(|state| {
        let unprocessed = &mut state.aggregators.unprocessed;
        unprocessed.insert(schedule_id("b-embedded-open"), 2);
        unprocessed.insert(schedule_id("b-dq-named"), usize::MAX);
    });
    let run = audit(&fake, &["--json", "--accounts", B, "--regions", US]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let (lines, _) = split(&run);
    // Twice unprocessed, then returned: judged as if nothing had happened.
    assert_eq!(
        line(&lines, "b-embedded-open")["ComplianceType"],
        "NON_COMPLIANT"
    );
    let named = line(&lines, "b-dq-named");
    assert_eq!(named["ComplianceType"], "UNRESOLVED");
    assert_eq!(
        named["Annotation"],
        "Its configuration item was left unprocessed by BatchGetAggregateResourceConfig 5 time(s) in a row."
    );
    // The schedules' batch five times (the last four with only what was left), then one for the
    // job definitions they name.
    assert_eq!(fake.call_counts()["BatchGetAggregateResourceConfig"], 6);
}

#[test]
fn accounts_and_regions_narrow_what_is_listed_and_reported() {
    let fake = start_organization();
    let run = audit(
        &fake,
        &["--json", "--accounts", &format!("{B},{C}"), "--regions", US],
    );
    let (lines, coverage) = split(&run);
    assert_eq!(
        verdicts(&lines),
        expected(|a, r| (a == B || a == C) && r == US)
    );
    assert_eq!(
        coverage.keys().cloned().collect::<Vec<_>>(),
        [(B.to_owned(), US.to_owned()), (C.to_owned(), US.to_owned())]
    );
    assert_eq!(
        run.code, 3,
        "NON_COMPLIANT, everything read: {}",
        run.stderr
    );
    // Five types, each listed in each account and region named.
    assert_eq!(
        fake.call_counts()["ListAggregateDiscoveredResources"],
        5 * 2
    );
    let home = audit(&fake, &["--json", "--accounts", ACCOUNT, "--regions", US]);
    assert_eq!(
        home.code, 0,
        "everything read, nothing NON_COMPLIANT: {}",
        home.stderr
    );
}

#[test]
fn a_thousand_schedules_take_their_pages_and_one_batch_a_hundred() {
    let (seed, expected) = synthetic_account(1_000);
    let fake = start(seed);
    fake.with_state(|state| {
        state
            .aggregators
            .owners
            .insert(AGGREGATOR.into(), ACCOUNT.into())
    });
    let run = audit(&fake, &["--json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let (lines, _) = split(&run);
    let found: BTreeMap<String, String> = lines
        .iter()
        .map(|l| {
            (
                schedule_id(l["MonitoringScheduleName"].as_str().unwrap()),
                l["ComplianceType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let wanted: BTreeMap<String, String> = expected
        .into_iter()
        .map(|(id, c)| (id, c.to_owned()))
        .collect();
    assert_eq!(found, wanted);
    // 10 pages of schedules, one of each of the four job-definition types (50 DataQuality and
    // 50 ModelBias definitions, none of the two others), ten batches of schedules, and one of
    // the 50 job definitions the 500 named schedules name (25 of each kind).
    let counts = served(&fake);
    assert_eq!(counts["ListAggregateDiscoveredResources"], 10 + 4);
    assert_eq!(counts["BatchGetAggregateResourceConfig"], 10 + 1);
}

#[test]
fn the_table_ends_with_coverage_and_a_grid_and_csv_has_both_tables() {
    let fake = start_organization();
    let run = audit(&fake, &["--rule", RULE]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert!(
        rows[0].starts_with("VERDICT") && rows[0].contains("RULE") && rows[0].contains("AGREES"),
        "{}",
        rows[0]
    );
    let stale = rows
        .iter()
        .find(|row| row.contains("b-embedded-open"))
        .unwrap();
    let cells: Vec<&str> = stale.split_whitespace().collect();
    assert_eq!(
        &cells[..6],
        ["NON_COMPLIANT", B, US, "b-embedded-open", "COMPLIANT", "no"]
    );
    let coverage = |account: &str, region: &str| {
        rows.iter()
            .find(|row| {
                let cells: Vec<&str> = row.split_whitespace().collect();
                cells.len() > 2
                    && cells[1] == account
                    && cells[2] == region
                    && (cells[0] == "COVERED" || cells[0] == "MISSING")
            })
            .unwrap_or_else(|| panic!("no coverage row for {account} {region}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        coverage(B, US),
        ["COVERED", B, US, "9", "9", "4", "36", "yes", "-"]
    );
    assert_eq!(
        coverage(B, EU),
        [
            "MISSING",
            B,
            EU,
            "2",
            "1",
            "0",
            "-",
            "no",
            "AWS::SageMaker::ModelBiasJobDefinition"
        ]
    );
    // The grid: accounts by regions, NON_COMPLIANT/schedules, ! where coverage is missing.
    let grid = rows.iter().position(|row| row.starts_with("GRID")).unwrap();
    assert_eq!(
        rows[grid + 1].split_whitespace().collect::<Vec<_>>(),
        ["ACCOUNT", EU, US]
    );
    let grid_row = |account: &str| {
        rows[grid + 1..]
            .iter()
            .find(|row| row.starts_with(account))
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(grid_row(ACCOUNT), [ACCOUNT, "0/0", "!", "0/1"]);
    assert_eq!(grid_row(B), [B, "0/2", "!", "6/9"]);
    assert_eq!(grid_row(C), [C, "0/1", "0/0", "!"]);
    assert!(
        rows.last()
            .unwrap()
            .starts_with("TOTAL 6 account-region(s)")
    );

    let csv = audit(&fake, &["--csv", "--rule", RULE]);
    let (schedules, coverage) = csv.stdout.split_once("\n\n").unwrap();
    let schedules: Vec<&str> = schedules.lines().collect();
    assert_eq!(
        schedules[0],
        "AccountId,Region,MonitoringScheduleName,ComplianceType,Annotation,RuleResult,Agrees"
    );
    assert_eq!(schedules.len(), 1 + EXPECTED.len());
    assert!(
        schedules.iter().any(
            |row| row.starts_with(&format!("{B},{US},b-missing,NON_COMPLIANT,"))
                && row.ends_with(",,false")
        ),
        "{}",
        csv.stdout
    );
    let coverage: Vec<&str> = coverage.lines().collect();
    assert_eq!(
        coverage[0],
        "AccountId,Region,schedules,judged,rule_results,oldest_result_age_hours,missing_types,rule_deployed"
    );
    assert!(coverage.contains(
        &format!("{B},{EU},2,1,0,,AWS::SageMaker::ModelBiasJobDefinition,false").as_str()
    ));
    assert_eq!(coverage.len(), 1 + 6);
    // The total and nothing else on stderr.
    assert!(
        csv.stderr.trim_end().ends_with("attempts)"),
        "{}",
        csv.stderr
    );
}

#[test]
fn names_from_the_aggregator_reach_no_output_unescaped() {
    let names = [
        "evil\r\u{1b}[2K\n::error::forged\u{9b}\u{202e}",
        "=HYPERLINK(\"x\")",
    ];
    let schedules: Vec<Value> = names
        .iter()
        .map(|name| {
            embedded(
                name,
                json!({"NetworkConfig": {"EnableNetworkIsolation": false}}),
            )
        })
        .collect();
    let fake = start(Seed::from_json(&json!({ "schedules": schedules }).to_string()).unwrap());
    fake.with_state(|state| {
        state
            .aggregators
            .owners
            .insert(AGGREGATOR.into(), ACCOUNT.into())
    });
    for format in [&[][..], &["--json"][..], &["--csv"][..]] {
        let run = audit(&fake, format);
        assert_eq!(run.code, 3, "{format:?}: {}", run.stderr);
        assert_inert(&run.stdout, &format!("{format:?} stdout"));
        assert_inert(&run.stderr, &format!("{format:?} stderr"));
    }
    let run = audit(&fake, &["--json"]);
    let (lines, _) = split(&run);
    let listed: BTreeSet<&str> = lines
        .iter()
        .map(|l| l["MonitoringScheduleName"].as_str().unwrap())
        .collect();
    assert_eq!(listed, names.into_iter().collect());
    let csv = audit(&fake, &["--csv"]);
    assert!(
        csv.stdout
            .contains(&format!("{ACCOUNT},{US},\"'=HYPERLINK(\"\"x\"\")\",")),
        "{}",
        csv.stdout
    );
}

#[test]
fn a_wrong_aggregator_or_bad_arguments_are_said_plainly() {
    let fake = start_organization();
    let missing = run(
        &fake,
        &["audit", "--aggregator", "no-such-aggregator", "--json"],
        None,
        &[],
    );
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    for resource_type in [SCHEDULE_TYPE, "AWS::SageMaker::ModelBiasJobDefinition"] {
        assert!(
            missing.stderr.contains(&format!(
                "error: cannot list {resource_type} in every account and region: ListAggregateDiscoveredResources: refused (NoSuchConfigurationAggregatorException): The configuration aggregator does not exist."
            )),
            "{}",
            missing.stderr
        );
    }
    for bad in [
        vec!["audit", "--rule", RULE],
        vec!["audit", "--aggregator", "org aggregator"],
        vec!["audit", "--aggregator", AGGREGATOR, "--role", "r"],
        vec!["audit", "--aggregator", AGGREGATOR, "--organization"],
        vec!["audit", "--aggregator", AGGREGATOR, "--job-definitions"],
        vec![
            "audit",
            "--aggregator",
            AGGREGATOR,
            "--rule",
            &"r".repeat(129),
        ],
    ] {
        let run = run(&fake, &bad, None, &[]);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
    }
    let before = fake.calls().len();
    assert_eq!(before, 5, "only the first run called anything");
}
