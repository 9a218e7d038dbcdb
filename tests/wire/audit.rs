//! `audit` across accounts and regions, against the fake holding two member accounts beside the
//! caller's, each with schedules in two regions. The fake tells the region of a call from its
//! SigV4 scope and the account from its credentials, and refuses calls in a region the account
//! has not enabled (ap-east-1) as AWS does.

use crate::support::*;
use fake_aws::FakeAws;
use fake_aws::seed::Seed;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const B: &str = "222222222222";
const C: &str = "333333333333";
const EU: &str = "eu-west-1";
const US: &str = "us-east-1";
const ROLE: &str = "sm14-audit";

fn schedule(account: &str, region: &str, name: &str, isolated: bool) -> Value {
    json!({
        "MonitoringScheduleArn": format!("arn:aws:sagemaker:{region}:{account}:monitoring-schedule/{name}"),
        "MonitoringScheduleName": name,
        "MonitoringScheduleStatus": "Scheduled",
        "MonitoringScheduleConfig": {"MonitoringJobDefinition": {"NetworkConfig": {"EnableNetworkIsolation": isolated}}},
    })
}

/// What each account and region holds, and the verdict each schedule should get:
/// `(account, region, name, isolated)`.
const ESTATE: [(&str, &str, &str, bool); 7] = [
    (ACCOUNT, US, "home-us-isolated", true),
    (ACCOUNT, US, "home-us-open", false),
    (ACCOUNT, EU, "home-eu-isolated", true),
    (B, US, "b-us-open", false),
    (B, EU, "b-eu-isolated", true),
    (B, EU, "b-eu-open", false),
    (C, US, "c-us-isolated", true),
];

fn estate() -> Seed {
    let mut accounts: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (account, region, name, isolated) in ESTATE {
        let key = if region == US {
            account.to_owned()
        } else {
            format!("{account}/{region}")
        };
        accounts
            .entry(key)
            .or_default()
            .push(schedule(account, region, name, isolated));
    }
    let home = accounts.remove(ACCOUNT).unwrap();
    let others: serde_json::Map<String, Value> = accounts
        .into_iter()
        .map(|(key, schedules)| (key, json!({ "schedules": schedules })))
        .collect();
    Seed::from_json(
        &json!({"schedules": home, "accounts": others, "regions": [EU], "disabled_regions": ["ap-east-1"]})
            .to_string(),
    )
    .unwrap()
}

fn role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{ROLE}")
}

fn audit(fake: &FakeAws, args: &[&str]) -> Run {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    run(fake, &all, None, &[])
}

/// The `(account, region)` pairs SageMaker was asked to list schedules in.
fn listed_in(fake: &FakeAws) -> BTreeSet<(String, String)> {
    fake.calls()
        .into_iter()
        .filter(|call| call.operation == "ListMonitoringSchedules")
        .map(|call| (call.account, call.region))
        .collect()
}

fn pair(account: &str, region: &str) -> (String, String) {
    (account.to_owned(), region.to_owned())
}

#[test]
fn two_accounts_in_two_regions_give_every_schedule_its_verdict_with_where_it_is() {
    let fake = start(estate());
    let run = audit(
        &fake,
        &[
            "--json",
            "--accounts",
            &format!("{ACCOUNT},{B}"),
            "--regions",
            &format!("{US},{EU}"),
            "--role",
            ROLE,
        ],
    );
    assert_eq!(
        run.code, 3,
        "NON_COMPLIANT found, everything read: {}",
        run.stderr
    );
    let mut found: Vec<(String, String, String, String)> = run
        .lines()
        .iter()
        .map(|line| {
            (
                line["AccountId"].as_str().unwrap().to_owned(),
                line["Region"].as_str().unwrap().to_owned(),
                line["MonitoringScheduleName"].as_str().unwrap().to_owned(),
                line["ComplianceType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    let mut expected: Vec<(String, String, String, String)> = ESTATE
        .iter()
        .filter(|(account, ..)| *account != C)
        .map(|(account, region, name, isolated)| {
            let verdict = if *isolated {
                "COMPLIANT"
            } else {
                "NON_COMPLIANT"
            };
            (
                (*account).to_owned(),
                (*region).to_owned(),
                (*name).to_owned(),
                verdict.to_owned(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(found, expected);
    // Each line keeps today's fields: the evaluation, with its resource id in its own region.
    let line = &run.lines()[0];
    for field in [
        "ComplianceResourceType",
        "ComplianceResourceId",
        "ComplianceType",
        "Annotation",
        "OrderingTimestamp",
    ] {
        assert!(line.get(field).is_some(), "{field} missing from {line}");
    }
    // Every pair was listed in its own account and region; the role was assumed once, in B only
    // (the caller reads its own account with its own credentials); nothing was written.
    assert_eq!(
        listed_in(&fake),
        BTreeSet::from([
            pair(ACCOUNT, US),
            pair(ACCOUNT, EU),
            pair(B, US),
            pair(B, EU)
        ])
    );
    assert_eq!(fake.with_state(|s| s.assumed_roles.clone()), [role(B)]);
    assert!(fake.evaluations().is_empty());
    assert!(fake.with_state(|s| s.writes.is_empty()));
    // The summaries go to stderr, so stdout holds only rows.
    assert!(
        run.stderr.contains(&format!(
            "{B} {EU}: 2 judged (1 COMPLIANT, 1 NON_COMPLIANT, 0 NOT_APPLICABLE), 0 unjudged"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "TOTAL 4 account-region(s) (4 read, 0 partly read, 0 not read): 6 judged (3 COMPLIANT, 3 NON_COMPLIANT, 0 NOT_APPLICABLE), 0 unjudged"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn the_table_groups_by_account_and_region_with_a_summary_each_and_a_total() {
    let fake = start(estate());
    let run = audit(
        &fake,
        &[
            "--accounts",
            &format!("{B},{ACCOUNT}"),
            "--regions",
            &format!("{EU},{US}"),
            "--role",
            ROLE,
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let headings: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("== "))
        .collect();
    // In the order they were named: accounts, then each account's regions.
    assert_eq!(
        headings,
        [
            format!(
                "== {B} {EU}: 2 judged (1 COMPLIANT, 1 NON_COMPLIANT, 0 NOT_APPLICABLE), 0 unjudged"
            ),
            format!(
                "== {B} {US}: 1 judged (0 COMPLIANT, 1 NON_COMPLIANT, 0 NOT_APPLICABLE), 0 unjudged"
            ),
            format!(
                "== {ACCOUNT} {EU}: 1 judged (1 COMPLIANT, 0 NON_COMPLIANT, 0 NOT_APPLICABLE), 0 unjudged"
            ),
            format!(
                "== {ACCOUNT} {US}: 2 judged (1 COMPLIANT, 1 NON_COMPLIANT, 0 NOT_APPLICABLE), 0 unjudged"
            ),
        ]
    );
    // Under each heading, that account and region's rows and nobody else's.
    let block = run
        .stdout
        .split(&format!("== {B} {EU}"))
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    let names: Vec<&str> = block
        .lines()
        .skip(2)
        .map(|row| row.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(names, ["b-eu-isolated", "b-eu-open"], "{block}");
    assert!(
        run.stdout.trim_end().ends_with(
            "TOTAL 4 account-region(s) (4 read, 0 partly read, 0 not read): 6 judged (3 COMPLIANT, 3 NON_COMPLIANT, 0 NOT_APPLICABLE), 0 unjudged"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn csv_has_a_header_and_the_same_rows_as_json_lines() {
    let fake = start(estate());
    let args = ["--accounts", B, "--regions", EU, "--role", ROLE];
    let run = audit(&fake, &[&["--csv"], &args[..]].concat());
    assert_eq!(run.code, 3, "{}", run.stderr);
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        rows[0],
        "AccountId,Region,ComplianceResourceType,Name,ComplianceResourceId,ComplianceType,Annotation,OrderingTimestamp"
    );
    let json = audit(&fake, &[&["--json"], &args[..]].concat());
    let lines = json.lines();
    assert_eq!(rows.len(), 1 + lines.len(), "{}", run.stdout);
    for line in &lines {
        // No field here holds a comma or a quote, so each row splits plainly.
        let expected = [
            B,
            EU,
            SCHEDULE_TYPE,
            line["MonitoringScheduleName"].as_str().unwrap(),
            line["ComplianceResourceId"].as_str().unwrap(),
            line["ComplianceType"].as_str().unwrap(),
            line["Annotation"].as_str().unwrap(),
        ]
        .join(",");
        assert!(
            rows.iter()
                .any(|row| row.starts_with(&format!("{expected},"))),
            "no CSV row for {line}"
        );
    }
}

#[test]
fn an_account_whose_role_cannot_be_assumed_and_a_region_not_enabled_are_named_the_rest_reported() {
    let fake = start(estate());
    fake.with_state(|state| state.denied_roles.push(role(C)));
    let run = audit(
        &fake,
        &[
            "--organization",
            "--regions",
            &format!("{US},ap-east-1"),
            "--role",
            ROLE,
        ],
    );
    assert_eq!(
        run.code, 4,
        "NON_COMPLIANT found and something not read: {}",
        run.stdout
    );
    let heading = |account: &str, region: &str| {
        run.stdout
            .lines()
            .find(|line| line.starts_with(&format!("== {account} {region}: ")))
            .unwrap_or_else(|| panic!("no heading for {account} {region}:\n{}", run.stdout))
            .to_owned()
    };
    // The organization is the three accounts; C's role is refused, in each region named.
    for region in [US, "ap-east-1"] {
        let refused = heading(C, region);
        assert!(
            refused.contains(&format!(
                "NOT READ: cannot assume {} in account {C}: AssumeRole: access denied (AccessDenied)",
                role(C)
            )),
            "{refused}"
        );
    }
    for account in [ACCOUNT, B] {
        let disabled = heading(account, "ap-east-1");
        assert!(
            disabled.contains(
                "NOT READ: ListMonitoringSchedules: refused (UnrecognizedClientException)"
            ) && disabled.contains(&format!("is ap-east-1 enabled in account {account}?")),
            "{disabled}"
        );
    }
    assert!(
        heading(ACCOUNT, US)
            .ends_with("2 judged (1 COMPLIANT, 1 NON_COMPLIANT, 0 NOT_APPLICABLE), 0 unjudged")
    );
    assert!(
        heading(B, US)
            .ends_with("1 judged (0 COMPLIANT, 1 NON_COMPLIANT, 0 NOT_APPLICABLE), 0 unjudged")
    );
    assert!(run.stdout.contains(
        "TOTAL 6 account-region(s) (2 read, 0 partly read, 4 not read): 3 judged (1 COMPLIANT, 2 NON_COMPLIANT, 0 NOT_APPLICABLE), 0 unjudged"
    ), "{}", run.stdout);
    // C's role was tried once, not once per region.
    let tries = fake
        .calls()
        .iter()
        .filter(|call| call.operation == "AssumeRole")
        .count();
    assert_eq!(tries, 2, "B and C, once each");
}

#[test]
fn all_regions_means_those_each_account_has_enabled() {
    let fake = start(estate());
    let run = audit(
        &fake,
        &[
            "--json",
            "--accounts",
            B,
            "--regions",
            "all",
            "--role",
            ROLE,
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        listed_in(&fake),
        BTreeSet::from([pair(B, US), pair(B, EU)]),
        "ap-east-1 is listed as DISABLED and is not read"
    );
    assert!(
        !fake.calls().iter().any(|call| call.region == "ap-east-1"),
        "nothing was sent to the disabled region"
    );
    let regions: BTreeSet<String> = run
        .lines()
        .iter()
        .map(|line| line["Region"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(regions, BTreeSet::from([US.to_owned(), EU.to_owned()]));
    // ListRegions was asked in B, as B.
    let asked: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|call| call.operation == "ListRegions")
        .map(|call| call.account)
        .collect();
    assert_eq!(asked, [B]);
}

#[test]
fn other_accounts_without_a_role_is_bad_input_and_nothing_is_read() {
    let fake = start(estate());
    let run = audit(&fake, &["--accounts", &format!("{ACCOUNT},{B}")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("accounts other than the caller's ({B}) can only be read through a role: give --role NAME")),
        "{}",
        run.stderr
    );
    assert!(listed_in(&fake).is_empty());
    for bad in [
        vec!["--accounts", "12345"],
        vec!["--regions", "EU West"],
        vec!["--role", "arn:aws:iam::222222222222:role/r"],
        vec!["--organization", "--accounts", B],
    ] {
        let run = audit(&fake, &bad);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
    }
    assert!(
        fake.calls()
            .iter()
            .all(|call| call.operation == "GetCallerIdentity")
    );
}

#[test]
fn accounts_and_regions_are_read_at_most_parallel_at_a_time() {
    // The fake holds the lists until one more than allowed is in flight, or for 1 s: the most
    // in flight is then exactly the limit, however fast the machine.
    let held = |limit: usize| fake_aws::faults::Faults {
        hold_until: limit + 1,
        hold_ms: 1_000,
        operations: vec!["ListMonitoringSchedules".into()],
        ..Default::default()
    };
    let fake = start(estate());
    fake.set_faults(held(2));
    let args = |parallel: &'static str| {
        vec![
            "--json",
            "--accounts",
            "123456789012,222222222222",
            "--regions",
            "us-east-1,eu-west-1",
            "--role",
            ROLE,
            "--parallel",
            parallel,
        ]
    };
    let run = audit(&fake, &args("2"));
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(fake.most_in_flight("ListMonitoringSchedules"), 2);
    let fake = start(estate());
    fake.set_faults(held(4));
    let run = audit(&fake, &args("4"));
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(fake.most_in_flight("ListMonitoringSchedules"), 4);
}

#[test]
fn names_from_aws_reach_no_output_unescaped_and_no_csv_cell_is_a_formula() {
    // The fake stores whatever it is given; SageMaker's own names are tamer, but the output
    // does not rely on that.
    let names = [
        "evil\r\u{1b}[2K\n::error file=README.md::forged\u{9b}\u{202e}",
        "=HYPERLINK(\"http://x\",\"y\")",
        "+1",
        "-2+3",
        "@SUM(1)",
        "\t=1+1",
        "\r=1+1",
    ];
    let schedules: Vec<Value> = names
        .iter()
        .map(|name| schedule(ACCOUNT, US, name, false))
        .collect();
    let fake = start(Seed::from_json(&json!({ "schedules": schedules }).to_string()).unwrap());
    for format in [&[][..], &["--json"][..], &["--csv"][..]] {
        let run = audit(&fake, format);
        assert_eq!(run.code, 3, "{format:?}: {}", run.stderr);
        assert_inert(&run.stdout, &format!("audit {format:?} stdout"));
        assert_inert(&run.stderr, &format!("audit {format:?} stderr"));
    }
    // JSON lines keep the names as they are.
    let run = audit(&fake, &["--json"]);
    let mut listed: Vec<String> = run
        .lines()
        .iter()
        .map(|l| l["MonitoringScheduleName"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    let mut wanted: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    wanted.sort();
    assert_eq!(listed, wanted);
    // CSV: a cell that a spreadsheet would run as a formula starts with a quote mark instead.
    let run = audit(&fake, &["--csv"]);
    let cells: Vec<String> = run
        .stdout
        .lines()
        .skip(1)
        .map(|row| csv_cells(row)[3].clone())
        .collect();
    for cell in &cells {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{cell:?} in {}",
            run.stdout
        );
    }
    for name in [
        "'=HYPERLINK(\"http://x\",\"y\")",
        "'+1",
        "'-2+3",
        "'@SUM(1)",
        "'\\t=1+1",
        "'\\r=1+1",
    ] {
        assert!(cells.iter().any(|c| c == name), "{name} not in {cells:?}");
    }
    // The table starts every row with the verdict.
    let run = audit(&fake, &[]);
    for row in run.stdout.lines().skip(1) {
        assert!(row.starts_with("NON_COMPLIANT "), "{row}");
    }
}

/// The cells of one RFC 4180 row.
fn csv_cells(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}
