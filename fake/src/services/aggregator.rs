//! An AWS Config aggregator over the fake's whole world: every account the fake holds, in every
//! region it holds resources in (`<account>` is the default region, `<account>/<region>` the
//! others), as one organization aggregator in the account that owns it sees them. Three
//! operations, with the limits and shapes of the service model (config 2014-11-12):
//!
//! * `ListAggregateDiscoveredResources`: one `ResourceType`, `Filters` (AccountId, Region,
//!   ResourceId, ResourceName), `Limit` 0..100 (0: the default, 100), `NextToken`.
//! * `BatchGetAggregateResourceConfig`: 1..100 `ResourceIdentifiers`; each recorded item's
//!   `configuration` is a JSON string in CloudFormation's property shape; deleted resources are
//!   not returned; [`Aggregators::unprocessed`] leaves chosen ones unprocessed.
//! * `GetAggregateComplianceDetailsByConfigRule`: `ConfigRuleName` (1..128, the model's
//!   `ConfigRuleName`), `AccountId`, `AwsRegion`, `Limit` 0..100 (default 50), `NextToken`;
//!   the results Config holds for that rule there, COMPLIANT and NON_COMPLIANT only (the
//!   model's `AggregateEvaluationResult`).
//!
//! A type an account's recorder does not record in a region (`Account::unrecorded_types`) is
//! neither listed nor returned there, which is all an aggregator shows of it.

use super::config::{SCHEDULE_TYPE, config_id, evaluation_result};
use crate::seed::{DEFAULT_REGION, KINDS};
use crate::{Account, Context, Reply, State};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The aggregators the fake knows, and what it is told to leave unprocessed.
#[derive(Debug, Clone, Default)]
pub struct Aggregators {
    /// Aggregator name -> the account that owns it (only that account may read it).
    pub owners: BTreeMap<String, String>,
    /// Resource id -> how many more BatchGetAggregateResourceConfig calls leave it unprocessed.
    pub unprocessed: BTreeMap<String, usize>,
}

/// The operations this module answers (the rest of Config is `config.rs`).
pub fn serves(operation: &str) -> bool {
    matches!(
        operation,
        "ListAggregateDiscoveredResources"
            | "BatchGetAggregateResourceConfig"
            | "GetAggregateComplianceDetailsByConfigRule"
    )
}

pub fn handle(state: &mut State, context: &Context, operation: &str, input: &Value) -> Reply {
    if let Err(reply) = aggregator(state, context, input) {
        return reply;
    }
    match operation {
        "ListAggregateDiscoveredResources" => list(state, input),
        "BatchGetAggregateResourceConfig" => batch_get(state, input),
        "GetAggregateComplianceDetailsByConfigRule" => compliance(state, input),
        _ => Reply::client_error(
            "UnknownOperationException",
            format!("StarlingDoveService.{operation} is not implemented by the fake"),
        ),
    }
}

fn validation(message: impl Into<String>) -> Reply {
    Reply::client_error("ValidationException", message)
}

fn text<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

/// The aggregator named, which the caller's account must own.
fn aggregator(state: &State, context: &Context, input: &Value) -> Result<(), Reply> {
    let name = text(input, "ConfigurationAggregatorName").unwrap_or_default();
    let valid = (1..=256).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'configurationAggregatorName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\-]+"
        )));
    }
    match state.aggregators.owners.get(name) {
        Some(owner) if *owner == context.account => Ok(()),
        _ => Err(Reply::client_error(
            "NoSuchConfigurationAggregatorException",
            format!(
                "The configuration aggregator does not exist. Check the configuration aggregator name {name} and try again."
            ),
        )),
    }
}

/// `Limit`: 0..100, 0 or absent meaning `default`.
fn limit(input: &Value, default: usize) -> Result<usize, Reply> {
    match input.get("Limit") {
        None => Ok(default),
        Some(value) => match value.as_u64() {
            Some(0) => Ok(default),
            Some(n) if n <= 100 => Ok(n as usize),
            _ => Err(validation(format!(
                "1 validation error detected: Value '{value}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"
            ))),
        },
    }
}

fn offset(input: &Value) -> Result<usize, Reply> {
    match text(input, "NextToken") {
        None | Some("") => Ok(0),
        Some(token) => token
            .strip_prefix("agg-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                Reply::client_error(
                    "InvalidNextTokenException",
                    "The nextToken provided is invalid",
                )
            }),
    }
}

/// The account and region of one of the fake's account keys.
fn place(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or((key, DEFAULT_REGION))
}

/// The fake's key for an account's resources in a region.
fn key(account: &str, region: &str) -> String {
    if region == DEFAULT_REGION {
        account.to_owned()
    } else {
        format!("{account}/{region}")
    }
}

/// The job-definition kind of a resource type, if it is one.
fn kind_of(resource_type: &str) -> Option<&'static str> {
    KINDS
        .iter()
        .map(|(kind, _, _)| *kind)
        .find(|kind| resource_type == format!("AWS::SageMaker::{kind}JobDefinition"))
}

/// Every recorded resource of `resource_type` in one account and region: its name and what
/// Describe answers for it, in name order.
fn recorded<'a>(account: &'a Account, resource_type: &str) -> Vec<(&'a str, &'a Value)> {
    if account.unrecorded_types.iter().any(|t| t == resource_type) {
        return Vec::new();
    }
    if resource_type == SCHEDULE_TYPE {
        return account
            .schedules
            .iter()
            .map(|(name, schedule)| (name.as_str(), schedule))
            .collect();
    }
    let Some(kind) = kind_of(resource_type) else {
        return Vec::new();
    };
    account
        .job_definitions
        .iter()
        .filter(|((k, _), _)| k == kind)
        .map(|((_, name), definition)| (name.as_str(), definition))
        .collect()
}

/// How many resources of `resource_type` an account and region records, without building them.
fn recorded_count(account: &Account, resource_type: &str) -> usize {
    if account.unrecorded_types.iter().any(|t| t == resource_type) {
        0
    } else if resource_type == SCHEDULE_TYPE {
        account.schedules.len()
    } else {
        kind_of(resource_type).map_or(0, |kind| {
            account
                .job_definitions
                .keys()
                .filter(|(k, _)| k == kind)
                .count()
        })
    }
}

/// The id Config records a resource under: its ARN where the account says so, as AWS does for
/// these types, else the fake's own (the same as `ListDiscoveredResources` gives).
fn resource_id(account: &Account, resource_type: &str, name: &str, described: &Value) -> String {
    let arn_member = if resource_type == SCHEDULE_TYPE {
        "MonitoringScheduleArn"
    } else {
        "JobDefinitionArn"
    };
    match described.get(arn_member).and_then(Value::as_str) {
        Some(arn) if account.config_ids_are_arns => arn.to_owned(),
        _ => config_id(resource_type, name),
    }
}

fn list(state: &State, input: &Value) -> Reply {
    let Some(resource_type) = text(input, "ResourceType") else {
        return validation("ResourceType is required");
    };
    let (size, start) = match (limit(input, 100), offset(input)) {
        (Ok(size), Ok(start)) => (size, start),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    let filters = input.get("Filters").cloned().unwrap_or(Value::Null);
    let wanted = |member: &str| text(&filters, member);
    let by_resource = wanted("ResourceId").is_some() || wanted("ResourceName").is_some();
    let mut page = Vec::new();
    let mut skipped = 0;
    let mut more = false;
    for (key, account) in &state.accounts {
        let (account_id, region) = place(key);
        if wanted("AccountId").is_some_and(|a| a != account_id)
            || wanted("Region").is_some_and(|r| r != region)
        {
            continue;
        }
        // Whole accounts before the page are counted, not rendered: a page costs its own size.
        if !by_resource {
            let count = recorded_count(account, resource_type);
            if skipped + count <= start {
                skipped += count;
                continue;
            }
        }
        for (name, described) in recorded(account, resource_type) {
            let id = resource_id(account, resource_type, name, described);
            if wanted("ResourceId").is_some_and(|w| w != id)
                || wanted("ResourceName").is_some_and(|w| w != name)
            {
                continue;
            }
            if skipped < start {
                skipped += 1;
                continue;
            }
            if page.len() == size {
                more = true;
                break;
            }
            page.push(json!({
                "SourceAccountId": account_id,
                "SourceRegion": region,
                "ResourceId": id,
                "ResourceType": resource_type,
                "ResourceName": name,
            }));
        }
        if more {
            break;
        }
    }
    let mut output = json!({ "ResourceIdentifiers": page });
    if more {
        output["NextToken"] = Value::from(format!("agg-{}", start + size));
    }
    Reply::Json(output)
}

/// A Describe answer as Config records it: CloudFormation's property names (the same members),
/// times as ISO-8601 text, as a JSON string.
fn configuration(described: &Value) -> String {
    fn iso(value: &Value) -> Value {
        match value {
            Value::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(key, value)| {
                        let value = match value.as_f64() {
                            Some(seconds) if key.ends_with("Time") => {
                                Value::from(iso_time(seconds as i64))
                            }
                            _ => iso(value),
                        };
                        (key.clone(), value)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(iso).collect()),
            other => other.clone(),
        }
    }
    iso(described).to_string()
}

/// `YYYY-MM-DDTHH:MM:SS.000Z` for epoch seconds (Howard Hinnant's civil-from-days).
fn iso_time(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn batch_get(state: &mut State, input: &Value) -> Reply {
    let identifiers = input
        .get("ResourceIdentifiers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !(1..=100).contains(&identifiers.len()) {
        return validation(format!(
            "1 validation error detected: Value at 'resourceIdentifiers' failed to satisfy constraint: Member must have length between 1 and 100 (got {})",
            identifiers.len()
        ));
    }
    let mut items = Vec::new();
    let mut unprocessed = Vec::new();
    for identifier in identifiers {
        let member = |name: &str| text(&identifier, name).unwrap_or_default().to_owned();
        let (account_id, region, id, resource_type) = (
            member("SourceAccountId"),
            member("SourceRegion"),
            member("ResourceId"),
            member("ResourceType"),
        );
        if account_id.is_empty() || region.is_empty() || id.is_empty() || resource_type.is_empty() {
            return validation(
                "SourceAccountId, SourceRegion, ResourceId and ResourceType are required",
            );
        }
        if let Some(left) = state.aggregators.unprocessed.get_mut(&id)
            && *left > 0
        {
            *left -= 1;
            unprocessed.push(identifier);
            continue;
        }
        let Some(account) = state.accounts.get(&key(&account_id, &region)) else {
            continue;
        };
        // Deleted (or never recorded) resources are not returned.
        let found = recorded(account, &resource_type)
            .into_iter()
            .find(|(name, described)| resource_id(account, &resource_type, name, described) == id);
        if let Some((name, described)) = found {
            let arn = described
                .get("MonitoringScheduleArn")
                .or_else(|| described.get("JobDefinitionArn"))
                .cloned()
                .unwrap_or(Value::Null);
            let captured = described
                .get("LastModifiedTime")
                .or_else(|| described.get("CreationTime"))
                .and_then(Value::as_f64)
                .unwrap_or(1_793_000_000.0);
            items.push(json!({
                "version": "1.3",
                "accountId": account_id,
                "configurationItemCaptureTime": captured,
                "configurationItemStatus": "OK",
                "configurationStateId": "1793000000000",
                "arn": arn,
                "resourceType": resource_type,
                "resourceId": id,
                "resourceName": name,
                "awsRegion": region,
                "availabilityZone": "Not Applicable",
                "configuration": configuration(described),
                "supplementaryConfiguration": {},
            }));
        }
    }
    Reply::Json(json!({
        "BaseConfigurationItems": items,
        "UnprocessedResourceIdentifiers": unprocessed,
    }))
}

fn compliance(state: &State, input: &Value) -> Reply {
    let Some(rule) = text(input, "ConfigRuleName") else {
        return validation("ConfigRuleName is required");
    };
    if !(1..=128).contains(&rule.chars().count()) || rule.trim().is_empty() {
        return validation(format!(
            "1 validation error detected: Value '{rule}' at 'configRuleName' failed to satisfy constraint: Member must have length less than or equal to 128"
        ));
    }
    let (Some(account_id), Some(region)) = (text(input, "AccountId"), text(input, "AwsRegion"))
    else {
        return validation("AccountId and AwsRegion are required");
    };
    if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
        return validation(format!(
            "1 validation error detected: Value '{account_id}' at 'accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{{12}}"
        ));
    }
    if !(1..=64).contains(&region.chars().count()) {
        return validation("AwsRegion must have length between 1 and 64");
    }
    let wanted = text(input, "ComplianceType");
    if wanted.is_some_and(|c| c != "COMPLIANT" && c != "NON_COMPLIANT") {
        return Reply::client_error(
            "InvalidParameterValueException",
            "ComplianceType supports only COMPLIANT and NON_COMPLIANT here",
        );
    }
    let (size, start) = match (limit(input, 50), offset(input)) {
        (Ok(size), Ok(start)) => (size, start),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    let results: Vec<&Value> = state
        .accounts
        .get(&key(account_id, region))
        .map(|account| {
            account
                .results
                .iter()
                .filter(|((rule_name, _, _), _)| rule_name == rule)
                .map(|(_, result)| result)
                .filter(|result| {
                    let compliance = text(result, "ComplianceType");
                    matches!(compliance, Some("COMPLIANT" | "NON_COMPLIANT"))
                        && wanted.is_none_or(|w| compliance == Some(w))
                })
                .collect()
        })
        .unwrap_or_default();
    let page: Vec<Value> = results
        .iter()
        .skip(start)
        .take(size)
        .map(|result| {
            let mut rendered = evaluation_result(rule, result);
            rendered["AccountId"] = Value::from(account_id);
            rendered["AwsRegion"] = Value::from(region);
            rendered
        })
        .collect();
    let mut output = json!({ "AggregateEvaluationResults": page });
    if start + size < results.len() {
        output["NextToken"] = Value::from(format!("agg-{}", start + size));
    }
    Reply::Json(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    const OWNER: &str = "111111111111";

    fn context() -> Context {
        Context {
            account: OWNER.into(),
            access_key: "AKID".into(),
            region: DEFAULT_REGION.into(),
        }
    }

    fn call(state: &mut State, operation: &str, input: Value) -> Result<Value, String> {
        match handle(state, &context(), operation, &input) {
            Reply::Json(value) => Ok(value),
            Reply::Error(_, code, message) => Err(format!("{code}: {message}")),
            Reply::Xml(..) => unreachable!(),
        }
    }

    fn world() -> State {
        let schedule = |name: &str| {
            json!({"MonitoringScheduleName": name, "CreationTime": 1_700_000_000,
                   "MonitoringScheduleArn": format!("arn:aws:sagemaker:us-east-1:222222222222:monitoring-schedule/{name}")})
        };
        let seed = Seed::from_json(
            &json!({"accounts": {
                "222222222222": {"schedules": [schedule("a"), schedule("b"), schedule("c")]},
                "222222222222/eu-west-1": {"schedules": [schedule("d")],
                    "unrecorded_types": ["AWS::SageMaker::DataQualityJobDefinition"],
                    "job_definitions": [{"MonitoringType": "DataQuality", "JobDefinitionName": "jd"}]},
            }})
            .to_string(),
        )
        .unwrap();
        let mut state = State::new(seed).unwrap();
        state.aggregators.owners.insert("org".into(), OWNER.into());
        state
    }

    #[test]
    fn pages_follow_the_limit_and_the_filters() {
        let mut state = world();
        let first = call(
            &mut state,
            "ListAggregateDiscoveredResources",
            json!({"ConfigurationAggregatorName": "org", "ResourceType": SCHEDULE_TYPE, "Limit": 2}),
        )
        .unwrap();
        assert_eq!(first["ResourceIdentifiers"].as_array().unwrap().len(), 2);
        let rest = call(
            &mut state,
            "ListAggregateDiscoveredResources",
            json!({"ConfigurationAggregatorName": "org", "ResourceType": SCHEDULE_TYPE,
                   "Limit": 2, "NextToken": first["NextToken"]}),
        )
        .unwrap();
        let names: Vec<&str> = rest["ResourceIdentifiers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["ResourceName"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["c", "d"]);
        assert!(rest.get("NextToken").is_none());
        let eu = call(
            &mut state,
            "ListAggregateDiscoveredResources",
            json!({"ConfigurationAggregatorName": "org", "ResourceType": SCHEDULE_TYPE,
                   "Filters": {"Region": "eu-west-1"}}),
        )
        .unwrap();
        assert_eq!(eu["ResourceIdentifiers"][0]["SourceRegion"], "eu-west-1");
        assert_eq!(eu["ResourceIdentifiers"].as_array().unwrap().len(), 1);
        // Not recorded there: not listed.
        let unrecorded = call(
            &mut state,
            "ListAggregateDiscoveredResources",
            json!({"ConfigurationAggregatorName": "org",
                   "ResourceType": "AWS::SageMaker::DataQualityJobDefinition"}),
        )
        .unwrap();
        assert_eq!(unrecorded["ResourceIdentifiers"], json!([]));
        let too_many = call(
            &mut state,
            "ListAggregateDiscoveredResources",
            json!({"ConfigurationAggregatorName": "org", "ResourceType": SCHEDULE_TYPE, "Limit": 101}),
        )
        .unwrap_err();
        assert!(too_many.starts_with("ValidationException"), "{too_many}");
    }

    #[test]
    fn batches_are_bounded_and_unprocessed_identifiers_come_back() {
        let mut state = world();
        let id = config_id(SCHEDULE_TYPE, "a");
        state.aggregators.unprocessed.insert(id.clone(), 1);
        let identifier = json!({"SourceAccountId": "222222222222", "SourceRegion": "us-east-1",
                                "ResourceId": id, "ResourceType": SCHEDULE_TYPE});
        let input =
            json!({"ConfigurationAggregatorName": "org", "ResourceIdentifiers": [identifier]});
        let first = call(&mut state, "BatchGetAggregateResourceConfig", input.clone()).unwrap();
        assert_eq!(first["BaseConfigurationItems"], json!([]));
        assert_eq!(first["UnprocessedResourceIdentifiers"][0]["ResourceId"], id);
        let second = call(&mut state, "BatchGetAggregateResourceConfig", input).unwrap();
        let item = &second["BaseConfigurationItems"][0];
        let configuration: Value =
            serde_json::from_str(item["configuration"].as_str().unwrap()).unwrap();
        assert_eq!(configuration["MonitoringScheduleName"], "a");
        assert_eq!(configuration["CreationTime"], "2023-11-14T22:13:20.000Z");
        let empty = call(
            &mut state,
            "BatchGetAggregateResourceConfig",
            json!({"ConfigurationAggregatorName": "org", "ResourceIdentifiers": []}),
        )
        .unwrap_err();
        assert!(empty.contains("between 1 and 100"), "{empty}");
    }

    #[test]
    fn only_the_owner_reads_an_aggregator_that_exists() {
        let mut state = world();
        let input = json!({"ConfigurationAggregatorName": "other", "ResourceType": SCHEDULE_TYPE});
        let missing = call(&mut state, "ListAggregateDiscoveredResources", input).unwrap_err();
        assert!(
            missing.starts_with("NoSuchConfigurationAggregatorException"),
            "{missing}"
        );
        state
            .aggregators
            .owners
            .insert("org".into(), "999999999999".into());
        let input = json!({"ConfigurationAggregatorName": "org", "ResourceType": SCHEDULE_TYPE});
        assert!(call(&mut state, "ListAggregateDiscoveredResources", input).is_err());
    }

    #[test]
    fn compliance_details_take_a_rule_name_of_at_most_128_and_an_account_and_region() {
        let mut state = world();
        let ask = |rule: &str| {
            json!({"ConfigurationAggregatorName": "org", "ConfigRuleName": rule,
                   "AccountId": "222222222222", "AwsRegion": "us-east-1"})
        };
        assert!(
            call(
                &mut state,
                "GetAggregateComplianceDetailsByConfigRule",
                ask(&"r".repeat(128))
            )
            .is_ok()
        );
        let long = call(
            &mut state,
            "GetAggregateComplianceDetailsByConfigRule",
            ask(&"r".repeat(129)),
        )
        .unwrap_err();
        assert!(long.starts_with("ValidationException"), "{long}");
        let mut no_region = ask("r");
        no_region.as_object_mut().unwrap().remove("AwsRegion");
        assert!(
            call(
                &mut state,
                "GetAggregateComplianceDetailsByConfigRule",
                no_region
            )
            .is_err()
        );
    }

    #[test]
    fn times_render_as_iso_8601() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(1_795_860_000), "2026-11-28T10:00:00.000Z");
    }
}
