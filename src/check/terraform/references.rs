//! Following a schedule's `monitoring_job_definition_name` through the plan's configuration,
//! for when the name is known only after apply: the expression's references, through module
//! variables (the argument the calling module passes) and module outputs (the output's
//! expression in the child module), to the data quality job definitions they reach. Each
//! reference of each module is followed once, and no further than [`MAX_HOPS`].

use super::DATA_QUALITY;
use super::planned::{Planned, base_address};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// How far references are followed through modules.
pub(super) const MAX_HOPS: usize = 16;

/// The plan's configuration, with each resource's by its base address.
pub(super) struct Configuration<'v> {
    root: &'v Value,
    resources: HashMap<String, &'v Value>,
}

impl<'v> Configuration<'v> {
    pub(super) fn of(root: &'v Value) -> Self {
        let mut resources = HashMap::new();
        let mut modules = vec![(String::new(), root)];
        while let Some((prefix, module)) = modules.pop() {
            for resource in module
                .get("resources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(address) = resource.get("address").and_then(Value::as_str) {
                    resources.insert(format!("{prefix}{address}"), resource);
                }
            }
            if let Some(calls) = module.get("module_calls").and_then(Value::as_object) {
                for (call, value) in calls {
                    if let Some(child) = value.get("module") {
                        modules.push((format!("{prefix}module.{call}."), child));
                    }
                }
            }
        }
        Configuration { root, resources }
    }

    /// The data quality job definitions (by base address) a schedule's
    /// `monitoring_job_definition_name` expression refers to, through module variables and
    /// outputs; a reason when they lead further than [`MAX_HOPS`].
    pub(super) fn referenced(&self, resource: &Planned) -> Result<Vec<String>, String> {
        let expression = self.resources.get(&resource.base).and_then(|r| {
            r.pointer("/expressions/monitoring_schedule_config/0/monitoring_job_definition_name")
        });
        let mut walk = References::default();
        if let Some(expression) = expression {
            self.follow(&resource.module, expression, 0, &mut walk);
        }
        if walk.too_far {
            return Err(format!(
                "monitoring_job_definition_name refers through more than {MAX_HOPS} module variables and outputs."
            ));
        }
        Ok(walk.found)
    }

    fn follow(&self, module: &[String], expression: &Value, hops: usize, walk: &mut References) {
        if hops > MAX_HOPS {
            walk.too_far = true;
            return;
        }
        let references = expression
            .get("references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        for reference in references {
            // Each reference of each module is followed once, however many paths lead to it.
            if !walk
                .followed
                .insert((module.to_vec(), reference.to_owned()))
            {
                continue;
            }
            let head = |text: &str| -> String {
                let end = text.find(['.', '[']).unwrap_or(text.len());
                text[..end].to_owned()
            };
            if let Some(rest) = reference.strip_prefix(&format!("{DATA_QUALITY}.")) {
                let base = base_address(module, DATA_QUALITY, &head(rest));
                if !walk.found.contains(&base) {
                    walk.found.push(base);
                }
            } else if let Some(rest) = reference.strip_prefix("var.") {
                // A module variable: the argument its module call passes, in the calling module.
                let Some((call, parent)) = module.split_last() else {
                    continue;
                };
                let argument = module_config(self.root, parent)
                    .and_then(|m| m.get("module_calls"))
                    .and_then(|calls| calls.get(call))
                    .and_then(|call| call.get("expressions"))
                    .and_then(|expressions| expressions.get(head(rest)));
                if let Some(argument) = argument {
                    self.follow(parent, argument, hops + 1, walk);
                }
            } else if let Some(rest) = reference.strip_prefix("module.") {
                // A module output: its expression, in that module.
                let child = head(rest);
                let Some(output) = rest[child.len()..].strip_prefix('.').map(head) else {
                    continue;
                };
                let mut path = module.to_vec();
                path.push(child);
                let value = module_config(self.root, &path)
                    .and_then(|m| m.get("outputs"))
                    .and_then(|outputs| outputs.get(&output))
                    .and_then(|output| output.get("expression"));
                if let Some(value) = value {
                    self.follow(&path, value, hops + 1, walk);
                }
            }
        }
    }
}

/// What following one expression's references found.
#[derive(Default)]
struct References {
    found: Vec<String>,
    followed: HashSet<(Vec<String>, String)>,
    too_far: bool,
}

/// A module's configuration, by the module calls from the root.
fn module_config<'v>(root: &'v Value, calls: &[String]) -> Option<&'v Value> {
    let mut module = root;
    for call in calls {
        module = module.get("module_calls")?.get(call)?.get("module")?;
    }
    Some(module)
}
