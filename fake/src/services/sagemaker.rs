//! SageMaker operations on monitoring schedules and job definitions (awsJson1.1,
//! `X-Amz-Target: SageMaker.<Operation>`).

use crate::seed::KINDS;
use crate::{Context, Reply, State, paginate};
use serde_json::{Value, json};

const REGION: &str = "us-east-1";

pub fn handle(state: &mut State, context: &Context, operation: &str, input: &Value) -> Reply {
    match operation {
        "ListMonitoringSchedules" => list_schedules(state, context, input),
        "DescribeMonitoringSchedule" => describe_schedule(state, context, input),
        "ListTags" => list_tags(state, context, input),
        "UpdateMonitoringSchedule" => update_schedule(state, context, input),
        _ => {
            if let Some(kind) = job_definition_operation(operation, "Describe") {
                return describe_job_definition(state, context, kind, input);
            }
            if let Some(kind) = job_definition_operation(operation, "Create") {
                return create_job_definition(state, context, kind, input);
            }
            if let Some(kind) = operation
                .strip_prefix("List")
                .and_then(|rest| rest.strip_suffix("JobDefinitions"))
                .and_then(|kind| KINDS.iter().map(|(k, _, _)| *k).find(|k| *k == kind))
            {
                return list_job_definitions(state, context, kind, input);
            }
            Reply::client_error(
                "UnknownOperationException",
                format!("SageMaker.{operation} is not implemented by the fake"),
            )
        }
    }
}

fn job_definition_operation(operation: &str, verb: &str) -> Option<&'static str> {
    let kind = operation
        .strip_prefix(verb)?
        .strip_suffix("JobDefinition")?;
    KINDS
        .iter()
        .map(|(name, _, _)| *name)
        .find(|name| *name == kind)
}

fn text<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

fn required<'a>(input: &'a Value, member: &str) -> Result<&'a str, Reply> {
    match text(input, member) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(Reply::client_error(
            "ValidationException",
            format!(
                "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ),
        )),
    }
}

fn list_schedules(state: &mut State, context: &Context, input: &Value) -> Reply {
    let (max, start) = match page_bounds(input) {
        Ok(bounds) => bounds,
        Err(reply) => return reply,
    };
    let account = state.account(&context.key());
    let matches = |schedule: &Value| {
        let config = &schedule["MonitoringScheduleConfig"];
        let equals = |filter: &str, value: Option<&str>| {
            text(input, filter).is_none_or(|wanted| value == Some(wanted))
        };
        equals(
            "MonitoringJobDefinitionName",
            text(config, "MonitoringJobDefinitionName"),
        ) && equals(
            "MonitoringTypeEquals",
            text(config, "MonitoringType").or(text(schedule, "MonitoringType")),
        ) && equals("EndpointName", text(schedule, "EndpointName"))
            && equals("StatusEquals", text(schedule, "MonitoringScheduleStatus"))
            && text(input, "NameContains").is_none_or(|part| {
                text(schedule, "MonitoringScheduleName").is_some_and(|name| name.contains(part))
            })
    };
    let selected: Vec<&Value> = account.schedules.values().filter(|s| matches(s)).collect();
    Reply::Json(paginate(
        &selected,
        start,
        max,
        |schedule| summary(schedule),
        "MonitoringScheduleSummaries",
        "NextToken",
    ))
}

fn page_bounds(input: &Value) -> Result<(usize, usize), Reply> {
    let max = match input.get("MaxResults") {
        None => 10,
        Some(value) => match value.as_u64() {
            Some(n) if (1..=100).contains(&n) => n as usize,
            _ => {
                return Err(Reply::client_error(
                    "ValidationException",
                    format!(
                        "1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
                    ),
                ));
            }
        },
    };
    let start = match text(input, "NextToken") {
        None => 0,
        Some(token) => match token
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(offset) => offset,
            None => {
                return Err(Reply::client_error(
                    "ValidationException",
                    "Invalid pagination token",
                ));
            }
        },
    };
    Ok((max, start))
}

fn list_job_definitions(state: &mut State, context: &Context, kind: &str, input: &Value) -> Reply {
    let (max, start) = match page_bounds(input) {
        Ok(bounds) => bounds,
        Err(reply) => return reply,
    };
    let account = state.account(&context.key());
    let all: Vec<Value> = account
        .job_definitions
        .iter()
        .filter(|((k, _), _)| k == kind)
        .map(|((_, name), definition)| {
            let mut summary = json!({
                "MonitoringJobDefinitionName": name,
                "MonitoringJobDefinitionArn": definition["JobDefinitionArn"],
                "CreationTime": definition.get("CreationTime").cloned().unwrap_or(Value::from(0)),
            });
            let input_member = format!("{kind}JobInput");
            if let Some(endpoint) = definition[&input_member]["EndpointInput"].get("EndpointName") {
                summary["EndpointName"] = endpoint.clone();
            }
            summary
        })
        .collect();
    Reply::Json(paginate(
        &all,
        start,
        max,
        Value::clone,
        "JobDefinitionSummaries",
        "NextToken",
    ))
}

fn summary(schedule: &Value) -> Value {
    let config = &schedule["MonitoringScheduleConfig"];
    let mut summary = json!({});
    for member in [
        "MonitoringScheduleName",
        "MonitoringScheduleArn",
        "CreationTime",
        "LastModifiedTime",
        "MonitoringScheduleStatus",
        "EndpointName",
    ] {
        if let Some(value) = schedule.get(member) {
            summary[member] = value.clone();
        }
    }
    if let Some(name) = config.get("MonitoringJobDefinitionName") {
        summary["MonitoringJobDefinitionName"] = name.clone();
    }
    if let Some(kind) = config
        .get("MonitoringType")
        .or(schedule.get("MonitoringType"))
    {
        summary["MonitoringType"] = kind.clone();
    }
    summary
}

fn denied(state: &State, name: &str, operation: &str) -> Option<Reply> {
    state
        .faults
        .deny_resources
        .iter()
        .any(|denied| denied == name)
        .then(|| {
            Reply::client_error(
                "AccessDeniedException",
                format!("not authorized to perform: sagemaker:{operation} on resource {name}"),
            )
        })
}

fn describe_schedule(state: &mut State, context: &Context, input: &Value) -> Reply {
    let name = match required(input, "MonitoringScheduleName") {
        Ok(name) => name,
        Err(reply) => return reply,
    };
    if let Some(reply) = denied(state, name, "DescribeMonitoringSchedule") {
        return reply;
    }
    let vanished = state.faults.vanish.iter().any(|gone| gone == name);
    match state.account(&context.key()).schedules.get(name) {
        Some(schedule) if !vanished => Reply::Json(schedule.clone()),
        _ => Reply::client_error(
            "ResourceNotFound",
            format!("Could not find monitoring schedule '{name}'"),
        ),
    }
}

fn describe_job_definition(
    state: &mut State,
    context: &Context,
    kind: &str,
    input: &Value,
) -> Reply {
    let name = match required(input, "JobDefinitionName") {
        Ok(name) => name,
        Err(reply) => return reply,
    };
    if let Some(reply) = denied(state, name, &format!("Describe{kind}JobDefinition")) {
        return reply;
    }
    match state
        .account(&context.account)
        .job_definitions
        .get(&(kind.to_owned(), name.to_owned()))
    {
        Some(definition) => Reply::Json(definition.clone()),
        None => Reply::client_error(
            "ResourceNotFound",
            format!("Could not find {kind} job definition '{name}'"),
        ),
    }
}

fn list_tags(state: &mut State, context: &Context, input: &Value) -> Reply {
    let arn = match required(input, "ResourceArn") {
        Ok(arn) => arn,
        Err(reply) => return reply,
    };
    let tags: Vec<Value> = state
        .account(&context.account)
        .tags
        .get(arn)
        .map(|tags| {
            tags.iter()
                .map(|(key, value)| json!({"Key": key, "Value": value}))
                .collect()
        })
        .unwrap_or_default();
    Reply::Json(json!({"Tags": tags}))
}

/// The first required member missing at `paths` (dotted, from `value`), as SageMaker's
/// validation names it.
fn missing(value: &Value, paths: &[&str]) -> Option<Reply> {
    paths.iter().find_map(|path| {
        let found = path
            .split('.')
            .try_fold(value, |node, member| node.get(member))
            .is_some_and(|node| !node.is_null() && node != &Value::String(String::new()));
        (!found).then(|| {
            Reply::client_error(
                "ValidationException",
                format!(
                    "1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null"
                ),
            )
        })
    })
}

/// A boolean member that is present must be a boolean.
fn not_boolean(value: &Value, path: &str) -> Option<Reply> {
    let node = path
        .split('.')
        .try_fold(value, |node, member| node.get(member))?;
    (!node.is_boolean() && !node.is_null()).then(|| {
        Reply::client_error(
            "SerializationException",
            format!("{path}: expected a boolean"),
        )
    })
}

/// What UpdateMonitoringSchedule requires: the whole configuration, with either an embedded
/// job definition complete enough to run, or a named one and its type.
fn invalid_schedule_update(input: &Value) -> Option<Reply> {
    if let Some(reply) = missing(
        input,
        &["MonitoringScheduleName", "MonitoringScheduleConfig"],
    ) {
        return Some(reply);
    }
    let config = &input["MonitoringScheduleConfig"];
    match config.get("MonitoringJobDefinition") {
        Some(definition) => missing(
            definition,
            &[
                "MonitoringInputs",
                "MonitoringOutputConfig.MonitoringOutputs",
                "MonitoringResources.ClusterConfig.InstanceCount",
                "MonitoringResources.ClusterConfig.InstanceType",
                "MonitoringResources.ClusterConfig.VolumeSizeInGB",
                "MonitoringAppSpecification.ImageUri",
                "RoleArn",
            ],
        )
        .or_else(|| not_boolean(definition, "NetworkConfig.EnableNetworkIsolation")),
        None => missing(config, &["MonitoringJobDefinitionName", "MonitoringType"]),
    }
}

/// What Create<Kind>JobDefinition requires, per kind.
fn invalid_job_definition(kind: &str, input: &Value) -> Option<Reply> {
    let app = format!("{kind}AppSpecification.ImageUri");
    let config_uri = format!("{kind}AppSpecification.ConfigUri");
    let job_input = format!("{kind}JobInput");
    let outputs = format!("{kind}JobOutputConfig.MonitoringOutputs");
    let mut paths = vec![
        "JobDefinitionName",
        "RoleArn",
        "JobResources.ClusterConfig.InstanceCount",
        "JobResources.ClusterConfig.InstanceType",
        "JobResources.ClusterConfig.VolumeSizeInGB",
        app.as_str(),
        job_input.as_str(),
        outputs.as_str(),
    ];
    if matches!(kind, "ModelBias" | "ModelExplainability") {
        paths.push(config_uri.as_str());
    }
    missing(input, &paths).or_else(|| not_boolean(input, "NetworkConfig.EnableNetworkIsolation"))
}

fn update_schedule(state: &mut State, context: &Context, input: &Value) -> Reply {
    if let Some(reply) = invalid_schedule_update(input) {
        return reply;
    }
    let name = match required(input, "MonitoringScheduleName") {
        Ok(name) => name.to_owned(),
        Err(reply) => return reply,
    };
    let config = input["MonitoringScheduleConfig"].clone();
    state
        .writes
        .push(("UpdateMonitoringSchedule".to_owned(), input.clone()));
    match state.account(&context.key()).schedules.get_mut(&name) {
        Some(schedule) => {
            schedule["MonitoringScheduleConfig"] = config;
            if let Some(kind) = schedule["MonitoringScheduleConfig"]
                .get("MonitoringType")
                .cloned()
            {
                schedule["MonitoringType"] = kind;
            }
            Reply::Json(json!({"MonitoringScheduleArn": schedule["MonitoringScheduleArn"]}))
        }
        None => Reply::client_error(
            "ResourceNotFound",
            format!("Could not find monitoring schedule '{name}'"),
        ),
    }
}

fn create_job_definition(state: &mut State, context: &Context, kind: &str, input: &Value) -> Reply {
    if let Some(reply) = invalid_job_definition(kind, input) {
        return reply;
    }
    let name = match required(input, "JobDefinitionName") {
        Ok(name) => name.to_owned(),
        Err(reply) => return reply,
    };
    state
        .writes
        .push((format!("Create{kind}JobDefinition"), input.clone()));
    let segment = KINDS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, _, segment)| *segment)
        .unwrap_or("job-definition");
    let arn = format!(
        "arn:aws:sagemaker:{REGION}:{}:{segment}/{}",
        context.account,
        name.to_ascii_lowercase()
    );
    let account = state.account(&context.key());
    let key = (kind.to_owned(), name.clone());
    if account.job_definitions.contains_key(&key) {
        return Reply::client_error(
            "ResourceInUse",
            format!("Job definition '{name}' already exists"),
        );
    }
    let mut definition = input.clone();
    if let Some(object) = definition.as_object_mut() {
        object.remove("Tags");
        object.insert("JobDefinitionArn".into(), Value::from(arn.clone()));
        object.insert("CreationTime".into(), Value::from(1_795_860_000));
    }
    account.job_definitions.insert(key, definition);
    Reply::Json(json!({"JobDefinitionArn": arn}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(reply: Option<Reply>) -> String {
        match reply {
            Some(Reply::Error(_, _, message)) => message,
            Some(_) => panic!("not an error"),
            None => panic!("accepted"),
        }
    }

    #[test]
    fn a_job_definition_must_carry_what_its_kind_requires() {
        let complete = |kind: &str| {
            json!({
                "JobDefinitionName": "jd", "RoleArn": "arn:aws:iam::1:role/r",
                "JobResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}},
                format!("{kind}AppSpecification"): {"ImageUri": "image", "ConfigUri": "s3://c"},
                format!("{kind}JobInput"): {"EndpointInput": {"EndpointName": "e", "LocalPath": "/in"}},
                format!("{kind}JobOutputConfig"): {"MonitoringOutputs": [{"S3Output": {"S3Uri": "s3://o", "LocalPath": "/out"}}]},
                "NetworkConfig": {"EnableNetworkIsolation": true},
            })
        };
        for kind in [
            "DataQuality",
            "ModelQuality",
            "ModelBias",
            "ModelExplainability",
        ] {
            assert!(
                invalid_job_definition(kind, &complete(kind)).is_none(),
                "{kind}"
            );
            let mut no_role = complete(kind);
            no_role.as_object_mut().unwrap().remove("RoleArn");
            assert!(refused(invalid_job_definition(kind, &no_role)).contains("'RoleArn'"));
            let mut wrong_kind = complete(kind);
            wrong_kind
                .as_object_mut()
                .unwrap()
                .remove(&format!("{kind}JobInput"));
            assert!(refused(invalid_job_definition(kind, &wrong_kind)).contains("JobInput"));
            let mut flag = complete(kind);
            flag["NetworkConfig"]["EnableNetworkIsolation"] = json!("true");
            assert!(refused(invalid_job_definition(kind, &flag)).contains("boolean"));
        }
        let mut no_config_uri = complete("ModelBias");
        no_config_uri["ModelBiasAppSpecification"]
            .as_object_mut()
            .unwrap()
            .remove("ConfigUri");
        assert!(refused(invalid_job_definition("ModelBias", &no_config_uri)).contains("ConfigUri"));
    }

    #[test]
    fn a_schedule_update_must_send_the_whole_configuration() {
        assert!(
            refused(invalid_schedule_update(
                &json!({"MonitoringScheduleName": "s"})
            ))
            .contains("MonitoringScheduleConfig")
        );
        let named = json!({"MonitoringScheduleName": "s", "MonitoringScheduleConfig": {"MonitoringJobDefinitionName": "jd"}});
        assert!(refused(invalid_schedule_update(&named)).contains("MonitoringType"));
        let partial = json!({"MonitoringScheduleName": "s", "MonitoringScheduleConfig": {"MonitoringJobDefinition": {"NetworkConfig": {"EnableNetworkIsolation": true}}}});
        assert!(refused(invalid_schedule_update(&partial)).contains("MonitoringInputs"));
        let whole = json!({"MonitoringScheduleName": "s", "MonitoringScheduleConfig": {
            "MonitoringJobDefinitionName": "jd", "MonitoringType": "ModelBias"}});
        assert!(invalid_schedule_update(&whole).is_none());
    }
}
