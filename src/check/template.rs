//! CloudFormation and SAM templates, YAML or JSON, read into the JSON shape CloudFormation itself
//! works on: the short-form tags spelled out (`!Ref x` becomes `{"Ref": "x"}`, `!GetAtt a.b`
//! becomes `{"Fn::GetAtt": ["a", "b"]}`), with the line each mapping key stands on, so a finding
//! can point at its resource.

use saphyr::{MarkedYaml, Scalar, YamlData, YamlLoader};
use saphyr_parser::Parser;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// A template: its JSON form, and the line (from 1) of every mapping key by its JSON pointer
/// (`/Resources/MySchedule`).
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub root: Value,
    lines: HashMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("not YAML or JSON: {0}")]
    Syntax(String),
    #[error("holds no document")]
    Empty,
    #[error("line {line}: {message}")]
    Unsupported { line: usize, message: String },
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parser = Parser::new_from_str(text);
        let mut loader: YamlLoader<MarkedYaml> = YamlLoader::default();
        // CloudFormation keeps the last of two equal keys; so does this reader.
        loader.allow_duplicate_keys(true);
        parser
            .load(&mut loader, true)
            .map_err(|error| TemplateError::Syntax(error.to_string()))?;
        let documents = loader.into_documents();
        let document = documents.first().ok_or(TemplateError::Empty)?;
        let mut lines = HashMap::new();
        let root = convert(document, "", &mut lines)?;
        Ok(Template { root, lines })
    }

    /// The line a mapping key stands on, by JSON pointer (`/Resources/MySchedule`).
    pub fn line(&self, pointer: &str) -> Option<usize> {
        self.lines.get(pointer).copied()
    }
}

fn convert(
    node: &MarkedYaml,
    pointer: &str,
    lines: &mut HashMap<String, usize>,
) -> Result<Value, TemplateError> {
    let line = node.span.start.line();
    Ok(match &node.data {
        YamlData::Value(scalar) => scalar_value(scalar),
        YamlData::Representation(text, _, _) => Value::String(text.to_string()),
        YamlData::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| convert(item, &format!("{pointer}/{index}"), lines))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(entries) => {
            let mut object = Map::new();
            for (key, value) in entries {
                let key = match convert(key, pointer, &mut HashMap::new())? {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                let child = format!("{pointer}/{}", escape(&key));
                lines.insert(child.clone(), key_line(entries, &key).unwrap_or(line));
                let value = convert(value, &child, lines)?;
                object.insert(key, value);
            }
            Value::Object(object)
        }
        YamlData::Tagged(tag, inner) => {
            let inner_value = convert(inner, pointer, lines)?;
            if tag.handle == "!!" {
                // A core-schema tag (`!!str`, `!!int`): the value as written.
                inner_value
            } else {
                intrinsic(&tag.suffix, inner_value, line)?
            }
        }
        YamlData::Alias(_) => {
            return Err(TemplateError::Unsupported {
                line,
                message: "YAML aliases are not supported in CloudFormation templates".into(),
            });
        }
        YamlData::BadValue => Value::Null,
    })
}

fn key_line(entries: &saphyr::AnnotatedMapping<'_, MarkedYaml<'_>>, key: &str) -> Option<usize> {
    entries.keys().find_map(|candidate| match &candidate.data {
        YamlData::Value(Scalar::String(text)) if text == key => Some(candidate.span.start.line()),
        YamlData::Representation(text, _, _) if text == key => Some(candidate.span.start.line()),
        _ => None,
    })
}

fn scalar_value(scalar: &Scalar) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(flag) => Value::Bool(*flag),
        Scalar::Integer(number) => Value::from(*number),
        Scalar::FloatingPoint(number) => Number::from_f64(number.into_inner())
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Scalar::String(text) => Value::String(text.to_string()),
    }
}

/// The long form of a short-form intrinsic function tag.
fn intrinsic(name: &str, value: Value, line: usize) -> Result<Value, TemplateError> {
    let long = |key: &str, value: Value| {
        let mut object = Map::new();
        object.insert(key.to_owned(), value);
        Value::Object(object)
    };
    Ok(match name {
        "Ref" => long("Ref", value),
        "Condition" => long("Condition", value),
        "GetAtt" => match value {
            // `!GetAtt Resource.Attribute.Nested`: the resource, then the rest.
            Value::String(text) => match text.split_once('.') {
                Some((resource, attribute)) => long(
                    "Fn::GetAtt",
                    Value::Array(vec![resource.into(), attribute.into()]),
                ),
                None => {
                    return Err(TemplateError::Unsupported {
                        line,
                        message: format!("!GetAtt {text} names no attribute"),
                    });
                }
            },
            other => long("Fn::GetAtt", other),
        },
        "" => {
            return Err(TemplateError::Unsupported {
                line,
                message: "an empty tag".into(),
            });
        }
        other => long(&format!("Fn::{other}"), value),
    })
}

/// JSON pointer escaping (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_forms_become_long_forms_with_lines() {
        let template = Template::parse(
            "Parameters:\n  Name:\n    Type: String\nResources:\n  Schedule:\n    Type: AWS::SageMaker::MonitoringSchedule\n    Properties:\n      MonitoringScheduleConfig:\n        MonitoringJobDefinitionName: !GetAtt JobDefinition.JobDefinitionName\n        Other: !Select [1, !Split ['/', !Ref JobDefinition]]\n        Flag: !If [Cond, true, 'false']\n        Text: !Sub '${Name}-x'\n",
        )
        .unwrap();
        let config =
            &template.root["Resources"]["Schedule"]["Properties"]["MonitoringScheduleConfig"];
        assert_eq!(
            config["MonitoringJobDefinitionName"],
            json!({"Fn::GetAtt": ["JobDefinition", "JobDefinitionName"]})
        );
        assert_eq!(
            config["Other"],
            json!({"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "JobDefinition"}]}]})
        );
        assert_eq!(config["Flag"], json!({"Fn::If": ["Cond", true, "false"]}));
        assert_eq!(config["Text"], json!({"Fn::Sub": "${Name}-x"}));
        assert_eq!(template.line("/Resources/Schedule"), Some(5));
        assert_eq!(template.line("/Parameters/Name"), Some(2));
    }

    #[test]
    fn json_templates_read_the_same_way() {
        let template =
            Template::parse("{\n  \"Resources\": {\n    \"A\": {\"Type\": \"X\"}\n  }\n}\n")
                .unwrap();
        assert_eq!(template.root["Resources"]["A"]["Type"], "X");
        assert_eq!(template.line("/Resources/A"), Some(3));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(
            Template::parse("Resources: [unclosed"),
            Err(TemplateError::Syntax(_))
        ));
        assert!(Template::parse("").is_err());
        assert!(Template::parse("a: !GetAtt nodot").is_err());
    }
}
