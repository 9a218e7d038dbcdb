//! `audit --aggregator` against the local fake's Config aggregator, and beside it, in the same
//! run and at the same latency per call, `audit --organization --role` over the same estate.
//!
//! `cargo bench --bench aggregator` (or `make bench`). Settings by environment:
//! `BENCH_AGG_LATENCY_MS` (default 20), `BENCH_AGG_SCHEDULES` (schedules in each account and
//! region, 25), `BENCH_AGG_CALLS_ACCOUNTS` (accounts of the call count, 100),
//! `BENCH_AGG_ACCOUNTS` (accounts of the side-by-side run, 1000; 0 to skip).
//!
//! Every figure comes with its baseline from the same run: calls against the fewest the
//! aggregator API allows (its pages plus a batch per hundred items), and wall time against the
//! member-role audit of the same estate.

#[path = "../tests/wire/support/mod.rs"]
mod support;

use fake_aws::FakeAws;
use fake_aws::faults::Faults;
use fake_aws::seed::Seed;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::*;

const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"];
const AGGREGATOR: &str = "org-aggregator";
const ROLE: &str = "sm14-audit";
/// The job definitions of each account and region: `(kind, name, isolated)`.
const JOB_DEFINITIONS: [(&str, &str, bool); 6] = [
    ("DataQuality", "jd-0", true),
    ("DataQuality", "jd-1", false),
    ("ModelBias", "jd-0", false),
    ("ModelBias", "jd-1", true),
    ("ModelQuality", "jd-0", true),
    ("ModelExplainability", "jd-0", false),
];

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(default)
}

/// Where a schedule is and what it is called.
type Key = (String, String, String);

/// `accounts` accounts (the caller's first) in four regions, `per_place` schedules in each: a
/// fifth embedded and isolated, a fifth embedded and open, the rest naming one of the job
/// definitions above; and the verdict each schedule should get.
fn estate(accounts: usize, per_place: usize) -> (Seed, BTreeMap<Key, &'static str>) {
    let mut places = serde_json::Map::new();
    let mut expected = BTreeMap::new();
    for a in 0..accounts {
        let account = if a == 0 {
            ACCOUNT.to_owned()
        } else {
            format!("{}", 200_000_000_000u64 + a as u64)
        };
        for region in REGIONS {
            let mut schedules = Vec::new();
            for i in 0..per_place {
                let name = format!("s-{i:03}");
                let (config, verdict) = match i % 5 {
                    0 => (
                        json!({"MonitoringType": "DataQuality", "MonitoringJobDefinition":
                            {"NetworkConfig": {"EnableNetworkIsolation": true}}}),
                        "COMPLIANT",
                    ),
                    1 => (
                        json!({"MonitoringType": "DataQuality", "MonitoringJobDefinition":
                            {"NetworkConfig": {"EnableNetworkIsolation": false}}}),
                        "NON_COMPLIANT",
                    ),
                    shape => {
                        let (kind, name) = match (shape, i % 10) {
                            (2, _) => ("DataQuality", format!("jd-{}", i % 2)),
                            (3, _) => ("ModelBias", format!("jd-{}", i % 2)),
                            (_, 4) => ("ModelQuality", "jd-0".to_owned()),
                            _ => ("ModelExplainability", "jd-0".to_owned()),
                        };
                        let isolated = JOB_DEFINITIONS
                            .iter()
                            .any(|(k, n, iso)| *k == kind && *n == name && *iso);
                        (
                            json!({"MonitoringType": kind, "MonitoringJobDefinitionName": name}),
                            if isolated {
                                "COMPLIANT"
                            } else {
                                "NON_COMPLIANT"
                            },
                        )
                    }
                };
                expected.insert((account.clone(), region.to_owned(), name.clone()), verdict);
                schedules.push(json!({
                    "MonitoringScheduleName": name,
                    "MonitoringScheduleArn": format!("arn:aws:sagemaker:{region}:{account}:monitoring-schedule/{name}"),
                    "MonitoringScheduleStatus": "Scheduled",
                    "CreationTime": 1_793_000_000,
                    "MonitoringScheduleConfig": config,
                }));
            }
            let job_definitions: Vec<Value> = JOB_DEFINITIONS
                .iter()
                .map(|(kind, name, isolated)| {
                    json!({"MonitoringType": kind, "JobDefinitionName": name,
                           "CreationTime": 1_793_000_000,
                           "NetworkConfig": {"EnableNetworkIsolation": isolated}})
                })
                .collect();
            let key = if region == REGIONS[0] {
                account.clone()
            } else {
                format!("{account}/{region}")
            };
            places.insert(
                key,
                json!({"schedules": schedules, "job_definitions": job_definitions}),
            );
        }
    }
    let home = places.remove(ACCOUNT).unwrap_or(json!({}));
    let mut seed = home;
    seed["accounts"] = Value::Object(places);
    seed["regions"] = json!(REGIONS[1..]);
    (Seed::from_json(&seed.to_string()).unwrap(), expected)
}

struct Measured {
    wall: Duration,
    exit: i32,
    calls: BTreeMap<String, usize>,
    /// Schedules whose verdict is missing, or not the expected one.
    lost: usize,
    wrong: usize,
}

/// Runs `audit` with `args` against `fake` and checks every schedule's verdict.
fn audit(fake: &FakeAws, args: &[&str], expected: &BTreeMap<Key, &str>) -> Measured {
    fake.with_state(|state| state.calls.clear());
    let mut all = vec!["audit", "--json"];
    all.extend_from_slice(args);
    let started = Instant::now();
    let run = run(fake, &all, None, &[]);
    let wall = started.elapsed();
    let found: BTreeMap<Key, String> = run
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("MonitoringScheduleName").is_some())
        .map(|line| {
            let field = |name: &str| line[name].as_str().unwrap_or_default().to_owned();
            (
                (
                    field("AccountId"),
                    field("Region"),
                    field("MonitoringScheduleName"),
                ),
                field("ComplianceType"),
            )
        })
        .collect();
    let lost = expected.keys().filter(|k| !found.contains_key(*k)).count();
    let wrong = expected
        .iter()
        .filter(|(k, v)| found.get(*k).is_some_and(|f| f != *v))
        .count();
    Measured {
        wall,
        exit: run.code,
        calls: fake.call_counts(),
        lost,
        wrong,
    }
}

fn start_estate(seed: Seed, latency_ms: u64) -> FakeAws {
    let fake = FakeAws::start(seed).expect("the fake starts");
    fake.with_state(|state| {
        state
            .aggregators
            .owners
            .insert(AGGREGATOR.into(), ACCOUNT.into())
    });
    fake.set_faults(Faults {
        latency_ms,
        ..Faults::default()
    });
    fake
}

fn main() {
    let latency_ms = setting("BENCH_AGG_LATENCY_MS", 20) as u64;
    let per_place = setting("BENCH_AGG_SCHEDULES", 25);
    let call_accounts = setting("BENCH_AGG_CALLS_ACCOUNTS", 100);
    let side_accounts = setting("BENCH_AGG_ACCOUNTS", 1000);
    let mut report = String::new();
    let mut line = |text: String| {
        println!("{text}");
        report.push_str(&text);
        report.push('\n');
    };

    // Calls against the fewest the API allows: each listing's pages, then a batch per hundred
    // schedules and one per hundred job definitions they name.
    let (seed, expected) = estate(call_accounts, per_place);
    let fake = start_estate(seed, latency_ms);
    let measured = audit(&fake, &["--aggregator", AGGREGATOR], &expected);
    let schedules = expected.len();
    let places = call_accounts * REGIONS.len();
    let per_kind = |kind: &str| JOB_DEFINITIONS.iter().filter(|(k, ..)| *k == kind).count();
    let listed_job_definitions: Vec<usize> = [
        "DataQuality",
        "ModelBias",
        "ModelQuality",
        "ModelExplainability",
    ]
    .iter()
    .map(|kind| per_kind(kind) * places)
    .collect();
    let pages: usize = std::iter::once(schedules)
        .chain(listed_job_definitions.iter().copied())
        .map(|n| n.div_ceil(100).max(1))
        .sum();
    // Every job definition of the estate is named by some schedule (with 10 or more a place).
    let items = schedules + listed_job_definitions.iter().sum::<usize>();
    let fewest = pages + items.div_ceil(100);
    let calls: usize = measured.calls.values().sum();
    line(format!(
        "audit --aggregator, {call_accounts} accounts x {} regions x {per_place} schedules ({schedules} schedules, {} job definitions), {latency_ms} ms per call, one run:\n",
        REGIONS.len(),
        items - schedules
    ));
    line("| calls | pages + ceil(items / 100) | ratio | ListAggregateDiscoveredResources | BatchGetAggregateResourceConfig | wall time | exit | lost / wrong |".into());
    line("|---:|---:|---:|---:|---:|---:|---:|---|".into());
    line(format!(
        "| {calls} | {pages} + {} = {fewest} | {:.3}x | {} | {} | {:.2} s | {} | {} / {} |",
        items.div_ceil(100),
        calls as f64 / fewest as f64,
        measured
            .calls
            .get("ListAggregateDiscoveredResources")
            .copied()
            .unwrap_or(0),
        measured
            .calls
            .get("BatchGetAggregateResourceConfig")
            .copied()
            .unwrap_or(0),
        measured.wall.as_secs_f64(),
        measured.exit,
        measured.lost,
        measured.wrong
    ));
    drop(fake);

    if side_accounts > 0 {
        let (seed, expected) = estate(side_accounts, per_place);
        let fake = start_estate(seed, latency_ms);
        let regions = REGIONS.join(",");
        let runs = [
            (
                "audit --aggregator",
                vec!["--aggregator", AGGREGATOR, "--regions", &regions],
            ),
            (
                "audit --aggregator --rule",
                vec![
                    "--aggregator",
                    AGGREGATOR,
                    "--regions",
                    &regions,
                    "--rule",
                    "sm14",
                ],
            ),
            (
                "audit --organization --role (default --parallel 4)",
                vec!["--organization", "--role", ROLE, "--regions", &regions],
            ),
            (
                "audit --organization --role --parallel 32",
                vec![
                    "--organization",
                    "--role",
                    ROLE,
                    "--regions",
                    &regions,
                    "--parallel",
                    "32",
                ],
            ),
        ];
        let measured: Vec<(&str, Measured)> = runs
            .iter()
            .map(|(name, args)| (*name, audit(&fake, args, &expected)))
            .collect();
        let baseline = measured[2].1.wall.as_secs_f64();
        line(format!(
            "\n{side_accounts} accounts x {} regions x {per_place} schedules ({} schedules), {latency_ms} ms per call, one run:\n",
            REGIONS.len(),
            expected.len()
        ));
        line("| command | API calls | AssumeRole | wall time | against --organization --role | exit | lost / wrong |".into());
        line("|---|---:|---:|---:|---:|---:|---|".into());
        for (name, m) in &measured {
            line(format!(
                "| `{name}` | {} | {} | {:.1} s | {:.2}x | {} | {} / {} |",
                m.calls.values().sum::<usize>(),
                m.calls.get("AssumeRole").copied().unwrap_or(0),
                m.wall.as_secs_f64(),
                m.wall.as_secs_f64() / baseline,
                m.exit,
                m.lost,
                m.wrong
            ));
        }
    }
    let out = root().join("target/bench-aggregator.md");
    let _ = std::fs::write(&out, report);
    println!("\n(written to {})", out.display());
}
