//! A plan's planned values read into the CloudFormation shape: each schedule and data quality
//! job definition as it will be after apply (`resource_changes[].change.after`, else
//! `planned_values`), with what `after_unknown` says is known only after apply.

use super::{DATA_QUALITY, Definition, SCHEDULE};
use crate::check::names::{generated_name, is_complete_name};
use crate::core::schedule::network_from;
use serde_json::{Map, Value, json};

/// A resource as it will be after apply.
pub(super) struct Planned<'a> {
    pub(super) address: String,
    /// The address without instance keys: `module.a.aws_x.y`.
    pub(super) base: String,
    /// The module calls from the root to the resource's module.
    pub(super) module: Vec<String>,
    pub(super) resource_type: String,
    pub(super) after: &'a Value,
    pub(super) unknown: &'a Value,
}

/// A data quality job definition's planned name and network.
pub(super) fn definition_of(resource: &Planned) -> Definition {
    Definition {
        base: resource.base.clone(),
        name: resource
            .after
            .get("name")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .map(str::to_owned),
        network: network(resource.after, resource.unknown).and_then(|network| {
            network_from(network.as_ref(), "network_config").map_err(|e| format!("{e}"))
        }),
    }
}

/// The schedules and data quality job definitions the plan creates or keeps: from
/// `resource_changes` (with what is unknown until apply), else from `planned_values` (or a
/// state's `values`).
pub(super) fn planned_resources(plan: &Value) -> Vec<Planned<'_>> {
    static NOTHING: Value = Value::Null;
    let wanted = |resource_type: &str| resource_type == SCHEDULE || resource_type == DATA_QUALITY;
    let mut found = Vec::new();
    if let Some(changes) = plan.get("resource_changes").and_then(Value::as_array) {
        for change in changes {
            let resource_type = change.get("type").and_then(Value::as_str).unwrap_or("");
            let managed = change
                .get("mode")
                .and_then(Value::as_str)
                .unwrap_or("managed")
                == "managed";
            let after = change.pointer("/change/after").unwrap_or(&NOTHING);
            if !managed || !wanted(resource_type) || !after.is_object() {
                continue;
            }
            let module = change
                .get("module_address")
                .and_then(Value::as_str)
                .map(module_calls)
                .unwrap_or_default();
            let name = change.get("name").and_then(Value::as_str).unwrap_or("");
            found.push(Planned {
                address: change
                    .get("address")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                base: base_address(&module, resource_type, name),
                module,
                resource_type: resource_type.to_owned(),
                after,
                unknown: change.pointer("/change/after_unknown").unwrap_or(&NOTHING),
            });
        }
        return found;
    }
    let root = plan
        .pointer("/planned_values/root_module")
        .or_else(|| plan.pointer("/values/root_module"));
    let mut modules: Vec<&Value> = root.into_iter().collect();
    while let Some(module) = modules.pop() {
        for resource in module
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let resource_type = resource.get("type").and_then(Value::as_str).unwrap_or("");
            let managed = resource
                .get("mode")
                .and_then(Value::as_str)
                .unwrap_or("managed")
                == "managed";
            let Some(after) = resource.get("values").filter(|v| v.is_object()) else {
                continue;
            };
            if !managed || !wanted(resource_type) {
                continue;
            }
            let address = resource
                .get("address")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let module_path = module
                .get("address")
                .and_then(Value::as_str)
                .map(module_calls)
                .unwrap_or_default();
            let name = resource.get("name").and_then(Value::as_str).unwrap_or("");
            found.push(Planned {
                address,
                base: base_address(&module_path, resource_type, name),
                module: module_path,
                resource_type: resource_type.to_owned(),
                after,
                unknown: &NOTHING,
            });
        }
        modules.extend(
            module
                .get("child_modules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    }
    found.sort_by(|a, b| a.address.cmp(&b.address));
    found
}

/// The module call names in a module address: `module.a[0].module.b["k"]` gives `[a, b]`.
fn module_calls(address: &str) -> Vec<String> {
    let mut calls = Vec::new();
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let end = after.find(['.', '[']).unwrap_or(after.len());
        calls.push(after[..end].to_owned());
        rest = &after[end..];
        if rest.starts_with('[') {
            rest = skip_key(rest);
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    calls
}

/// What follows an instance key (`[0]`, `["a.b"]`).
fn skip_key(text: &str) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    for (index, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ']' if !quoted => return &text[index + 1..],
            _ => {}
        }
    }
    ""
}

pub(super) fn base_address(module: &[String], resource_type: &str, name: &str) -> String {
    let mut base: String = module.iter().map(|m| format!("module.{m}.")).collect();
    base.push_str(&format!("{resource_type}.{name}"));
    base
}

/// Whether the value at `path` is known only after apply (`after_unknown` marks an unknown
/// leaf, or a whole unknown block, with `true`).
fn unknown_at(unknown: &Value, path: &[&str]) -> bool {
    let mut here = unknown;
    for step in path {
        if here == &Value::Bool(true) {
            return true;
        }
        here = match step.parse::<usize>() {
            Ok(index) => here.get(index),
            Err(_) => here.get(*step),
        }
        .unwrap_or(&Value::Null);
    }
    here == &Value::Bool(true)
}

/// The one object of a single-item block (a list of one), if set.
fn block<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value.get(key)? {
        Value::Array(items) => items.first(),
        object @ Value::Object(_) => Some(object),
        _ => None,
    }
}

/// A block's `network_config` in the CloudFormation shape (`None` when it has none).
fn network(parent: &Value, unknown: &Value) -> Result<Option<Value>, String> {
    if unknown_at(unknown, &["network_config"])
        || unknown_at(
            unknown,
            &["network_config", "0", "enable_network_isolation"],
        )
    {
        return Err(
            "network_config.enable_network_isolation is known only after apply, so the plan cannot show isolation."
                .into(),
        );
    }
    let Some(config) = block(parent, "network_config") else {
        return Ok(None);
    };
    let mut network = Map::new();
    if let Some(flag) = config
        .get("enable_network_isolation")
        .filter(|v| !v.is_null())
    {
        network.insert("EnableNetworkIsolation".into(), flag.clone());
    }
    if block(config, "vpc_config").is_some() {
        network.insert("VpcConfig".into(), json!({}));
    }
    Ok(Some(Value::Object(network)))
}

/// A schedule's planned values in the CloudFormation shape: one configuration, or, when its
/// job definition's name is known only after apply, one per job definition its name's
/// expression can refer to.
pub(super) fn schedule_configurations(
    resource: &Planned,
    referenced: &[&Definition],
) -> Result<Vec<Value>, String> {
    let unknown = resource.unknown;
    if unknown_at(unknown, &["monitoring_schedule_config"]) {
        return Err("monitoring_schedule_config is known only after apply.".into());
    }
    let Some(config) = block(resource.after, "monitoring_schedule_config") else {
        return Ok(vec![json!({})]);
    };
    let config_unknown = unknown
        .pointer("/monitoring_schedule_config/0")
        .unwrap_or(&Value::Null);
    if unknown_at(config_unknown, &["monitoring_job_definition"]) {
        return Err("monitoring_job_definition is known only after apply.".into());
    }
    if let Some(embedded) = block(config, "monitoring_job_definition") {
        let embedded_unknown = config_unknown
            .pointer("/monitoring_job_definition/0")
            .unwrap_or(&Value::Null);
        let mut definition = Map::new();
        if let Some(network) = network(embedded, embedded_unknown)? {
            definition.insert("NetworkConfig".into(), network);
        }
        return Ok(vec![json!({"MonitoringScheduleConfig": {
            "MonitoringJobDefinition": definition
        }})]);
    }
    if unknown_at(config_unknown, &["monitoring_type"]) {
        return Err("monitoring_type is known only after apply.".into());
    }
    let monitoring_type = config
        .get("monitoring_type")
        .cloned()
        .unwrap_or(Value::Null);
    let written = config
        .get("monitoring_job_definition_name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty());
    // A plan without `after_unknown` (planned values only) leaves out what apply decides.
    let later = unknown_at(config_unknown, &["monitoring_job_definition_name"])
        || resource.unknown.is_null();
    let names: Vec<String> = match written {
        Some(name) if is_complete_name(name) => vec![name.to_owned()],
        // Not a name SageMaker accepts, nor one a placeholder below could stand for.
        Some(name) => {
            return Err(format!(
                "monitoring_job_definition_name '{name}' is not a valid job definition name."
            ));
        }
        None if !later => Vec::new(),
        None if referenced.is_empty() => {
            return Err("monitoring_job_definition_name is known only after apply, and its expression refers to no job definition in this plan.".into());
        }
        None => {
            if let Some(named) = referenced.iter().find(|d| d.name.is_some()) {
                return Err(format!(
                    "monitoring_job_definition_name is known only after apply, though {} it refers to has a known name: the name is built from something else.",
                    named.base
                ));
            }
            referenced.iter().map(|d| generated_name(&d.base)).collect()
        }
    };
    if names.is_empty() {
        return Ok(vec![
            json!({"MonitoringScheduleConfig": {"MonitoringType": monitoring_type}}),
        ]);
    }
    Ok(names
        .into_iter()
        .map(|name| {
            json!({"MonitoringScheduleConfig": {
                "MonitoringJobDefinitionName": name,
                "MonitoringType": monitoring_type,
            }})
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn module_addresses_give_their_calls() {
        assert_eq!(module_calls("module.a"), ["a"]);
        assert_eq!(module_calls("module.a[0].module.b[\"x.y]\"]"), ["a", "b"]);
        assert!(module_calls("").is_empty());
    }

    #[test]
    fn unknown_leaves_and_blocks_are_unknown() {
        let unknown =
            json!({"monitoring_schedule_config": [{"monitoring_job_definition_name": true}]});
        assert!(unknown_at(
            &unknown,
            &[
                "monitoring_schedule_config",
                "0",
                "monitoring_job_definition_name"
            ]
        ));
        assert!(!unknown_at(
            &unknown,
            &["monitoring_schedule_config", "0", "monitoring_type"]
        ));
        assert!(unknown_at(
            &json!({"network_config": true}),
            &["network_config", "0", "enable_network_isolation"]
        ));
    }
}
