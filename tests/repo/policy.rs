//! The templates' IAM as AWS evaluates it: a CloudFormation value rendered with a stack's
//! parameters, and whether a policy grants a request. Only what the templates use is
//! understood; anything else panics, so that a template change this evaluator cannot judge
//! fails the test instead of passing it.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// A stack's parameters and pseudo-parameters by name; a list parameter's value is its items
/// joined by commas, as CloudFormation takes it.
pub type Vars = HashMap<String, String>;

/// A template's parameters with their defaults (none where a parameter has no default), then
/// `overrides`, and the pseudo-parameters of `account` and `region`.
pub fn parameters(
    template: &Value,
    overrides: &BTreeMap<String, String>,
    account: &str,
    region: &str,
) -> Vars {
    let mut vars: Vars = template["Parameters"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(name, spec)| {
            let default = match &spec["Default"] {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                _ => return None,
            };
            Some((name.clone(), default))
        })
        .collect();
    vars.extend(overrides.clone());
    vars.insert("AWS::AccountId".into(), account.into());
    vars.insert("AWS::Region".into(), region.into());
    vars.insert("AWS::Partition".into(), "aws".into());
    vars
}

fn lookup(vars: &Vars, name: &str) -> String {
    vars.get(name)
        .cloned()
        .unwrap_or_else(|| panic!("no value for {name}"))
}

/// `Fn::Sub`'s text with `${Name}` replaced from `vars` and `${!Literal}` left as `${Literal}`.
fn substitute(text: &str, vars: &Vars) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("a closed ${...}");
        let name = &rest[start + 2..end];
        match name.strip_prefix('!') {
            Some(literal) => out.push_str(&format!("${{{literal}}}")),
            None => out.push_str(&lookup(vars, name)),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The branch of an `Fn::If` the stack takes, by the conditions [`with_conditions`] put in `vars`.
fn branch<'v>(form: &'v Value, vars: &Vars) -> &'v Value {
    let name = form[0].as_str().expect("Fn::If names a condition");
    match lookup(vars, &condition_key(name)).as_str() {
        "true" => &form[1],
        _ => &form[2],
    }
}

/// The key under which [`with_conditions`] puts a condition's value.
fn condition_key(name: &str) -> String {
    format!("Condition::{name}")
}

/// `vars` with each of the template's conditions evaluated (by [`condition`]), for `Fn::If` to
/// choose by.
pub fn with_conditions(template: &Value, mut vars: Vars) -> Vars {
    let names: Vec<String> = template["Conditions"]
        .as_object()
        .map(|all| all.keys().cloned().collect())
        .unwrap_or_default();
    for name in names {
        let holds = condition(template, &name, &vars);
        vars.insert(condition_key(&name), holds.to_string());
    }
    vars
}

/// A string value: a literal, `Ref`, `Fn::Sub` (either form), `Fn::Join`, `Fn::If` (after
/// [`with_conditions`]) or `Fn::GetAtt` (whose value `vars` holds as `Resource.Attribute`: it is
/// known only once deployed).
pub fn render(value: &Value, vars: &Vars) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(_) | Value::Bool(_) => value.to_string(),
        _ if value.get("Fn::If").is_some() => render(branch(&value["Fn::If"], vars), vars),
        _ if value.get("Ref").is_some() => lookup(vars, value["Ref"].as_str().unwrap()),
        _ if value.get("Fn::GetAtt").is_some() => match &value["Fn::GetAtt"] {
            Value::String(dotted) => lookup(vars, dotted),
            Value::Array(parts) => lookup(
                vars,
                &format!(
                    "{}.{}",
                    parts[0].as_str().unwrap(),
                    parts[1].as_str().unwrap()
                ),
            ),
            other => panic!("cannot render Fn::GetAtt {other}"),
        },
        _ if value.get("Fn::Sub").is_some() => match &value["Fn::Sub"] {
            Value::String(text) => substitute(text, vars),
            Value::Array(form) => {
                let mut scope = vars.clone();
                for (name, variable) in form[1].as_object().expect("Fn::Sub's variables") {
                    scope.insert(name.clone(), render(variable, vars));
                }
                substitute(form[0].as_str().unwrap(), &scope)
            }
            other => panic!("cannot render Fn::Sub {other}"),
        },
        _ if value.get("Fn::Join").is_some() => {
            let join = &value["Fn::Join"];
            render_list(&join[1], vars).join(join[0].as_str().unwrap())
        }
        other => panic!("cannot render {other}"),
    }
}

/// A list value: a list, `Fn::Split`, or a single value. A `Ref` here names a list parameter
/// (or one ARN), so its value is split at the commas CloudFormation joined it with.
pub fn render_list(value: &Value, vars: &Vars) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(|i| render_list(i, vars)).collect(),
        _ if value.get("Fn::If").is_some() => render_list(branch(&value["Fn::If"], vars), vars),
        _ if value.get("Ref").is_some() => {
            render(value, vars).split(',').map(str::to_owned).collect()
        }
        _ if value.get("Fn::Split").is_some() => {
            let split = &value["Fn::Split"];
            render(&split[1], vars)
                .split(split[0].as_str().unwrap())
                .map(str::to_owned)
                .collect()
        }
        single => vec![render(single, vars)],
    }
}

/// Whether the template's condition `name` holds: `Fn::Not`, `Fn::And`, `Fn::Or`, `Fn::Equals`
/// (of two values rendered, a number as its digits) and `Condition`.
pub fn condition(template: &Value, name: &str, vars: &Vars) -> bool {
    fn holds(template: &Value, value: &Value, vars: &Vars) -> bool {
        let each = |list: &Value| -> Vec<bool> {
            list.as_array()
                .expect("a list of conditions")
                .iter()
                .map(|inner| holds(template, inner, vars))
                .collect()
        };
        let text = |value: &Value| match value {
            Value::Number(number) => number.to_string(),
            other => render(other, vars),
        };
        if let Some(inner) = value.get("Fn::Not") {
            !each(inner)[0]
        } else if let Some(inner) = value.get("Fn::And") {
            each(inner).into_iter().all(|b| b)
        } else if let Some(inner) = value.get("Fn::Or") {
            each(inner).into_iter().any(|b| b)
        } else if let Some(pair) = value.get("Fn::Equals") {
            text(&pair[0]) == text(&pair[1])
        } else if let Some(other) = value.get("Condition") {
            condition(template, other.as_str().expect("a condition's name"), vars)
        } else {
            panic!("cannot evaluate the condition {value}")
        }
    }
    let body = template["Conditions"]
        .get(name)
        .unwrap_or_else(|| panic!("no condition {name}"));
    holds(template, body, vars)
}

/// IAM's `*` (any run) and `?` (one character) match.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn matches(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => matches(&p[1..], s) || (!s.is_empty() && matches(p, &s[1..])),
            (Some(b'?'), Some(_)) => matches(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => matches(&p[1..], &s[1..]),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), text.as_bytes())
}

/// Who asks: an IAM principal (by ARN) or an AWS service.
#[derive(Debug, Clone, Copy)]
pub enum Principal<'a> {
    Arn(&'a str),
    Service(&'a str),
}

/// One request as IAM sees it. A trust policy is asked with a principal and no resource; an
/// identity policy with a resource and no principal.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub principal: Option<Principal<'a>>,
    pub action: &'a str,
    pub resource: Option<&'a str>,
    /// The request's condition keys and their values; a key not here is absent.
    pub context: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> Request<'a> {
    pub fn new(action: &'a str) -> Self {
        Request {
            action,
            ..Request::default()
        }
    }

    pub fn on(mut self, resource: &'a str) -> Self {
        self.resource = Some(resource);
        self
    }

    pub fn by(mut self, principal: Principal<'a>) -> Self {
        self.principal = Some(principal);
        self
    }

    pub fn with(mut self, key: &'a str, values: &[&'a str]) -> Self {
        self.context.insert(key, values.to_vec());
        self
    }
}

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

fn principal_matches(principal: &Value, asking: Principal<'_>, vars: &Vars) -> bool {
    let listed = |kind: &str| principal.get(kind).map(|v| render_list(v, vars));
    for kind in principal.as_object().expect("a Principal object").keys() {
        assert!(kind == "AWS" || kind == "Service", "Principal {kind}");
    }
    match asking {
        Principal::Service(service) => listed("Service")
            .unwrap_or_default()
            .iter()
            .any(|listed| listed == service),
        Principal::Arn(arn) => listed("AWS").unwrap_or_default().iter().any(|listed| {
            if listed == "*" {
                true
            } else if let Some(root) = listed.strip_suffix(":root") {
                // An account's root stands for every principal of that account.
                account_of(root) == account_of(arn)
            } else if listed.len() == 12 && listed.bytes().all(|b| b.is_ascii_digit()) {
                listed == account_of(arn)
            } else {
                listed == arn
            }
        }),
    }
}

/// One condition operator over one key, as IAM evaluates it for single-valued operators: the
/// key present and any of its values matching any of the policy's; `IfExists` holds for an
/// absent key; `Null` tests presence only.
fn condition_holds(operator: &str, key: &str, wanted: &[String], request: &Request<'_>) -> bool {
    assert!(
        !operator.starts_with("ForAnyValue:") && !operator.starts_with("ForAllValues:"),
        "set operators are not modelled: {operator}"
    );
    let present = request.context.get(key);
    if operator == "Null" {
        return wanted.iter().all(|w| match w.as_str() {
            "true" => present.is_none(),
            "false" => present.is_some(),
            other => panic!("Null takes true or false, not {other}"),
        });
    }
    let (base, if_exists) = match operator.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (operator, false),
    };
    let Some(values) = present else {
        return if_exists;
    };
    let matches: fn(&str, &str) -> bool = match base {
        "StringEquals" | "ArnEquals" => |wanted, value| wanted == value,
        "StringLike" | "ArnLike" => glob,
        "Bool" => |wanted, value| wanted.eq_ignore_ascii_case(value),
        other => panic!("condition operator {other} is not modelled"),
    };
    values
        .iter()
        .any(|value| wanted.iter().any(|w| matches(w, value)))
}

/// Whether one statement (an `Allow`) applies to the request: its principal, action, resource
/// and every condition.
pub fn grants(statement: &Value, request: &Request<'_>, vars: &Vars) -> bool {
    assert_eq!(statement["Effect"], "Allow", "only Allow is modelled");
    for element in ["NotAction", "NotResource", "NotPrincipal"] {
        assert!(
            statement.get(element).is_none(),
            "{element} is not modelled"
        );
    }
    if let Some(principal) = statement.get("Principal") {
        let asking = request
            .principal
            .expect("a trust policy is asked by a principal");
        if !principal_matches(principal, asking, vars) {
            return false;
        }
    }
    let action = request.action.to_ascii_lowercase();
    if !render_list(&statement["Action"], vars)
        .iter()
        .any(|granted| glob(&granted.to_ascii_lowercase(), &action))
    {
        return false;
    }
    if let Some(resources) = statement.get("Resource") {
        let resource = request
            .resource
            .expect("an identity policy is asked about a resource");
        if !render_list(resources, vars)
            .iter()
            .any(|granted| glob(granted, resource))
        {
            return false;
        }
    }
    let Some(condition) = statement.get("Condition") else {
        return true;
    };
    condition
        .as_object()
        .expect("a Condition object")
        .iter()
        .all(|(operator, block)| {
            block
                .as_object()
                .expect("a condition block")
                .iter()
                .all(|(key, wanted)| {
                    condition_holds(operator, key, &render_list(wanted, vars), request)
                })
        })
}

/// Whether any statement grants the request. The templates hold no `Deny`, so an `Allow` that
/// applies decides.
pub fn allowed(statements: &[Value], request: &Request<'_>, vars: &Vars) -> bool {
    statements.iter().any(|s| grants(s, request, vars))
}

/// Every statement of a role's inline policies, those under `!If [Condition, policy,
/// !Ref AWS::NoValue]` included (as deployed with the condition true).
pub fn role_statements(role: &Value) -> Vec<Value> {
    let mut found = Vec::new();
    let policies = role["Properties"]["Policies"]
        .as_array()
        .expect("a role with inline policies");
    for policy in policies {
        let policy = policy.get("Fn::If").map_or(policy, |branches| &branches[1]);
        if let Some(list) = policy["PolicyDocument"]["Statement"].as_array() {
            found.extend(list.iter().cloned());
        }
    }
    found
}

/// The statements of a role's inline policies as deployed: a policy under `!If [Condition,
/// policy, !Ref AWS::NoValue]` only when the stack's [`with_conditions`] (in `vars`) make it so.
pub fn deployed_statements(role: &Value, vars: &Vars) -> Vec<Value> {
    let mut found = Vec::new();
    for policy in role["Properties"]["Policies"]
        .as_array()
        .expect("a role with inline policies")
    {
        let policy = match policy.get("Fn::If") {
            Some(form) => branch(form, vars),
            None => policy,
        };
        if let Some(list) = policy["PolicyDocument"]["Statement"].as_array() {
            found.extend(list.iter().cloned());
        }
    }
    found
}

/// Every action a set of statements names.
pub fn actions(statements: &[Value], vars: &Vars) -> Vec<String> {
    statements
        .iter()
        .flat_map(|s| render_list(&s["Action"], vars))
        .collect()
}
