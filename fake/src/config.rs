//! AWS Config operations the rule uses (awsJson1.1, `X-Amz-Target: StarlingDoveService.<Op>`).
//! PutEvaluations enforces the documented limits, so a rule that breaks one fails here too.

use crate::seed::{KINDS, iso_to_epoch};
use crate::{Context, PutRecord, RecordedEvaluation, Reply, State, paginate};
use serde_json::{Value, json};

pub const SCHEDULE_TYPE: &str = "AWS::SageMaker::MonitoringSchedule";

/// Tokens of the form `fake-token:<rule name>` tell the fake which rule is reporting, so it can
/// keep per-rule results the way Config does. Any other token is accepted under rule "".
pub fn rule_of_token(token: &str) -> &str {
    token.strip_prefix("fake-token:").unwrap_or("")
}

pub fn handle(state: &mut State, context: &Context, operation: &str, input: &Value) -> Reply {
    match operation {
        "PutEvaluations" => put_evaluations(state, context, input),
        "GetResourceConfigHistory" => resource_history(state, context, input),
        "ListDiscoveredResources" => discovered(state, context, input),
        "GetComplianceDetailsByConfigRule" => compliance_details(state, context, input),
        _ => Reply::client_error(
            "UnknownOperationException",
            format!("StarlingDoveService.{operation} is not implemented by the fake"),
        ),
    }
}

fn validation(message: impl Into<String>) -> Reply {
    Reply::client_error("ValidationException", message)
}

fn put_evaluations(state: &mut State, context: &Context, input: &Value) -> Reply {
    let token = match input.get("ResultToken").and_then(Value::as_str) {
        Some(token) if !token.is_empty() => token.to_owned(),
        _ => {
            return validation(
                "1 validation error detected: Value null at 'resultToken' failed to satisfy constraint: Member must not be null",
            );
        }
    };
    let test_mode = input
        .get("TestMode")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let evaluations = input
        .get("Evaluations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if evaluations.len() > 100 {
        return validation(format!(
            "1 validation error detected: Value at 'evaluations' failed to satisfy constraint: Member must have length less than or equal to 100 (got {})",
            evaluations.len()
        ));
    }
    for (index, evaluation) in evaluations.iter().enumerate() {
        let field = |name: &str| evaluation.get(name).and_then(Value::as_str);
        let length = |name: &str| field(name).map_or(0, |text| text.chars().count());
        let at = |name: &str| format!("evaluations.{}.member.{name}", index + 1);
        if !(1..=256).contains(&length("ComplianceResourceType")) {
            return validation(format!(
                "{} must have length between 1 and 256",
                at("complianceResourceType")
            ));
        }
        if !(1..=768).contains(&length("ComplianceResourceId")) {
            return validation(format!(
                "{} must have length between 1 and 768",
                at("complianceResourceId")
            ));
        }
        if length("Annotation") > 256 {
            return validation(format!(
                "{} must have length less than or equal to 256 (got {})",
                at("annotation"),
                length("Annotation")
            ));
        }
        match field("ComplianceType") {
            Some("COMPLIANT" | "NON_COMPLIANT" | "NOT_APPLICABLE") => {}
            Some("INSUFFICIENT_DATA") => {
                return Reply::client_error(
                    "InvalidParameterValueException",
                    "The compliance type INSUFFICIENT_DATA is not allowed for custom rules",
                );
            }
            other => return validation(format!("{} is invalid: {other:?}", at("complianceType"))),
        }
        if !evaluation
            .get("OrderingTimestamp")
            .is_some_and(Value::is_number)
        {
            return validation(format!("{} must be a timestamp", at("orderingTimestamp")));
        }
        let resource_type = field("ComplianceResourceType").unwrap_or_default();
        if state
            .faults
            .refuse_resource_types
            .iter()
            .any(|refused| refused == resource_type)
        {
            return Reply::client_error(
                "InvalidParameterValueException",
                format!(
                    "The resourceType {resource_type} is not a valid value. Valid values: AWS::SageMaker::DataQualityJobDefinition, AWS::SageMaker::ModelBiasJobDefinition, ..."
                ),
            );
        }
    }
    let failure_rate = state.faults.put_failures;
    let mut failed = Vec::new();
    let mut accepted = 0;
    let rule = rule_of_token(&token).to_owned();
    for evaluation in evaluations {
        if failure_rate > 0.0 && state.dice.next_f64() < failure_rate {
            failed.push(evaluation);
            continue;
        }
        accepted += 1;
        if !test_mode {
            let field = |name: &str| {
                evaluation
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let key = (
                rule.clone(),
                field("ComplianceResourceType"),
                field("ComplianceResourceId"),
            );
            state.account(&context.account).results.insert(
                key,
                json!({
                    "ConfigRuleName": rule,
                    "ResourceType": field("ComplianceResourceType"),
                    "ResourceId": field("ComplianceResourceId"),
                    "ComplianceType": field("ComplianceType"),
                    "Annotation": field("Annotation"),
                    "OrderingTimestamp": evaluation["OrderingTimestamp"],
                }),
            );
        }
        state.evaluations.push(RecordedEvaluation {
            account: context.account.clone(),
            access_key: context.access_key.clone(),
            result_token: token.clone(),
            test_mode,
            evaluation,
        });
    }
    state.puts.push(PutRecord {
        account: context.account.clone(),
        evaluations: accepted,
        failed: failed.len(),
    });
    Reply::Json(json!({"FailedEvaluations": failed}))
}

fn limit(input: &Value, member: &str) -> Result<usize, Reply> {
    match input.get(member) {
        None => Ok(100),
        Some(value) => match value.as_u64() {
            Some(0) => Ok(100),
            Some(n) if n <= 100 => Ok(n as usize),
            _ => Err(validation(format!(
                "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have value less than or equal to 100"
            ))),
        },
    }
}

fn offset(input: &Value, member: &str) -> Result<usize, Reply> {
    match input.get(member).and_then(Value::as_str) {
        None | Some("") => Ok(0),
        Some(token) => token
            .strip_prefix("page-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                Reply::client_error(
                    "InvalidNextTokenException",
                    "The nextToken provided is invalid",
                )
            }),
    }
}

fn epoch(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => iso_to_epoch(text).and_then(|v| v.as_f64()),
        _ => None,
    }
}

fn resource_history(state: &mut State, context: &Context, input: &Value) -> Reply {
    let resource_type = input
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let resource_id = input
        .get("resourceId")
        .and_then(Value::as_str)
        .unwrap_or("");
    let limit = match limit(input, "limit") {
        Ok(limit) => limit,
        Err(reply) => return reply,
    };
    let later = input.get("laterTime").and_then(epoch);
    let account = state.account(&context.account);
    let mut items: Vec<&Value> = account
        .config_items
        .iter()
        .filter(|item| {
            item.get("resourceType").and_then(Value::as_str) == Some(resource_type)
                && item.get("resourceId").and_then(Value::as_str) == Some(resource_id)
        })
        .collect();
    if items.is_empty() {
        return Reply::client_error(
            "ResourceNotDiscoveredException",
            format!(
                "Resource {resource_id} of resourceType:{resource_type} is unknown or has not been discovered"
            ),
        );
    }
    let captured = |item: &Value| {
        item.get("configurationItemCaptureTime")
            .and_then(epoch)
            .unwrap_or(0.0)
    };
    items.retain(|item| later.is_none_or(|later| captured(item) <= later + 0.001));
    items.sort_by(|a, b| captured(b).total_cmp(&captured(a)));
    let items: Vec<Value> = items
        .into_iter()
        .take(limit)
        .map(|item| {
            let mut item = item.clone();
            item["configurationItemCaptureTime"] = Value::from(captured(&item));
            if let Some(configuration) = item.get("configuration").filter(|c| !c.is_string()) {
                item["configuration"] = Value::from(configuration.to_string());
            }
            item
        })
        .collect();
    Reply::Json(json!({"configurationItems": items}))
}

fn discovered(state: &mut State, context: &Context, input: &Value) -> Reply {
    let resource_type = input
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let (limit, start) = match (limit(input, "limit"), offset(input, "nextToken")) {
        (Ok(limit), Ok(start)) => (limit, start),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    let account = state.account(&context.account);
    let all: Vec<Value> = match &account.discovered {
        Some(listed) => listed
            .iter()
            .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some(&resource_type))
            .cloned()
            .collect(),
        None if resource_type == SCHEDULE_TYPE => account
            .schedules
            .values()
            .map(|s| {
                json!({
                    "resourceType": SCHEDULE_TYPE,
                    "resourceId": s["MonitoringScheduleArn"],
                    "resourceName": s["MonitoringScheduleName"],
                })
            })
            .collect(),
        None => KINDS
            .iter()
            .find(|(kind, _, segment)| {
                resource_type == format!("AWS::SageMaker::{kind}JobDefinition")
                    && !segment.is_empty()
            })
            .map(|(kind, _, _)| {
                account
                    .job_definitions
                    .iter()
                    .filter(|((k, _), _)| k == kind)
                    .map(|((_, name), definition)| {
                        json!({
                            "resourceType": resource_type,
                            "resourceId": definition["JobDefinitionArn"],
                            "resourceName": name,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    let wanted_name = input.get("resourceName").and_then(Value::as_str);
    let all: Vec<Value> = all
        .into_iter()
        .filter(|r| {
            wanted_name
                .is_none_or(|name| r.get("resourceName").and_then(Value::as_str) == Some(name))
        })
        .collect();
    Reply::Json(paginate(
        &all,
        start,
        limit,
        Value::clone,
        "resourceIdentifiers",
        "nextToken",
    ))
}

fn compliance_details(state: &mut State, context: &Context, input: &Value) -> Reply {
    let Some(rule) = input.get("ConfigRuleName").and_then(Value::as_str) else {
        return validation("ConfigRuleName is required");
    };
    let (limit, start) = match (limit(input, "Limit"), offset(input, "NextToken")) {
        (Ok(limit), Ok(start)) => (limit, start),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    let wanted: Vec<&str> = input
        .get("ComplianceTypes")
        .and_then(Value::as_array)
        .map(|types| types.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let account = state.account(&context.account);
    let all: Vec<&Value> = account
        .results
        .iter()
        .filter(|((rule_name, _, _), result)| {
            rule_name == rule
                && (wanted.is_empty()
                    || wanted.contains(
                        &result
                            .get("ComplianceType")
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                    ))
        })
        .map(|(_, result)| result)
        .collect();
    let render = |result: &&Value| {
        json!({
            "EvaluationResultIdentifier": {
                "EvaluationResultQualifier": {
                    "ConfigRuleName": rule,
                    "ResourceType": result["ResourceType"],
                    "ResourceId": result["ResourceId"],
                },
                "OrderingTimestamp": result.get("OrderingTimestamp").cloned().unwrap_or(Value::from(0)),
            },
            "ComplianceType": result["ComplianceType"],
            "ResultRecordedTime": 1_795_860_000,
            "ConfigRuleInvokedTime": 1_795_860_000,
            "Annotation": result.get("Annotation").cloned().unwrap_or(Value::Null),
        })
    };
    Reply::Json(paginate(
        &all,
        start,
        limit,
        render,
        "EvaluationResults",
        "NextToken",
    ))
}
