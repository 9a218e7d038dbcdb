//! Security Hub (restJson1, signed for `securityhub`): `POST /findings` is GetFindings and
//! `PATCH /findings/batchupdate` is BatchUpdateFindings, over each account and region's
//! findings in the AWS Security Finding Format, as Security Hub writes a control's findings.
//!
//! Filters follow the API reference's StringFilter rules: across fields AND; on one field,
//! EQUALS, PREFIX and CONTAINS alternatives OR'ed, NOT_EQUALS, PREFIX_NOT_EQUALS and NOT_CONTAINS
//! AND'ed, and the combinations the reference forbids refused. Limits are enforced (10 fields,
//! 20 values a field, pages of 1 to 100, 100 identifiers an update, 512-character notes).
//! An account without Security Hub answers InvalidAccessException; findings can be left
//! unprocessed on request (`Faults::unprocessed`).

use crate::{Context, Reply, State, paginate};
use hyper::StatusCode;
use serde_json::{Map, Value, json};

/// The service name in `Protocol::Json` for Security Hub's requests.
pub const SERVICE: &str = "SecurityHub";
/// What its requests are signed for.
pub const SIGNING_NAME: &str = "securityhub";

/// The operation a restJson1 request is, from its method and path.
pub fn route(method: &str, path: &str) -> Option<&'static str> {
    match (method, path) {
        ("POST", "/findings") => Some("GetFindings"),
        ("PATCH", "/findings/batchupdate") => Some("BatchUpdateFindings"),
        _ => None,
    }
}

/// What Security Hub answers for throttling and for its own failures.
pub const THROTTLED: (StatusCode, &str) = (StatusCode::TOO_MANY_REQUESTS, "LimitExceededException");
pub const INTERNAL: (StatusCode, &str) = (StatusCode::INTERNAL_SERVER_ERROR, "InternalException");

pub fn handle(state: &mut State, context: &Context, operation: &str, input: &Value) -> Reply {
    if state.account(&context.key()).security_hub_disabled {
        return Reply::Error(
            StatusCode::UNAUTHORIZED,
            "InvalidAccessException",
            format!(
                "Account {} is not subscribed to AWS Security Hub in {}",
                context.account, context.region
            ),
        );
    }
    match operation {
        "GetFindings" => get_findings(state, context, input),
        "BatchUpdateFindings" => batch_update(state, context, input),
        _ => invalid(format!("{operation} is not implemented by the fake")),
    }
}

fn invalid(message: impl Into<String>) -> Reply {
    Reply::Error(
        StatusCode::BAD_REQUEST,
        "InvalidInputException",
        message.into(),
    )
}

/// A finding of `control` for the resource `arn`, as Security Hub writes a control finding
/// (consolidated control findings), with the `Compliance.Status` given; `n` makes its id.
pub fn control_finding(
    account: &str,
    region: &str,
    control: &str,
    arn: &str,
    status: &str,
    n: usize,
) -> Value {
    let id = format!(
        "arn:aws:securityhub:{region}:{account}:security-control/{control}/finding/{:08x}-5e1f-4c0d-9a14-{:012x}",
        0x5a9e_0000_u32 + n as u32,
        n
    );
    let time = "2026-11-27T09:00:00.000Z";
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": id,
        "ProductArn": format!("arn:aws:securityhub:{region}::product/aws/securityhub"),
        "ProductName": "Security Hub",
        "CompanyName": "AWS",
        "Region": region,
        "GeneratorId": format!("security-control/{control}"),
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "FirstObservedAt": time,
        "LastObservedAt": time,
        "CreatedAt": time,
        "UpdatedAt": time,
        "Severity": {"Label": "MEDIUM", "Normalized": 40, "Original": "MEDIUM"},
        "Title": title(control),
        "Description": format!("This AWS control checks {control}."),
        "Remediation": {"Recommendation": {
            "Text": "For information on how to correct this issue, consult the AWS Security Hub controls documentation.",
            "Url": format!("https://docs.aws.amazon.com/console/securityhub/{control}/remediation"),
        }},
        "ProductFields": {
            "RelatedAWSResources:0/type": "AWS::Config::ConfigRule",
            "aws/securityhub/ProductName": "Security Hub",
            "aws/securityhub/CompanyName": "AWS",
            "Resources:0/Id": arn,
            "aws/securityhub/FindingId": id,
        },
        "Resources": [{"Type": "Other", "Id": arn, "Partition": "aws", "Region": region}],
        "Compliance": {
            "Status": status,
            "SecurityControlId": control,
            "AssociatedStandards": [{"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"}],
        },
        "WorkflowState": "NEW",
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
        "FindingProviderFields": {
            "Severity": {"Label": "MEDIUM", "Original": "MEDIUM"},
            "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        },
    })
}

fn title(control: &str) -> String {
    match control {
        "SageMaker.14" => {
            "SageMaker monitoring schedules should have network isolation enabled".into()
        }
        other => format!("Security Hub control {other}"),
    }
}

/// A seeded finding made whole: a seed names what matters (the resource, the control, the
/// status, and any workflow, record state, note, account or region that differ) and the rest
/// is filled in as Security Hub writes it. The seed's members win.
pub fn complete(seeded: Value, account: &str, region: &str, n: usize) -> Result<Value, String> {
    let Value::Object(seeded) = seeded else {
        return Err("a seeded finding is not an object".into());
    };
    let text = |pointer: &str| {
        Value::Object(seeded.clone())
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let arn = text("/Resources/0/Id").ok_or("a seeded finding has no Resources[0].Id")?;
    let control = text("/Compliance/SecurityControlId").unwrap_or_else(|| "SageMaker.14".into());
    let status = text("/Compliance/Status").unwrap_or_else(|| "FAILED".into());
    let account = text("/AwsAccountId").unwrap_or_else(|| account.into());
    let region = text("/Region").unwrap_or_else(|| region.into());
    let mut whole = control_finding(&account, &region, &control, &arn, &status, n);
    merge(&mut whole, Value::Object(seeded));
    Ok(whole)
}

/// `from` over `into`: objects member by member, lists of objects element by element (a seeded
/// `Resources: [{"Id": ...}]` keeps the rest of the resource), anything else replaced.
fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(into), Value::Array(from))
            if into.len() == from.len() && from.iter().all(Value::is_object) =>
        {
            for (existing, value) in into.iter_mut().zip(from) {
                merge(existing, value);
            }
        }
        (into, from) => *into = from,
    }
}

/// The ASFF member each StringFilter field reads (lists are searched in every element).
fn field(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "Id" => &["Id"],
        "ProductArn" => &["ProductArn"],
        "GeneratorId" => &["GeneratorId"],
        "AwsAccountId" => &["AwsAccountId"],
        "Region" => &["Region"],
        "Title" => &["Title"],
        "RecordState" => &["RecordState"],
        "WorkflowStatus" => &["Workflow", "Status"],
        "ComplianceStatus" => &["Compliance", "Status"],
        "ComplianceSecurityControlId" => &["Compliance", "SecurityControlId"],
        "ResourceId" => &["Resources", "Id"],
        "ResourceType" => &["Resources", "Type"],
        "NoteText" => &["Note", "Text"],
        "NoteUpdatedBy" => &["Note", "UpdatedBy"],
        "SeverityLabel" => &["Severity", "Label"],
        _ => return None,
    })
}

/// Every string at `path` in `value`, through lists.
fn values<'a>(value: &'a Value, path: &[&str]) -> Vec<&'a str> {
    match (value, path.split_first()) {
        (Value::Array(items), _) => items.iter().flat_map(|item| values(item, path)).collect(),
        (value, None) => value.as_str().into_iter().collect(),
        (value, Some((first, rest))) => value
            .get(*first)
            .map_or_else(Vec::new, |inner| values(inner, rest)),
    }
}

/// One field's filters: the positives (EQUALS, PREFIX, CONTAINS) OR'ed, then the negatives
/// (NOT_EQUALS, PREFIX_NOT_EQUALS, NOT_CONTAINS) AND'ed.
struct FieldFilter {
    path: &'static [&'static str],
    filters: Vec<(String, String)>,
}

impl FieldFilter {
    fn parse(name: &str, filters: &Value) -> Result<FieldFilter, String> {
        let path = field(name).ok_or_else(|| format!("the fake does not filter on {name}"))?;
        let filters = filters
            .as_array()
            .ok_or_else(|| format!("Filters.{name} is not a list"))?;
        if filters.len() > 20 {
            return Err(format!(
                "Filters.{name} has {} values; at most 20 are allowed",
                filters.len()
            ));
        }
        let filters: Vec<(String, String)> = filters
            .iter()
            .map(|filter| {
                let comparison = filter["Comparison"].as_str().unwrap_or_default();
                let value = filter["Value"].as_str().unwrap_or_default();
                match comparison {
                    "EQUALS" | "PREFIX" | "CONTAINS" | "NOT_EQUALS" | "PREFIX_NOT_EQUALS"
                    | "NOT_CONTAINS" => Ok((comparison.to_owned(), value.to_owned())),
                    other => Err(format!("Filters.{name}: unknown Comparison '{other}'")),
                }
            })
            .collect::<Result<_, _>>()?;
        let has = |wanted: &str| filters.iter().any(|(comparison, _)| comparison == wanted);
        let only = |wanted: &str| filters.iter().all(|(comparison, _)| comparison == wanted);
        if (has("CONTAINS") && !only("CONTAINS")) || (has("NOT_CONTAINS") && !only("NOT_CONTAINS"))
        {
            return Err(format!(
                "Filters.{name}: CONTAINS and NOT_CONTAINS filters can only be used with filters of their own kind"
            ));
        }
        if has("EQUALS") && (has("NOT_EQUALS") || has("PREFIX_NOT_EQUALS")) {
            return Err(format!(
                "Filters.{name}: EQUALS cannot be combined with NOT_EQUALS or PREFIX_NOT_EQUALS on the same field"
            ));
        }
        Ok(FieldFilter { path, filters })
    }

    fn matches(&self, finding: &Value) -> bool {
        let found = values(finding, self.path);
        let test = |comparison: &str, wanted: &str, value: &str| match comparison {
            "EQUALS" | "NOT_EQUALS" => value == wanted,
            "PREFIX" | "PREFIX_NOT_EQUALS" => value.starts_with(wanted),
            _ => value.contains(wanted),
        };
        let (positive, negative): (Vec<_>, Vec<_>) =
            self.filters.iter().partition(|(comparison, _)| {
                !comparison.starts_with("NOT_") && !comparison.starts_with("PREFIX_NOT")
            });
        let any_positive = positive.is_empty()
            || positive.iter().any(|(comparison, wanted)| {
                found.iter().any(|value| test(comparison, wanted, value))
            });
        let every_negative = negative
            .iter()
            .all(|(comparison, wanted)| found.iter().all(|value| !test(comparison, wanted, value)));
        any_positive && every_negative
    }
}

fn get_findings(state: &mut State, context: &Context, input: &Value) -> Reply {
    let max = match input.get("MaxResults") {
        None => 100,
        Some(value) => match value.as_u64() {
            Some(n) if (1..=100).contains(&n) => n as usize,
            _ => return invalid(format!("MaxResults must be from 1 to 100, not {value}")),
        },
    };
    let start = match input.get("NextToken").and_then(Value::as_str) {
        None => 0,
        Some(token) => match token.strip_prefix("page-").and_then(|n| n.parse().ok()) {
            Some(start) => start,
            None => return invalid("The NextToken is not valid"),
        },
    };
    let empty = Map::new();
    let filters = match input.get("Filters") {
        None => &empty,
        Some(Value::Object(filters)) => filters,
        Some(_) => return invalid("Filters is not an object"),
    };
    if filters.len() > 10 {
        return invalid(format!(
            "{} filter fields; at most 10 are allowed",
            filters.len()
        ));
    }
    let filters: Vec<FieldFilter> = match filters
        .iter()
        .map(|(name, filters)| FieldFilter::parse(name, filters))
        .collect()
    {
        Ok(filters) => filters,
        Err(message) => return invalid(message),
    };
    let matching: Vec<Value> = state
        .account(&context.key())
        .findings
        .iter()
        .filter(|finding| filters.iter().all(|filter| filter.matches(finding)))
        .cloned()
        .collect();
    Reply::Json(paginate(
        &matching,
        start,
        max,
        Value::clone,
        "Findings",
        "NextToken",
    ))
}

fn batch_update(state: &mut State, context: &Context, input: &Value) -> Reply {
    let identifiers = match input.get("FindingIdentifiers").and_then(Value::as_array) {
        Some(identifiers) if (1..=100).contains(&identifiers.len()) => identifiers.clone(),
        Some(identifiers) => {
            return invalid(format!(
                "FindingIdentifiers has {} members; 1 to 100 are allowed",
                identifiers.len()
            ));
        }
        None => return invalid("FindingIdentifiers is required"),
    };
    let note = match input.get("Note") {
        None => None,
        Some(note) => {
            let text = note["Text"].as_str().unwrap_or_default();
            let by = note["UpdatedBy"].as_str().unwrap_or_default();
            if text.is_empty() || by.is_empty() {
                return invalid("Note needs both Text and UpdatedBy");
            }
            if text.chars().count() > 512 || by.chars().count() > 512 {
                return invalid("Note.Text and Note.UpdatedBy take at most 512 characters");
            }
            Some((text.to_owned(), by.to_owned()))
        }
    };
    let workflow = match input.pointer("/Workflow/Status") {
        None => None,
        Some(Value::String(status))
            if ["NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"].contains(&status.as_str()) =>
        {
            Some(status.clone())
        }
        Some(other) => return invalid(format!("Workflow.Status {other} is not valid")),
    };
    let updatable = [
        "Note",
        "Workflow",
        "Severity",
        "VerificationState",
        "Confidence",
        "Criticality",
        "Types",
        "UserDefinedFields",
        "RelatedFindings",
    ];
    if !updatable.iter().any(|member| input.get(member).is_some()) {
        return invalid("BatchUpdateFindings needs at least one field to update");
    }
    state
        .writes
        .push(("BatchUpdateFindings".into(), input.clone()));
    let mut processed = Vec::new();
    let mut unprocessed = Vec::new();
    for identifier in identifiers {
        let id = identifier["Id"].as_str().unwrap_or_default().to_owned();
        let product = identifier["ProductArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if let Some(code) = state.faults.take_unprocessed(&id) {
            unprocessed.push(json!({"FindingIdentifier": identifier, "ErrorCode": code, "ErrorMessage": "injected by the fake"}));
            continue;
        }
        let found = state
            .account(&context.key())
            .findings
            .iter_mut()
            .find(|finding| {
                finding["Id"] == id.as_str() && finding["ProductArn"] == product.as_str()
            });
        let Some(finding) = found else {
            unprocessed.push(json!({"FindingIdentifier": identifier, "ErrorCode": "FindingNotFound", "ErrorMessage": "Finding not found"}));
            continue;
        };
        if let Some((text, by)) = &note {
            finding["Note"] =
                json!({"Text": text, "UpdatedBy": by, "UpdatedAt": "2026-11-28T10:05:00.000Z"});
        }
        if let Some(status) = &workflow {
            finding["Workflow"] = json!({"Status": status});
            finding["WorkflowState"] = json!(status);
        }
        processed.push(identifier);
    }
    Reply::Json(json!({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(name: &str, filters: Value) -> Result<FieldFilter, String> {
        FieldFilter::parse(name, &filters)
    }

    fn finding() -> Value {
        control_finding(
            "123456789012",
            "us-east-1",
            "SageMaker.14",
            "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/a",
            "FAILED",
            1,
        )
    }

    #[test]
    fn alternatives_of_one_field_are_ored_and_exclusions_anded() {
        let finding = finding();
        let check = |name: &str, filters: Value| filter(name, filters).unwrap().matches(&finding);
        assert!(check(
            "ComplianceSecurityControlId",
            json!([{"Comparison": "EQUALS", "Value": "SageMaker.11"}, {"Comparison": "EQUALS", "Value": "SageMaker.14"}])
        ));
        assert!(!check(
            "ComplianceSecurityControlId",
            json!([{"Comparison": "EQUALS", "Value": "SageMaker.11"}])
        ));
        assert!(check(
            "ResourceId",
            json!([{"Comparison": "PREFIX", "Value": "arn:aws:sagemaker:us-east-1:"}])
        ));
        assert!(check(
            "Title",
            json!([{"Comparison": "CONTAINS", "Value": "nothing"}, {"Comparison": "CONTAINS", "Value": "isolation"}])
        ));
        assert!(check(
            "GeneratorId",
            json!([{"Comparison": "NOT_EQUALS", "Value": "x"}, {"Comparison": "NOT_EQUALS", "Value": "y"}])
        ));
        assert!(!check(
            "GeneratorId",
            json!([{"Comparison": "NOT_EQUALS", "Value": "x"}, {"Comparison": "NOT_EQUALS", "Value": "security-control/SageMaker.14"}])
        ));
        assert!(!check(
            "Region",
            json!([{"Comparison": "PREFIX", "Value": "us-"}, {"Comparison": "PREFIX_NOT_EQUALS", "Value": "us-east"}])
        ));
        assert!(
            !check(
                "NoteUpdatedBy",
                json!([{"Comparison": "EQUALS", "Value": "anyone"}])
            ),
            "no note, no match"
        );
    }

    #[test]
    fn the_combinations_the_reference_forbids_are_refused() {
        assert!(filter("Title", json!([{"Comparison": "CONTAINS", "Value": "a"}, {"Comparison": "EQUALS", "Value": "b"}])).is_err());
        assert!(filter("Title", json!([{"Comparison": "NOT_CONTAINS", "Value": "a"}, {"Comparison": "NOT_EQUALS", "Value": "b"}])).is_err());
        assert!(filter("Id", json!([{"Comparison": "EQUALS", "Value": "a"}, {"Comparison": "NOT_EQUALS", "Value": "b"}])).is_err());
        assert!(filter("Id", json!([{"Comparison": "PREFIX", "Value": "a"}, {"Comparison": "NOT_EQUALS", "Value": "b"}])).is_ok());
        assert!(filter("Unknown", json!([])).is_err());
        let many: Vec<Value> = (0..21)
            .map(|i| json!({"Comparison": "EQUALS", "Value": i.to_string()}))
            .collect();
        assert!(filter("Id", Value::from(many)).is_err());
    }

    #[test]
    fn a_seed_names_what_matters_and_the_rest_is_as_security_hub_writes_it() {
        let seeded = json!({
            "Resources": [{"Id": "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/a"}],
            "Workflow": {"Status": "SUPPRESSED"},
            "Note": {"Text": "accepted", "UpdatedBy": "alice"},
        });
        let whole = complete(seeded, "123456789012", "us-east-1", 7).unwrap();
        assert_eq!(whole["GeneratorId"], "security-control/SageMaker.14");
        assert_eq!(whole["Compliance"]["SecurityControlId"], "SageMaker.14");
        assert_eq!(whole["Compliance"]["Status"], "FAILED");
        assert_eq!(
            whole["ProductArn"],
            "arn:aws:securityhub:us-east-1::product/aws/securityhub"
        );
        assert_eq!(whole["Workflow"]["Status"], "SUPPRESSED");
        assert_eq!(whole["Note"]["UpdatedBy"], "alice");
        assert_eq!(whole["Resources"][0]["Type"], "Other", "{whole}");
        assert!(whole["Id"].as_str().unwrap().starts_with(
            "arn:aws:securityhub:us-east-1:123456789012:security-control/SageMaker.14/finding/"
        ));
    }
}
