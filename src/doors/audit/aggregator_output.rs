//! How `audit --aggregator` is shown. On stdout: a line per schedule (a table row that starts
//! with its verdict, a JSON line, a CSV row), then a coverage row per account and region (a
//! table row that starts with COVERED or MISSING, a JSON line under `Coverage`, a second CSV
//! table after an empty line), and with a table a grid of accounts by regions and the total.
//! With JSON lines or CSV the listings that failed and the total go to stderr, so stdout holds
//! only rows. Names, annotations and reasons come from AWS and go out through `escaping`.

use super::Format;
use crate::core::aggregate::{Line, Read};
use crate::core::calls::CallCounts;
use crate::core::coverage::{Assessment, Coverage, Drift};
use crate::escaping;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

const CSV_HEADER: &str = "AccountId,Region,MonitoringScheduleName,ComplianceType,Annotation";
const CSV_RULE_HEADER: &str = ",RuleResult,Agrees";
const CSV_COVERAGE_HEADER: &str = "AccountId,Region,schedules,judged,rule_results,oldest_result_age_hours,missing_types,rule_deployed";

/// Prints everything: rows on `out`, the errors and total on `err` unless they are part of a
/// table; the first write that fails stops it. `with_rule`: a rule was given, so each line
/// carries its result.
pub fn print(
    out: &mut impl Write,
    err: &mut impl Write,
    assessment: &Assessment,
    read: &Read,
    with_rule: bool,
    format: Format,
    calls: &CallCounts,
) -> io::Result<()> {
    let errors = errors(read, assessment);
    match format {
        Format::Table => table(out, assessment, with_rule)?,
        Format::Json => {
            for (line, drift) in &assessment.lines {
                writeln!(
                    out,
                    "{}",
                    escaping::json(json_line(line, drift).to_string())
                )?;
            }
            for row in &assessment.coverage {
                let line = json!({ "Coverage": coverage_json(row) }).to_string();
                writeln!(out, "{}", escaping::json(line))?;
            }
        }
        Format::Csv => {
            let header = if with_rule {
                format!("{CSV_HEADER}{CSV_RULE_HEADER}")
            } else {
                CSV_HEADER.to_owned()
            };
            writeln!(out, "{header}")?;
            for (line, drift) in &assessment.lines {
                writeln!(out, "{}", csv_line(line, drift))?;
            }
            writeln!(out)?;
            writeln!(out, "{CSV_COVERAGE_HEADER}")?;
            for row in &assessment.coverage {
                writeln!(out, "{}", csv_coverage(row))?;
            }
        }
    }
    let total = total(assessment, calls);
    if format == Format::Table {
        for error in &errors {
            writeln!(out, "error: {}", escaping::text(error))?;
        }
        writeln!(out, "{total}")?;
    } else {
        for error in &errors {
            writeln!(err, "error: {}", escaping::text(error))?;
        }
        writeln!(err, "{total}")?;
    }
    Ok(())
}

/// What could not be read: each failed listing, and each account and region whose rule
/// results could not be read.
fn errors(read: &Read, assessment: &Assessment) -> Vec<String> {
    let listings = read.failures().filter_map(|listing| {
        let failure = listing.found.as_ref().err()?;
        Some(format!(
            "cannot list {} in {}: {failure}",
            listing.resource_type, listing.filter
        ))
    });
    let rules = assessment.coverage.iter().filter_map(|row| {
        row.rule_unread
            .as_ref()
            .map(|why| format!("the rule's results in {} were not read: {why}", row.place))
    });
    listings.chain(rules).collect()
}

/// `TOTAL 8 account-region(s) (1 with coverage missing): 25 judged (...), 2 unjudged; 31 API
/// calls (33 attempts)`.
fn total(assessment: &Assessment, calls: &CallCounts) -> String {
    let missing = assessment
        .coverage
        .iter()
        .filter(|row| row.is_missing())
        .count();
    format!(
        "TOTAL {} account-region(s) ({missing} with coverage missing): {}; {} API calls ({} attempts)",
        assessment.coverage.len(),
        assessment.tally(),
        calls.total_operations(),
        calls.total_attempts()
    )
}

fn compliance_value(drift: &Drift) -> Value {
    drift
        .rule_result
        .map_or(Value::Null, |c| Value::from(c.as_str()))
}

fn json_line(line: &Line, drift: &Option<Drift>) -> Value {
    let mut value = json!({
        "AccountId": line.place.account(),
        "Region": line.place.region(),
        "MonitoringScheduleName": line.name,
        "ComplianceType": line.finding.compliance_type(),
        "Annotation": line.finding.annotation(),
    });
    if let Some(drift) = drift {
        value["RuleResult"] = compliance_value(drift);
        value["Agrees"] = drift.agrees.map_or(Value::Null, Value::from);
    }
    value
}

fn coverage_json(row: &Coverage) -> Value {
    json!({
        "AccountId": row.place.account(),
        "Region": row.place.region(),
        "schedules": row.schedules,
        "judged": row.judged,
        "rule_results": row.rule_results,
        "oldest_result_age_hours": row.oldest_result_age_hours,
        "missing_types": row.missing_types,
        "rule_deployed": row.rule_deployed,
    })
}

/// `true`, `false`, or empty for unknown.
fn cell<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn csv_line(line: &Line, drift: &Option<Drift>) -> String {
    let mut cells = vec![
        line.place.account().to_owned(),
        line.place.region().to_owned(),
        line.name.clone(),
        line.finding.compliance_type().to_owned(),
        line.finding.annotation().to_owned(),
    ];
    if let Some(drift) = drift {
        cells.push(cell(drift.rule_result.map(|c| c.as_str())));
        cells.push(cell(drift.agrees));
    }
    cells
        .iter()
        .map(|c| escaping::csv_cell(c))
        .collect::<Vec<_>>()
        .join(",")
}

fn csv_coverage(row: &Coverage) -> String {
    [
        row.place.account().to_owned(),
        row.place.region().to_owned(),
        row.schedules.to_string(),
        row.judged.to_string(),
        cell(row.rule_results),
        cell(row.oldest_result_age_hours),
        row.missing_types.join(" "),
        cell(row.rule_deployed),
    ]
    .iter()
    .map(|c| escaping::csv_cell(c))
    .collect::<Vec<_>>()
    .join(",")
}

/// Rows of cells, each column as wide as its widest cell, the last column as it is.
fn columns(out: &mut impl Write, rows: &[Vec<String>]) -> io::Result<()> {
    let count = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..count)
        .map(|i| {
            rows.iter()
                .filter_map(|row| row.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let last = row.len().saturating_sub(1);
        let text: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.clone()
                } else {
                    format!("{c:width$}", width = widths[i])
                }
            })
            .collect();
        writeln!(out, "{}", text.join("  ").trim_end())?;
    }
    Ok(())
}

/// The table: a row per schedule starting with its verdict, the coverage rows, and the grid.
fn table(out: &mut impl Write, assessment: &Assessment, with_rule: bool) -> io::Result<()> {
    let mut rows = vec![
        ["VERDICT", "ACCOUNT", "REGION", "SCHEDULE"]
            .into_iter()
            .chain(
                with_rule
                    .then_some(["RULE", "AGREES"])
                    .into_iter()
                    .flatten(),
            )
            .chain(["ANNOTATION"])
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    ];
    for (line, drift) in &assessment.lines {
        let mut row = vec![
            line.finding.compliance_type().to_owned(),
            line.place.account().to_owned(),
            line.place.region().to_owned(),
            escaping::text(&line.name).into_owned(),
        ];
        if let Some(drift) = drift {
            row.push(drift.rule_result.map_or("-", |c| c.as_str()).to_owned());
            row.push(
                match drift.agrees {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "?",
                }
                .to_owned(),
            );
        }
        row.push(escaping::text(line.finding.annotation()).into_owned());
        rows.push(row);
    }
    columns(out, &rows)?;
    writeln!(out)?;
    let mut rows = vec![
        [
            "COVERAGE",
            "ACCOUNT",
            "REGION",
            "SCHEDULES",
            "JUDGED",
            "RULE RESULTS",
            "OLDEST RESULT (H)",
            "RULE REPORTED",
            "MISSING TYPES",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    let dash = |value: String| {
        if value.is_empty() {
            "-".to_owned()
        } else {
            value
        }
    };
    for row in &assessment.coverage {
        rows.push(vec![
            if row.is_missing() {
                "MISSING"
            } else {
                "COVERED"
            }
            .to_owned(),
            row.place.account().to_owned(),
            row.place.region().to_owned(),
            row.schedules.to_string(),
            row.judged.to_string(),
            dash(cell(row.rule_results)),
            dash(cell(row.oldest_result_age_hours)),
            dash(cell(
                row.rule_deployed.map(|d| if d { "yes" } else { "no" }),
            )),
            dash(row.missing_types.join(" ")),
        ]);
    }
    columns(out, &rows)?;
    writeln!(out)?;
    grid(out, &assessment.coverage)
}

/// Accounts by regions: `NON_COMPLIANT/schedules` in each cell, `!` where coverage is missing.
fn grid(out: &mut impl Write, coverage: &[Coverage]) -> io::Result<()> {
    let regions: BTreeSet<&str> = coverage.iter().map(|row| row.place.region()).collect();
    let mut by_account: BTreeMap<&str, BTreeMap<&str, &Coverage>> = BTreeMap::new();
    for row in coverage {
        by_account
            .entry(row.place.account())
            .or_default()
            .insert(row.place.region(), row);
    }
    writeln!(
        out,
        "GRID  NON_COMPLIANT/schedules in each account and region; ! where coverage is missing"
    )?;
    let mut rows = vec![
        std::iter::once("ACCOUNT".to_owned())
            .chain(regions.iter().map(|r| (*r).to_owned()))
            .collect::<Vec<_>>(),
    ];
    for (account, cells) in by_account {
        let mut row = vec![account.to_owned()];
        for region in &regions {
            row.push(cells.get(region).map_or("-".to_owned(), |c| {
                let mark = if c.is_missing() { " !" } else { "" };
                format!("{}/{}{mark}", c.tally.non_compliant, c.schedules)
            }));
        }
        // The last column is not padded; pad every one alike with an empty cell after it.
        row.push(String::new());
        rows.push(row);
    }
    if let Some(header) = rows.first_mut() {
        header.push(String::new());
    }
    columns(out, &rows)
}
