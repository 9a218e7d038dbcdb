//! How an audit is shown: rows on stdout (a table, JSON lines or CSV), grouped by account and
//! region in the order they were named; a summary per account and region and a total. With a
//! table the summaries are part of it; with JSON lines or CSV they go to stderr, so stdout
//! holds only rows.

use super::{Format, Read, TargetResult};
use crate::core::params::Control;
use crate::core::resource::SCHEDULE_TYPE;
use crate::rule::Handled;
use crate::rule::recorder::Row;
use crate::rule::report::Tally;
use aws_smithy_types::date_time::Format as TimeFormat;
use std::io::Write;

const CSV_HEADER: &str = "AccountId,Region,ComplianceResourceType,Name,ComplianceResourceId,ComplianceType,Annotation,OrderingTimestamp";

/// Prints everything. `single`: one account and region, shown exactly as before there were
/// more (no group heading; the summary on stderr).
pub fn print(
    out: &mut impl Write,
    results: &[TargetResult],
    control: Control,
    format: Format,
    single: bool,
) {
    if format == Format::Csv {
        let _ = writeln!(out, "{CSV_HEADER}");
    }
    for result in results {
        let target = &result.target;
        let summary = summary(result);
        let multi_table = !single && format == Format::Table;
        if multi_table {
            let _ = writeln!(out, "== {} {}: {summary}", target.account, target.region);
        } else if !single {
            eprintln!("{} {}: {summary}", target.account, target.region);
        }
        let handled = match &result.read {
            Read::Swept(handled) => handled,
            Read::Unread(reason) => {
                if single {
                    eprintln!("error: {reason}");
                }
                continue;
            }
        };
        let rows = sorted(handled);
        match format {
            Format::Table => table(out, handled, &rows, control),
            Format::Json => {
                for row in rows {
                    let _ = writeln!(out, "{}", json_line(row, result));
                }
            }
            Format::Csv => {
                for row in rows {
                    let _ = writeln!(out, "{}", csv_line(row, result));
                }
            }
        }
        if multi_table {
            let _ = writeln!(out);
        }
        if single {
            eprintln!("{}", handled.report.human_line(true));
            if let Err(error) = handled.report.outcome() {
                eprintln!("error: {error}");
            }
        }
    }
    if !single {
        let total = total(results);
        if format == Format::Table {
            let _ = writeln!(out, "{total}");
        } else {
            eprintln!("{total}");
        }
    }
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

fn table(out: &mut impl Write, handled: &Handled, rows: &[&Row], control: Control) {
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
    .map(csv_field)
    .join(",")
}

/// RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled.
/// A field a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is prefixed with
/// `'`; no name or annotation this rule writes starts so, but resource ids come from AWS.
fn csv_field(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@']) {
        format!("'{field}")
    } else {
        field.to_owned()
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
