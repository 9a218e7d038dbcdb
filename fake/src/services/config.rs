//! AWS Config operations the rule uses (awsJson1.1, `X-Amz-Target: StarlingDoveService.<Op>`).
//! PutEvaluations enforces the documented limits, so a rule that breaks one fails here too.

use crate::seed::{KINDS, iso_to_epoch};
use crate::{Context, PutRecord, RecordedEvaluation, Reply, State, paginate};
use serde_json::{Value, json};

pub const SCHEDULE_TYPE: &str = "AWS::SageMaker::MonitoringSchedule";

/// Tokens of the form `fake-token:<rule name>` tell the fake which rule is reporting, so it can
/// keep per-rule results the way Config does; the tokens the fake issued otherwise
/// ([`crate::State::result_tokens`]) report under the rule they were issued for.
pub fn rule_of_token(state: &State, token: &str) -> Option<String> {
    match token.strip_prefix("fake-token:") {
        Some(rule) => Some(rule.to_owned()),
        None => state.result_tokens.get(token).cloned(),
    }
}

/// The id Config records a resource under. Real Config uses these types' ARNs (their primary
/// identifier), and the sample account says so (`config_ids_are_arns`); everywhere else the fake
/// hands out ids that are not ARNs, so code that reports under an ARN where it should use
/// Config's id is caught.
pub fn config_id(resource_type: &str, name: &str) -> String {
    let short = resource_type.rsplit("::").next().unwrap_or(resource_type);
    format!("config-id/{short}/{}", name.to_ascii_lowercase())
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
    // In test mode Config records nothing and reads nothing from the token.
    let rule = match rule_of_token(state, &token) {
        Some(rule) => rule,
        None if test_mode => String::new(),
        None => {
            return Reply::client_error(
                "InvalidResultTokenException",
                "The specified ResultToken is not valid.",
            );
        }
    };
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
        if evaluation.get("Annotation").is_some() && !(1..=256).contains(&length("Annotation")) {
            return validation(format!(
                "{} must have length between 1 and 256 (got {})",
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
            // As AWS words it (aws-config-rdk issue 290).
            return Reply::client_error(
                "InvalidParameterValueException",
                format!(
                    "The resource type {resource_type} is invalid. Only the following values are permitted: [AWS::ACM::Certificate, AWS::SageMaker::DataQualityJobDefinition, AWS::SageMaker::ModelBiasJobDefinition, AWS::S3::Bucket]"
                ),
            );
        }
    }
    let failure_rate = state.faults.put_failures;
    let mut failed = Vec::new();
    let mut accepted = 0;
    let recorded_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
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
            // OrderingTimestamp is "the time of the event in Config that triggered the
            // evaluation" (API reference, Evaluation): Config orders a resource's evaluations
            // by it, so one older than the result it holds is accepted (not a failed
            // evaluation) but does not replace that result. The API reference does not word
            // the older case; keeping the newest is what ordering by the timestamp means.
            let results = &mut state.account(&context.key()).results;
            let held = results
                .get(&key)
                .and_then(|held| epoch(&held["OrderingTimestamp"]));
            if held.is_some_and(|held| epoch(&evaluation["OrderingTimestamp"]) < Some(held)) {
                state.superseded.push(evaluation.clone());
            } else {
                results.insert(
                    key,
                    json!({
                        "ConfigRuleName": rule,
                        "ResourceType": field("ComplianceResourceType"),
                        "ResourceId": field("ComplianceResourceId"),
                        "ComplianceType": field("ComplianceType"),
                        "Annotation": field("Annotation"),
                        "OrderingTimestamp": evaluation["OrderingTimestamp"],
                        "ResultRecordedTime": recorded_at,
                    }),
                );
            }
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
    let account = state.account(&context.key());
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
    let undiscovered = state.faults.undiscovered.clone();
    let listed = |name: &str| !undiscovered.iter().any(|left_out| left_out == name);
    let account = state.account(&context.key());
    let arns = account.config_ids_are_arns;
    let id = |arn: &Value, name: &str| {
        if arns {
            arn.clone()
        } else {
            Value::from(config_id(&resource_type, name))
        }
    };
    let wanted_name = input.get("resourceName").and_then(Value::as_str);
    if account.discovered.is_none() && resource_type == SCHEDULE_TYPE {
        // Only the page asked for is rendered: a 10,000-schedule account is listed in 100 pages.
        let names: Vec<(&String, &Value)> = account
            .schedules
            .iter()
            .filter(|(name, _)| wanted_name.is_none_or(|wanted| wanted == name.as_str()))
            .filter(|(name, _)| listed(name))
            .collect();
        let render = |(name, schedule): &(&String, &Value)| {
            json!({
                "resourceType": SCHEDULE_TYPE,
                "resourceId": id(&schedule["MonitoringScheduleArn"], name),
                "resourceName": name,
            })
        };
        return Reply::Json(paginate(
            &names,
            start,
            limit,
            render,
            "resourceIdentifiers",
            "nextToken",
        ));
    }
    let all: Vec<Value> = match &account.discovered {
        Some(listed) => listed
            .iter()
            .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some(&resource_type))
            .cloned()
            .collect(),
        None if resource_type == SCHEDULE_TYPE => Vec::new(),
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
                            "resourceId": id(&definition["JobDefinitionArn"], name),
                            "resourceName": name,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
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
    // The API model's StringWithCharLimit64, although a rule may be named with 128.
    if rule.chars().count() > 64 {
        return validation(format!(
            "1 validation error detected: Value '{rule}' at 'configRuleName' failed to satisfy constraint: Member must have length less than or equal to 64"
        ));
    }
    let (limit, start) = match (limit(input, "Limit"), offset(input, "NextToken")) {
        (Ok(limit), Ok(start)) => (limit, start),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    let wanted: Vec<&str> = input
        .get("ComplianceTypes")
        .and_then(Value::as_array)
        .map(|types| types.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let account = state.account(&context.key());
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
    let render = |result: &&Value| evaluation_result(rule, result);
    Reply::Json(paginate(
        &all,
        start,
        limit,
        render,
        "EvaluationResults",
        "NextToken",
    ))
}

/// A result Config holds, as its `EvaluationResult` shape says it (the aggregator's adds where).
pub(crate) fn evaluation_result(rule: &str, result: &Value) -> Value {
    let recorded = result
        .get("ResultRecordedTime")
        .cloned()
        .unwrap_or(Value::from(1_795_860_000));
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
        "ResultRecordedTime": recorded,
        "ConfigRuleInvokedTime": recorded,
        "Annotation": result.get("Annotation").cloned().unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    fn put(state: &mut State, token: &str, evaluations: Value) -> Result<Value, String> {
        let context = Context {
            account: "123456789012".into(),
            access_key: "AKID".into(),
            region: crate::seed::DEFAULT_REGION.into(),
        };
        let input = json!({"ResultToken": token, "Evaluations": evaluations});
        match put_evaluations(state, &context, &input) {
            Reply::Json(value) => Ok(value),
            Reply::Error(_, code, message) => Err(format!("{code}: {message}")),
            Reply::Xml(..) => unreachable!(),
        }
    }

    fn evaluation(id: &str, annotation: &str) -> Value {
        json!({"ComplianceResourceType": SCHEDULE_TYPE, "ComplianceResourceId": id,
               "ComplianceType": "COMPLIANT", "Annotation": annotation, "OrderingTimestamp": 1})
    }

    #[test]
    fn put_evaluations_refuses_what_config_refuses() {
        let mut state = State::new(Seed::default()).unwrap();
        let good = json!([evaluation("a", "fine")]);
        assert!(put(&mut state, "token", good.clone()).is_ok());
        assert!(put(&mut state, "fake-token:rule", good.clone()).is_ok());
        let bogus = put(&mut state, "a-token-config-never-issued", good).unwrap_err();
        assert!(bogus.starts_with("InvalidResultTokenException"), "{bogus}");
        let empty = put(&mut state, "token", json!([evaluation("a", "")])).unwrap_err();
        assert!(empty.contains("between 1 and 256"), "{empty}");
        state.faults.refuse_resource_types = vec![SCHEDULE_TYPE.into()];
        let refused = put(&mut state, "token", json!([evaluation("b", "x")])).unwrap_err();
        assert!(
            refused.starts_with("InvalidParameterValueException: The resource type AWS::SageMaker::MonitoringSchedule is invalid. Only the following values are permitted"),
            "{refused}"
        );
    }

    #[test]
    fn an_evaluation_older_than_the_held_result_is_accepted_and_does_not_replace_it() {
        let mut state = State::new(Seed::default()).unwrap();
        let at = |id: &str, compliance: &str, ordering: f64| {
            json!({"ComplianceResourceType": SCHEDULE_TYPE, "ComplianceResourceId": id,
                   "ComplianceType": compliance, "OrderingTimestamp": ordering})
        };
        let held = |state: &mut State| {
            let key = ("rule".to_owned(), SCHEDULE_TYPE.to_owned(), "a".to_owned());
            state.account("123456789012").results[&key]["ComplianceType"].clone()
        };
        put(
            &mut state,
            "fake-token:rule",
            json!([at("a", "NON_COMPLIANT", 200.0)]),
        )
        .unwrap();
        let older = put(
            &mut state,
            "fake-token:rule",
            json!([at("a", "COMPLIANT", 100.0)]),
        );
        assert_eq!(older.unwrap()["FailedEvaluations"], json!([]));
        assert_eq!(held(&mut state), "NON_COMPLIANT");
        assert_eq!(state.superseded.len(), 1);
        put(
            &mut state,
            "fake-token:rule",
            json!([at("a", "COMPLIANT", 200.0)]),
        )
        .unwrap();
        assert_eq!(held(&mut state), "COMPLIANT", "an equal timestamp replaces");
        // Two evaluations of one resource in one call: the newer stands, whatever the order.
        let both = json!([at("a", "NON_COMPLIANT", 300.0), at("a", "COMPLIANT", 250.0)]);
        put(&mut state, "fake-token:rule", both).unwrap();
        assert_eq!(held(&mut state), "NON_COMPLIANT");
    }
}
