//! How an audit is shown: rows on stdout (a table, JSON lines or CSV), grouped by account and
//! region in the order they were named; a summary per account and region and a total. With a
//! table the summaries are part of it; with JSON lines or CSV they go to stderr, so stdout
//! holds only rows. Names, annotations and reasons come from AWS and tags and go out through
//! `escaping`; a table row starts with its verdict.

use super::{Format, Read, TargetResult};
use crate::core::params::Control;
use crate::core::resource::SCHEDULE_TYPE;
use crate::escaping;
use crate::rule::report::Tally;
use crate::rule::{Handled, Row};
use aws_smithy_types::date_time::Format as TimeFormat;
use std::io::{self, Write};

const CSV_HEADER: &str = "AccountId,Region,ComplianceResourceType,Name,ComplianceResourceId,ComplianceType,Annotation,OrderingTimestamp";

/// Prints everything: rows on `out`, summaries that are not part of a table on `err`; the
/// first write that fails stops it. `single`: one account and region, shown exactly as before
/// there were more (no group heading; the summary on `err`).
pub fn print(
    out: &mut impl Write,
    err: &mut impl Write,
    results: &[TargetResult],
    control: Control,
    format: Format,
    single: bool,
) -> io::Result<()> {
    if format == Format::Csv {
        writeln!(out, "{CSV_HEADER}")?;
    }
    for result in results {
        let target = &result.target;
        let summary = summary(result);
        let multi_table = !single && format == Format::Table;
        let heading = escaping::text(&format!("{} {}: {summary}", target.account, target.region))
            .into_owned();
        if multi_table {
            writeln!(out, "== {heading}")?;
        } else if !single {
            writeln!(err, "{heading}")?;
        }
        let handled = match &result.read {
            Read::Swept(handled) => handled,
            Read::Unread(reason) => {
                if single {
                    writeln!(err, "error: {}", escaping::text(reason))?;
                }
                continue;
            }
        };
        let rows = sorted(handled);
        match format {
            Format::Table => table(out, handled, &rows, control)?,
            Format::Json => {
                for row in rows {
                    let line = escaping::json(json_line(row, result).to_string());
                    writeln!(out, "{line}")?;
                }
            }
            Format::Csv => {
                for row in rows {
                    writeln!(out, "{}", csv_line(row, result))?;
                }
            }
        }
        if multi_table {
            writeln!(out)?;
        }
        if single {
            writeln!(err, "{}", escaping::text(&handled.report.human_line(true)))?;
            if let Err(error) = handled.report.outcome() {
                writeln!(err, "error: {}", escaping::text(&error.to_string()))?;
            }
        }
    }
    if !single {
        let total = escaping::text(&total(results)).into_owned();
        if format == Format::Table {
            writeln!(out, "{total}")?;
        } else {
            writeln!(err, "{total}")?;
        }
    }
    Ok(())
}

fn sorted(handled: &Handled) -> Vec<&Row> {
    let mut rows: Vec<&Row> = handled.rows.iter().collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

/// The account and region's tally, or why nothing was read.
pub fn summary(result: &TargetResult) -> String {
    match &result.read {
        Read::Unread(reason) => format!("NOT READ: {reason}"),
        Read::Swept(handled) => handled.report.tally().to_string(),
    }
}

/// `TOTAL 4 account-region(s) (3 read, 0 partly read, 1 not read): ...`.
pub fn total(results: &[TargetResult]) -> String {
    let swept: Vec<&Handled> = results
        .iter()
        .filter_map(|result| match &result.read {
            Read::Swept(handled) => Some(handled.as_ref()),
            Read::Unread(_) => None,
        })
        .collect();
    let complete = results.iter().filter(|result| result.complete()).count();
    let tally: Tally = swept.iter().map(|handled| handled.report.tally()).sum();
    format!(
        "TOTAL {} account-region(s) ({complete} read, {} partly read, {} not read): {tally}",
        results.len(),
        swept.len() - complete,
        results.len() - swept.len(),
    )
}

/// The table: a row per resource, starting with its verdict, each cell escaped.
fn table(
    out: &mut impl Write,
    handled: &Handled,
    rows: &[&Row],
    control: Control,
) -> io::Result<()> {
    let heading = match control {
        Control::MonitoringSchedules => "SCHEDULE",
        Control::JobDefinitions => "JOB DEFINITION",
    };
    let cells: Vec<(&str, String, String)> = rows
        .iter()
        .map(|row| {
            (
                row.evaluation.compliance_type.as_str(),
                escaping::text(row.name.as_deref().unwrap_or("?")).into_owned(),
                escaping::text(&row.evaluation.annotation).into_owned(),
            )
        })
        .chain(handled.report.unjudged.iter().map(|unjudged| {
            (
                "UNJUDGED",
                escaping::text(&unjudged.resource).into_owned(),
                escaping::text(&unjudged.reason.to_string()).into_owned(),
            )
        }))
        .collect();
    let width = cells
        .iter()
        .map(|(_, name, _)| name.chars().count())
        .max()
        .unwrap_or(0)
        .max(heading.len());
    writeln!(out, "{:14}  {heading:width$}  ANNOTATION", "VERDICT")?;
    for (verdict, name, annotation) in &cells {
        writeln!(out, "{verdict:14}  {name:width$}  {annotation}")?;
    }
    Ok(())
}

/// The evaluation with the API's field names, the resource's name under
/// `MonitoringScheduleName` or `JobDefinitionName`, and where it is.
fn json_line(row: &Row, result: &TargetResult) -> serde_json::Value {
    let mut line = serde_json::to_value(&row.evaluation).expect("serialisable");
    line[name_member(row)] = row.name.clone().into();
    line["AccountId"] = result.target.account.clone().into();
    line["Region"] = result.target.region.clone().into();
    line
}

fn name_member(row: &Row) -> &'static str {
    if row.evaluation.compliance_resource_type == SCHEDULE_TYPE {
        "MonitoringScheduleName"
    } else {
        "JobDefinitionName"
    }
}

fn csv_line(row: &Row, result: &TargetResult) -> String {
    let evaluation = &row.evaluation;
    let ordering = evaluation
        .ordering_timestamp
        .fmt(TimeFormat::DateTime)
        .unwrap_or_default();
    [
        result.target.account.as_str(),
        result.target.region.as_str(),
        evaluation.compliance_resource_type.as_str(),
        row.name.as_deref().unwrap_or_default(),
        evaluation.compliance_resource_id.as_str(),
        evaluation.compliance_type.as_str(),
        evaluation.annotation.as_str(),
        ordering.as_str(),
    ]
    .map(escaping::csv_cell)
    .join(",")
}
