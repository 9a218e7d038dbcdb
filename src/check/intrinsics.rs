//! CloudFormation's intrinsic functions, evaluated as far as a template alone allows.
//!
//! A value evaluates to its [`Alternatives`]: one per way the template can turn out (`Fn::If`
//! gives both branches; conditions are not evaluated), each a JSON value or the reason it
//! cannot be known before deployment. Nothing is guessed: what depends on the account, another
//! stack or a value CloudFormation generates is a reason, not a value.
//!
//! Evaluated: `Ref` (parameters, with their `Default` or a `--parameter` override; pseudo
//! parameters, when overridden, else as the symbolic `${AWS::Region}`; job-definition resources,
//! whose `Ref` is their ARN), `Fn::GetAtt` of a job definition's `JobDefinitionName` or
//! `JobDefinitionArn`, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap` and
//! `Fn::If`. Anything else is a reason.
//!
//! The work is bounded whatever the template: a job definition's name is evaluated once however
//! often it is used, a string is never built past [`MAX_STRING`], and a template gets at most
//! [`MAX_STEPS`] evaluation steps. Past a limit every value is the limit's reason, and
//! [`Resolver::limit`] says which was reached: the caller must then call nothing in the
//! template compliant.

use crate::check::names::{arn, generated_name};
use crate::core::resource::{MonitoringKind, ResourceKind};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

/// Each way a value can turn out: the value, or why it cannot be known.
pub type Alternatives = Vec<Result<Value, String>>;

/// More alternatives than this is a template this reader does not follow.
pub const MAX_ALTERNATIVES: usize = 64;
/// Deeper nesting than this is a reference cycle or a template this reader does not follow.
const MAX_DEPTH: usize = 32;
/// Names built from names built from names...: deeper than this is not followed.
const MAX_HOPS: usize = 16;
/// The longest string evaluated: a parameter value holds at most 4,096 bytes, and a name or an
/// ARN far less (a job definition name at most 63 characters), so a longer string cannot
/// become anything a schedule runs.
pub const MAX_STRING: usize = 4_096;
/// The evaluation steps (values visited, alternatives combined, 64 bytes of string written)
/// one template may take: far above what a 1 MB template of ordinary resources needs.
pub const MAX_STEPS: usize = 1_000_000;

/// The pseudo parameters; their values are known only at deployment.
const PSEUDO: [&str; 7] = [
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// What a `Ref` to a parameter gives.
#[derive(Debug, Clone)]
enum Parameter {
    Known(Value),
    Unknown(String),
}

/// Evaluates intrinsic functions over one template.
#[derive(Debug)]
pub struct Resolver<'a> {
    parameters: BTreeMap<String, Parameter>,
    overrides: &'a BTreeMap<String, String>,
    resources: Map<String, Value>,
    mappings: Map<String, Value>,
    /// Each job definition's names once evaluated; `None` while being evaluated (a cycle).
    names: RefCell<HashMap<String, Option<Vec<String>>>>,
    /// Names being evaluated inside one another.
    hops: Cell<usize>,
    /// The steps left of [`MAX_STEPS`].
    steps: Cell<usize>,
    /// The limit reached, once one is: every later value is this reason.
    limit: RefCell<Option<String>>,
}

impl<'a> Resolver<'a> {
    /// A resolver over a template's `Parameters`, `Mappings` and `Resources`, with the values
    /// given on the command line (`--parameter Key=Value`) taking precedence over defaults.
    pub fn new(root: &Value, overrides: &'a BTreeMap<String, String>) -> Self {
        let section = |name: &str| {
            root.get(name)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let mut parameters = BTreeMap::new();
        for (name, declaration) in section("Parameters") {
            let kind = declaration
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or("String")
                .to_owned();
            let value = match overrides.get(&name) {
                Some(text) => Parameter::Known(parameter_value(&kind, text)),
                None if kind.starts_with("AWS::SSM::Parameter::Value") => {
                    Parameter::Unknown(format!(
                        "parameter {name} is read from Systems Manager at deployment (pass --parameter {name}=VALUE)"
                    ))
                }
                None => match declaration.get("Default") {
                    Some(Value::String(text)) => Parameter::Known(parameter_value(&kind, text)),
                    Some(Value::Number(number)) => {
                        Parameter::Known(parameter_value(&kind, &number.to_string()))
                    }
                    Some(Value::Bool(flag)) => {
                        Parameter::Known(parameter_value(&kind, &flag.to_string()))
                    }
                    Some(Value::Array(items)) => Parameter::Known(Value::Array(items.clone())),
                    _ => Parameter::Unknown(format!(
                        "parameter {name} has no Default (pass --parameter {name}=VALUE)"
                    )),
                },
            };
            parameters.insert(name, value);
        }
        Resolver {
            parameters,
            overrides,
            resources: section("Resources"),
            mappings: section("Mappings"),
            names: RefCell::new(HashMap::new()),
            hops: Cell::new(0),
            steps: Cell::new(MAX_STEPS),
            limit: RefCell::new(None),
        }
    }

    /// The limit evaluation reached, if it reached one: nothing this resolver evaluated may
    /// then be taken as compliant.
    pub fn limit(&self) -> Option<String> {
        self.limit.borrow().clone()
    }

    /// Takes `steps` of the template's budget, or says that it is spent.
    fn spend(&self, steps: usize) -> Result<(), String> {
        if let Some(reason) = self.limit() {
            return Err(reason);
        }
        match self.steps.get().checked_sub(steps) {
            Some(left) => {
                self.steps.set(left);
                Ok(())
            }
            // MAX_STEPS, written as people read it.
            None => Err(self.reach(
                "the template needs more than 1,000,000 evaluation steps, so check stopped".into(),
            )),
        }
    }

    /// Records the first limit reached; its reason.
    fn reach(&self, reason: String) -> String {
        self.limit.borrow_mut().get_or_insert(reason).clone()
    }

    fn too_long(&self) -> String {
        // MAX_STRING, written as people read it.
        self.reach(
            "a value is built longer than 4,096 characters (the most a parameter value holds; a job definition name holds at most 63), so check stopped".into(),
        )
    }

    /// Every combination of one alternative from each part, through `join`, on the budget.
    pub fn combine(
        &self,
        parts: Vec<Alternatives>,
        join: impl Fn(Vec<Value>) -> Result<Value, String>,
    ) -> Alternatives {
        let size = parts.iter().map(Vec::len).sum::<usize>();
        if let Err(reason) = self.spend(size.max(1)) {
            return vec![Err(reason)];
        }
        combine(parts, join)
    }

    /// Strings joined, never past [`MAX_STRING`].
    fn joined<'s>(
        &self,
        pieces: impl IntoIterator<Item = &'s str>,
        delimiter: &str,
    ) -> Result<String, String> {
        let mut out = String::new();
        for (index, piece) in pieces.into_iter().enumerate() {
            if index > 0 {
                out.push_str(delimiter);
            }
            if out.len() + piece.len() > MAX_STRING {
                return Err(self.too_long());
            }
            out.push_str(piece);
        }
        self.spend(out.len() / 64)?;
        Ok(out)
    }

    /// Evaluates `value` completely: every intrinsic function in it, at any depth.
    pub fn eval(&self, value: &Value) -> Alternatives {
        self.eval_at(value, 0)
    }

    /// Evaluates only the top of `value`: an intrinsic function is applied (an `Fn::If` gives
    /// each branch, itself evaluated at its top); a plain object or array is returned as it is,
    /// for the caller to walk into only where it needs to.
    pub fn head(&self, value: &Value) -> Alternatives {
        self.head_at(value, 0)
    }

    fn head_at(&self, value: &Value, depth: usize) -> Alternatives {
        if depth > MAX_DEPTH {
            return vec![Err(too_deep())];
        }
        if let Err(reason) = self.spend(1) {
            return vec![Err(reason)];
        }
        match intrinsic(value) {
            Some(("Fn::If", argument)) => match argument.as_array().map(Vec::as_slice) {
                Some([_, yes, no]) => {
                    let mut both = self.head_at(yes, depth + 1);
                    both.extend(self.head_at(no, depth + 1));
                    capped(both)
                }
                _ => vec![Err(
                    "Fn::If needs [condition, value if true, value if false]".into(),
                )],
            },
            Some(_) => self.eval_at(value, depth),
            None => vec![Ok(value.clone())],
        }
    }

    fn eval_at(&self, value: &Value, depth: usize) -> Alternatives {
        if depth > MAX_DEPTH {
            return vec![Err(too_deep())];
        }
        if let Err(reason) = self.spend(1) {
            return vec![Err(reason)];
        }
        if let Some((name, argument)) = intrinsic(value) {
            return self.apply(name, argument, depth + 1);
        }
        match value {
            Value::Array(items) => {
                let parts = items
                    .iter()
                    .map(|item| self.eval_at(item, depth + 1))
                    .collect();
                self.combine(parts, |values| Ok(Value::Array(values)))
            }
            Value::Object(object) => {
                let keys: Vec<&String> = object.keys().collect();
                let parts = object
                    .values()
                    .map(|member| self.eval_at(member, depth + 1))
                    .collect();
                self.combine(parts, |values| {
                    Ok(Value::Object(
                        keys.iter()
                            .map(|key| (*key).clone())
                            .zip(values)
                            .filter(|(_, value)| !value.is_null())
                            .collect(),
                    ))
                })
            }
            scalar => vec![Ok(scalar.clone())],
        }
    }

    fn apply(&self, name: &str, argument: &Value, depth: usize) -> Alternatives {
        match name {
            "Ref" => match argument {
                Value::String(target) => self.reference(target),
                _ => vec![Err("Ref takes a name".into())],
            },
            "Fn::GetAtt" => self.get_att(argument, depth),
            "Fn::If" => match argument.as_array().map(Vec::as_slice) {
                Some([_, yes, no]) => {
                    let mut both = self.eval_at(yes, depth);
                    both.extend(self.eval_at(no, depth));
                    capped(both)
                }
                _ => vec![Err(
                    "Fn::If needs [condition, value if true, value if false]".into(),
                )],
            },
            "Fn::Sub" => self.sub(argument, depth),
            "Fn::Join" => match argument.as_array().map(Vec::as_slice) {
                Some([delimiter, list]) => self.combine(
                    vec![self.eval_at(delimiter, depth), self.eval_at(list, depth)],
                    |values| {
                        let delimiter = text(&values[0], "Fn::Join delimiter")?;
                        let items = list_of(&values[1], "Fn::Join")?;
                        let parts = items
                            .iter()
                            .filter(|item| !item.is_null())
                            .map(|item| text(item, "Fn::Join item"))
                            .collect::<Result<Vec<_>, _>>()?;
                        self.joined(parts.iter().map(String::as_str), &delimiter)
                            .map(Value::String)
                    },
                ),
                _ => vec![Err("Fn::Join needs [delimiter, list]".into())],
            },
            "Fn::Select" => match argument.as_array().map(Vec::as_slice) {
                Some([index, list]) => self.combine(
                    vec![self.eval_at(index, depth), self.eval_at(list, depth)],
                    |values| {
                        let index = match &values[0] {
                            Value::Number(n) => n.as_u64(),
                            Value::String(s) => s.trim().parse().ok(),
                            _ => None,
                        }
                        .ok_or("Fn::Select needs a whole-number index")?;
                        let items = list_of(&values[1], "Fn::Select")?;
                        usize::try_from(index)
                            .ok()
                            .and_then(|index| items.get(index))
                            .cloned()
                            .ok_or_else(|| {
                                format!(
                                    "Fn::Select index {index} is past the end of a list of {}",
                                    items.len()
                                )
                            })
                    },
                ),
                _ => vec![Err("Fn::Select needs [index, list]".into())],
            },
            "Fn::Split" => match argument.as_array().map(Vec::as_slice) {
                Some([delimiter, source]) => self.combine(
                    vec![self.eval_at(delimiter, depth), self.eval_at(source, depth)],
                    |values| {
                        let delimiter = text(&values[0], "Fn::Split delimiter")?;
                        let source = text(&values[1], "Fn::Split source")?;
                        if delimiter.is_empty() {
                            return Err("Fn::Split needs a delimiter".into());
                        }
                        Ok(Value::Array(
                            source
                                .split(delimiter.as_str())
                                .map(|part| Value::String(part.to_owned()))
                                .collect(),
                        ))
                    },
                ),
                _ => vec![Err("Fn::Split needs [delimiter, string]".into())],
            },
            "Fn::FindInMap" => self.find_in_map(argument, depth),
            "Fn::ImportValue" => {
                let export = match self.eval_at(argument, depth).first() {
                    Some(Ok(Value::String(export))) => format!(" '{export}'"),
                    _ => String::new(),
                };
                vec![Err(format!(
                    "Fn::ImportValue{export} takes a value another stack exports"
                ))]
            }
            other => vec![Err(format!("{other} is not evaluated before deployment"))],
        }
    }

    fn reference(&self, target: &str) -> Alternatives {
        if target == "AWS::NoValue" {
            return vec![Ok(Value::Null)];
        }
        if PSEUDO.contains(&target) {
            return vec![Ok(Value::String(match self.overrides.get(target) {
                Some(value) => value.clone(),
                None => format!("${{{target}}}"),
            }))];
        }
        if let Some(parameter) = self.parameters.get(target) {
            return vec![match parameter {
                Parameter::Known(value) => Ok(value.clone()),
                Parameter::Unknown(reason) => Err(reason.clone()),
            }];
        }
        match self.job_definition_kind(target) {
            Some(Ok(kind)) => match self.names_of(target) {
                Ok(names) => names
                    .into_iter()
                    .map(|name| Ok(Value::String(arn(kind, &name))))
                    .collect(),
                Err(reason) => vec![Err(reason)],
            },
            Some(Err(resource_type)) => vec![Err(format!(
                "Ref {target} ({resource_type}) is known only after deployment"
            ))],
            None => vec![Err(format!(
                "Ref {target} names no parameter or resource of this template"
            ))],
        }
    }

    fn get_att(&self, argument: &Value, depth: usize) -> Alternatives {
        if let Err(reason) = self.spend(1) {
            return vec![Err(reason)];
        }
        let parts: Vec<Alternatives> = match argument {
            Value::Array(items) => items.iter().map(|i| self.eval_at(i, depth)).collect(),
            Value::String(dotted) => match dotted.split_once('.') {
                Some((resource, attribute)) => {
                    vec![vec![Ok(resource.into())], vec![Ok(attribute.into())]]
                }
                None => return vec![Err(format!("Fn::GetAtt {dotted} names no attribute"))],
            },
            _ => return vec![Err("Fn::GetAtt needs [resource, attribute]".into())],
        };
        let mut out = Vec::new();
        for pair in self.combine(parts, |values| Ok(Value::Array(values))) {
            let pair = match pair {
                Ok(pair) => pair,
                Err(reason) => {
                    out.push(Err(reason));
                    continue;
                }
            };
            let (Some(resource), Some(attribute)) = (
                pair.get(0).and_then(Value::as_str),
                pair.get(1).and_then(Value::as_str),
            ) else {
                out.push(Err("Fn::GetAtt needs [resource, attribute]".into()));
                continue;
            };
            match (self.job_definition_kind(resource), attribute) {
                (Some(Ok(_)), "JobDefinitionName") => match self.names_of(resource) {
                    Ok(names) => out.extend(names.into_iter().map(|name| Ok(Value::String(name)))),
                    Err(reason) => out.push(Err(reason)),
                },
                (Some(Ok(kind)), "JobDefinitionArn") => match self.names_of(resource) {
                    Ok(names) => out.extend(
                        names
                            .into_iter()
                            .map(|name| Ok(Value::String(arn(kind, &name)))),
                    ),
                    Err(reason) => out.push(Err(reason)),
                },
                (Some(Ok(_)), _) | (Some(Err(_)), _) => out.push(Err(format!(
                    "Fn::GetAtt {resource}.{attribute} is known only after deployment"
                ))),
                (None, _) => out.push(Err(format!(
                    "Fn::GetAtt {resource}.{attribute} names no resource of this template"
                ))),
            }
        }
        capped(out)
    }

    fn sub(&self, argument: &Value, depth: usize) -> Alternatives {
        let (template, variables) = match argument {
            Value::String(template) => (template.as_str(), None),
            Value::Array(items) => match items.as_slice() {
                [Value::String(template), Value::Object(variables)] => {
                    (template.as_str(), Some(variables))
                }
                _ => return vec![Err("Fn::Sub needs a string or [string, variables]".into())],
            },
            _ => return vec![Err("Fn::Sub needs a string or [string, variables]".into())],
        };
        // The template cut into literal text and `${...}` references, each evaluated.
        let mut parts: Vec<Alternatives> = Vec::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            let literal = &rest[..start];
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                break;
            };
            let name = &after[..end];
            parts.push(vec![Ok(Value::String(literal.to_owned()))]);
            if let Some(escaped) = name.strip_prefix('!') {
                parts.push(vec![Ok(Value::String(format!("${{{escaped}}}")))]);
            } else if let Some(value) = variables.and_then(|v| v.get(name)) {
                parts.push(self.eval_at(value, depth));
            } else if name.contains('.') && !name.starts_with("AWS::") {
                parts.push(self.get_att(&Value::String(name.to_owned()), depth));
            } else {
                parts.push(self.reference(name));
            }
            rest = &after[end + 1..];
        }
        parts.push(vec![Ok(Value::String(rest.to_owned()))]);
        self.combine(parts, |values| {
            let pieces = values
                .iter()
                .map(|value| text(value, "Fn::Sub variable"))
                .collect::<Result<Vec<_>, _>>()?;
            self.joined(pieces.iter().map(String::as_str), "")
                .map(Value::String)
        })
    }

    fn find_in_map(&self, argument: &Value, depth: usize) -> Alternatives {
        let Some(items) = argument.as_array() else {
            return vec![Err("Fn::FindInMap needs [map, key, key]".into())];
        };
        let default = items
            .get(3)
            .and_then(|options| options.get("DefaultValue"))
            .cloned();
        let keys: Vec<Alternatives> = items
            .iter()
            .take(3)
            .map(|item| self.eval_at(item, depth))
            .collect();
        if keys.len() != 3 {
            return vec![Err("Fn::FindInMap needs [map, key, key]".into())];
        }
        let mut out = Vec::new();
        for found in self.combine(keys, |values| {
            let names = values
                .iter()
                .map(|value| text(value, "Fn::FindInMap key"))
                .collect::<Result<Vec<_>, _>>()?;
            let value = self
                .mappings
                .get(&names[0])
                .and_then(|map| map.get(&names[1]))
                .and_then(|map| map.get(&names[2]));
            match (value, &default) {
                (Some(value), _) => Ok(value.clone()),
                (None, Some(default)) => Ok(default.clone()),
                (None, None) => Err(format!(
                    "Fn::FindInMap finds no {}.{}.{} in Mappings",
                    names[0], names[1], names[2]
                )),
            }
        }) {
            match found {
                // A default may itself be an intrinsic function.
                Ok(value) if intrinsic(&value).is_some() => out.extend(self.eval_at(&value, depth)),
                other => out.push(other),
            }
        }
        capped(out)
    }

    /// The kind of a job-definition resource; `Err(type)` for a resource of another type;
    /// `None` when there is no such resource.
    fn job_definition_kind(&self, logical_id: &str) -> Option<Result<MonitoringKind, String>> {
        let resource_type = self
            .resources
            .get(logical_id)?
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or("");
        Some(match ResourceKind::of(resource_type) {
            ResourceKind::JobDefinition(kind) => Ok(kind),
            _ => Err(resource_type.to_owned()),
        })
    }

    /// Every name a job-definition resource can have: its `JobDefinitionName`, or
    /// [`generated_name`] where the template leaves the name to CloudFormation (or to
    /// something this reader cannot evaluate; the resource is still the same resource).
    pub fn job_definition_names(&self, logical_id: &str) -> Vec<String> {
        self.names_of(logical_id)
            .unwrap_or_else(|_| vec![generated_name(logical_id)])
    }

    /// A job definition's names, evaluated once; a reason for a cycle, or for names built
    /// from more than [`MAX_HOPS`] other names.
    fn names_of(&self, logical_id: &str) -> Result<Vec<String>, String> {
        if let Some(known) = self.names.borrow().get(logical_id) {
            return known
                .clone()
                .ok_or_else(|| format!("the name of {logical_id} is built from itself"));
        }
        if self.hops.get() >= MAX_HOPS {
            return Err(format!(
                "names built from more than {MAX_HOPS} other names are not followed"
            ));
        }
        self.names.borrow_mut().insert(logical_id.to_owned(), None);
        self.hops.set(self.hops.get() + 1);
        let names = self.evaluate_names(logical_id);
        self.hops.set(self.hops.get() - 1);
        self.names
            .borrow_mut()
            .insert(logical_id.to_owned(), Some(names.clone()));
        Ok(names)
    }

    fn evaluate_names(&self, logical_id: &str) -> Vec<String> {
        let declared = self
            .resources
            .get(logical_id)
            .and_then(|resource| resource.get("Properties"))
            .and_then(|properties| properties.get("JobDefinitionName"));
        let Some(declared) = declared else {
            return vec![generated_name(logical_id)];
        };
        let mut names = Vec::new();
        for alternative in self.eval(declared) {
            let name = match alternative {
                Ok(Value::String(name)) if !name.is_empty() => name,
                _ => generated_name(logical_id),
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }
}

/// A parameter's value as `Ref` gives it: a list for list types, else a string.
fn parameter_value(kind: &str, text: &str) -> Value {
    if kind == "CommaDelimitedList" || kind.starts_with("List<") {
        Value::Array(
            text.split(',')
                .map(|item| Value::String(item.trim().to_owned()))
                .collect(),
        )
    } else {
        Value::String(text.to_owned())
    }
}

/// The function and its argument, when `value` is an intrinsic function call.
pub fn intrinsic(value: &Value) -> Option<(&str, &Value)> {
    let object = value.as_object()?;
    if object.len() != 1 {
        return None;
    }
    let (name, argument) = object.iter().next()?;
    (name == "Ref" || name.starts_with("Fn::")).then_some((name.as_str(), argument))
}

fn too_deep() -> String {
    format!("nested more than {MAX_DEPTH} levels deep (a reference cycle?)")
}

fn text(value: &Value, what: &str) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        _ => Err(format!("{what} is not a string")),
    }
}

fn list_of<'v>(value: &'v Value, what: &str) -> Result<&'v Vec<Value>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("{what} needs a list"))
}

fn dedupe(alternatives: Alternatives) -> Alternatives {
    let mut out: Alternatives = Vec::new();
    for alternative in alternatives {
        if !out.contains(&alternative) {
            out.push(alternative);
        }
    }
    out
}

/// Both branches' alternatives, or a reason when they are too many.
fn capped(alternatives: Alternatives) -> Alternatives {
    let alternatives = dedupe(alternatives);
    if alternatives.len() > MAX_ALTERNATIVES {
        return vec![Err(too_many())];
    }
    alternatives
}

fn too_many() -> String {
    format!("more than {MAX_ALTERNATIVES} combinations of Fn::If branches")
}

/// Every combination of one alternative from each part, through `join`; a combination with a
/// reason in it is that reason. Built one combination at a time, the first part varying
/// slowest, so the work is the number of combinations times the number of parts.
fn combine(
    parts: Vec<Alternatives>,
    join: impl Fn(Vec<Value>) -> Result<Value, String>,
) -> Alternatives {
    if parts.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    let total = parts
        .iter()
        .try_fold(1usize, |total, part| total.checked_mul(part.len()));
    let Some(total) = total.filter(|total| *total <= MAX_ALTERNATIVES) else {
        return vec![Err(too_many())];
    };
    let mut out = Vec::with_capacity(total);
    for index in 0..total {
        let mut picks = vec![0; parts.len()];
        let mut rest = index;
        for (pick, part) in picks.iter_mut().zip(&parts).rev() {
            *pick = rest % part.len();
            rest /= part.len();
        }
        let chosen: Result<Vec<Value>, String> = picks
            .iter()
            .zip(&parts)
            .map(|(pick, part)| part[*pick].clone())
            .collect();
        out.push(chosen.and_then(&join));
    }
    dedupe(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolver_over(template: &Value, overrides: &BTreeMap<String, String>) -> Vec<Alternatives> {
        let resolver = Resolver::new(template, overrides);
        template["Outputs"]
            .as_object()
            .unwrap()
            .values()
            .map(|output| resolver.eval(&output["Value"]))
            .collect()
    }

    fn template() -> Value {
        json!({
            "Parameters": {
                "Name": {"Type": "String", "Default": "from-default"},
                "Names": {"Type": "CommaDelimitedList", "Default": "a,b"},
                "NoDefault": {"Type": "String"},
                "Stored": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/x"}
            },
            "Mappings": {"Env": {"prod": {"Job": "prod-job"}}},
            "Resources": {
                "Named": {"Type": "AWS::SageMaker::ModelBiasJobDefinition",
                          "Properties": {"JobDefinitionName": "bias-jd"}},
                "Unnamed": {"Type": "AWS::SageMaker::DataQualityJobDefinition", "Properties": {}},
                "Bucket": {"Type": "AWS::S3::Bucket"}
            },
            "Outputs": {
                "A": {"Value": {"Ref": "Name"}},
                "B": {"Value": {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "Named"}]}]}},
                "C": {"Value": {"Fn::GetAtt": ["Unnamed", "JobDefinitionName"]}},
                "D": {"Value": {"Fn::Sub": "${Name}-${AWS::Region}-${!Literal}"}},
                "E": {"Value": {"Fn::If": ["Cond", "yes", {"Ref": "Name"}]}},
                "F": {"Value": {"Fn::Join": ["+", {"Ref": "Names"}]}},
                "G": {"Value": {"Fn::FindInMap": ["Env", "prod", "Job"]}},
                "H": {"Value": {"Ref": "NoDefault"}},
                "I": {"Value": {"Ref": "Stored"}},
                "J": {"Value": {"Fn::ImportValue": "Shared"}},
                "K": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]}},
                "L": {"Value": {"Fn::Sub": ["${X}-jd", {"X": {"Fn::GetAtt": "Named.JobDefinitionName"}}]}}
            }
        })
    }

    #[test]
    fn each_supported_function_gives_its_value() {
        let results = resolver_over(&template(), &BTreeMap::new());
        let ok = |index: usize| -> Vec<Value> {
            results[index]
                .iter()
                .map(|a| a.clone().unwrap_or_else(|e| panic!("{index}: {e}")))
                .collect()
        };
        assert_eq!(ok(0), [json!("from-default")]);
        assert_eq!(ok(1), [json!("bias-jd")]);
        assert_eq!(ok(2), [json!("{Unnamed}")]);
        assert_eq!(ok(3), [json!("from-default-${AWS::Region}-${Literal}")]);
        assert_eq!(ok(4), [json!("yes"), json!("from-default")]);
        assert_eq!(ok(5), [json!("a+b")]);
        assert_eq!(ok(6), [json!("prod-job")]);
        assert_eq!(ok(11), [json!("bias-jd-jd")]);
    }

    #[test]
    fn what_only_deployment_knows_is_a_reason() {
        let results = resolver_over(&template(), &BTreeMap::new());
        let reason = |index: usize| results[index][0].clone().unwrap_err();
        assert!(
            reason(7).contains("NoDefault has no Default"),
            "{}",
            reason(7)
        );
        assert!(reason(8).contains("Systems Manager"), "{}", reason(8));
        assert!(
            reason(9).contains("Fn::ImportValue 'Shared'"),
            "{}",
            reason(9)
        );
        assert!(reason(10).contains("Bucket.Arn is known only after deployment"));
    }

    #[test]
    fn overrides_take_precedence_over_defaults_and_pseudo_parameters() {
        let overrides = BTreeMap::from([
            ("Name".to_owned(), "given".to_owned()),
            ("NoDefault".to_owned(), "now-known".to_owned()),
            ("AWS::Region".to_owned(), "eu-west-1".to_owned()),
        ]);
        let results = resolver_over(&template(), &overrides);
        assert_eq!(results[0], [Ok(json!("given"))]);
        assert_eq!(results[3], [Ok(json!("given-eu-west-1-${Literal}"))]);
        assert_eq!(results[7], [Ok(json!("now-known"))]);
    }

    #[test]
    fn a_reference_cycle_ends_in_a_reason() {
        let template = json!({"Resources": {
            "Loop": {"Type": "AWS::SageMaker::DataQualityJobDefinition",
                     "Properties": {"JobDefinitionName": {"Fn::GetAtt": ["Loop", "JobDefinitionName"]}}}
        }});
        let overrides = BTreeMap::new();
        let resolver = Resolver::new(&template, &overrides);
        // The name cannot be evaluated, so the resource keeps its generated name.
        assert_eq!(resolver.job_definition_names("Loop"), ["{Loop}"]);
    }

    #[test]
    fn too_many_branches_is_a_reason_not_a_blow_up() {
        let branch = json!({"Fn::If": ["C", "a", "b"]});
        let many = Value::Array(vec![branch; 8]);
        let overrides = BTreeMap::new();
        let resolver = Resolver::new(&json!({}), &overrides);
        let result = resolver.eval(&json!({"Fn::Join": ["", many]}));
        assert_eq!(result.len(), 1);
        assert!(result[0].clone().unwrap_err().contains("more than 64"));
    }

    #[test]
    fn the_work_per_template_is_bounded_and_the_limit_is_sticky() {
        let overrides = BTreeMap::new();
        let resolver = Resolver::new(&json!({}), &overrides);
        assert_eq!(
            resolver.eval(&json!({"Fn::Join": ["-", ["a", "b"]]})),
            [Ok(json!("a-b"))]
        );
        assert_eq!(resolver.limit(), None);
        let wide = Value::Array(vec![Value::Null; MAX_STEPS]);
        let result = resolver.eval(&wide);
        assert!(
            result[0]
                .clone()
                .unwrap_err()
                .contains("1,000,000 evaluation steps")
        );
        // Once reached, nothing more is evaluated.
        let after = resolver.eval(&json!("plain"));
        assert!(
            after[0]
                .clone()
                .unwrap_err()
                .contains("1,000,000 evaluation steps")
        );
        assert!(resolver.limit().is_some());

        let resolver = Resolver::new(&json!({}), &overrides);
        let long = "x".repeat(MAX_STRING);
        assert_eq!(resolver.eval(&json!({"Fn::Sub": long})), [Ok(json!(long))]);
        let result = resolver.eval(&json!({"Fn::Join": ["", [long, "y"]]}));
        assert!(
            result[0]
                .clone()
                .unwrap_err()
                .contains("longer than 4,096 characters")
        );
        assert!(resolver.limit().is_some());
    }

    #[test]
    fn names_built_through_many_others_end_in_a_placeholder_not_a_hang() {
        let mut resources = Map::new();
        resources.insert(
            "J0".into(),
            json!({"Type": "AWS::SageMaker::DataQualityJobDefinition", "Properties": {"JobDefinitionName": "a"}}),
        );
        for k in 1..=40 {
            resources.insert(
                format!("J{k:02}"),
                json!({"Type": "AWS::SageMaker::DataQualityJobDefinition",
                       "Properties": {"JobDefinitionName": {"Fn::Sub": format!("${{J{}.JobDefinitionName}}", if k == 1 { "0".to_owned() } else { format!("{:02}", k - 1) })}}}),
            );
        }
        let template = json!({"Resources": resources});
        let overrides = BTreeMap::new();
        let resolver = Resolver::new(&template, &overrides);
        // Sixteen hops resolve. From J40 down, the sixteenth name in progress (J25) is not
        // followed further and keeps its placeholder, which the names above it are built of.
        assert_eq!(resolver.job_definition_names("J15"), ["a"]);
        assert_eq!(resolver.job_definition_names("J40"), ["{J25}"]);
        assert_eq!(resolver.job_definition_names("J25"), ["{J25}"]);
        assert_eq!(resolver.limit(), None, "not a limit on the template's work");
    }
}
