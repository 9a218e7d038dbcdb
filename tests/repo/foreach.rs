//! `Fn::ForEach` as the `AWS::LanguageExtensions` transform expands it in `Resources`, for the
//! one shape the templates use: a loop over a list (a `CommaDelimitedList` by `Ref`) whose
//! fragment's keys name the identifier as `${Id}` and whose values use it as `Ref: Id` or in
//! `Fn::Sub`. A nested loop, or `&{Id}`, panics rather than expand wrongly.

use crate::policy::{Vars, render_list};
use serde_json::{Map, Value};

/// The `Resources` section with every `Fn::ForEach::*` entry replaced by the resources it
/// makes, one per item of its collection, in order.
pub fn expand_resources(resources: &Value, vars: &Vars) -> Map<String, Value> {
    let mut expanded = Map::new();
    for (key, value) in resources.as_object().expect("a Resources object") {
        if !key.starts_with("Fn::ForEach::") {
            expanded.insert(key.clone(), value.clone());
            continue;
        }
        let [identifier, collection, fragment] =
            value.as_array().expect("[id, list, fragment]").as_slice()
        else {
            panic!("{key}: Fn::ForEach takes an identifier, a collection and a fragment");
        };
        let identifier = identifier.as_str().expect("an identifier");
        for item in render_list(collection, vars) {
            for (output_key, body) in fragment.as_object().expect("a fragment object") {
                assert!(
                    !output_key.starts_with("Fn::ForEach::"),
                    "{key}: nested loops are not modelled"
                );
                let name = substitute(output_key, identifier, &item);
                let previous = expanded.insert(name.clone(), replace(body, identifier, &item));
                assert!(previous.is_none(), "{key} makes {name} twice");
            }
        }
    }
    expanded
}

fn substitute(text: &str, identifier: &str, item: &str) -> String {
    assert!(
        !text.contains(&format!("&{{{identifier}}}")),
        "&{{{identifier}}} is not modelled"
    );
    text.replace(&format!("${{{identifier}}}"), item)
}

/// The fragment with the identifier's `Ref` and `${...}` replaced by the item.
fn replace(value: &Value, identifier: &str, item: &str) -> Value {
    match value {
        Value::Object(object)
            if object.len() == 1 && object.get("Ref") == Some(&identifier.into()) =>
        {
            Value::String(item.to_owned())
        }
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, inner)| {
                    let inner = match (key.as_str(), inner) {
                        ("Fn::Sub", Value::String(text)) => {
                            Value::String(substitute(text, identifier, item))
                        }
                        ("Fn::Sub", Value::Array(form)) => {
                            let text = form[0].as_str().expect("Fn::Sub's text");
                            let mut form: Vec<Value> = form
                                .iter()
                                .map(|part| replace(part, identifier, item))
                                .collect();
                            form[0] = Value::String(substitute(text, identifier, item));
                            Value::Array(form)
                        }
                        _ => replace(inner, identifier, item),
                    };
                    (key.clone(), inner)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|inner| replace(inner, identifier, item))
                .collect(),
        ),
        other => other.clone(),
    }
}
