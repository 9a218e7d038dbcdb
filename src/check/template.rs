//! CloudFormation and SAM templates, YAML or JSON, read into the JSON shape CloudFormation itself
//! works on: the short-form tags spelled out (`!Ref x` becomes `{"Ref": "x"}`, `!GetAtt a.b`
//! becomes `{"Fn::GetAtt": ["a", "b"]}`), with the line each mapping key stands on, so a finding
//! can point at its resource.
//!
//! CloudFormation refuses YAML aliases ("YAML aliases are not allowed in CloudFormation
//! templates"), so does this reader, and it never expands one: the parser's alias events are
//! replaced by a null before the loader sees them, so nested anchors cannot multiply into
//! billions of nodes. YAML that is no template (a compose file beside the templates) keeps
//! its aliases as nulls, for `check` to skip it.

use saphyr::{MarkedYaml, Scalar, YamlData, YamlLoader};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, SpannedEventReceiver};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
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
        let mut loader = WithoutAliases {
            loader: YamlLoader::default(),
            first_alias: None,
        };
        // CloudFormation keeps the last of two equal keys; so does this reader.
        loader.loader.allow_duplicate_keys(true);
        parser
            .load(&mut loader, true)
            .map_err(|error| TemplateError::Syntax(error.to_string()))?;
        if let Some(error) = loader.loader.error() {
            return Err(TemplateError::Syntax(error.to_string()));
        }
        let documents = loader.loader.into_documents();
        let document = documents.first().ok_or(TemplateError::Empty)?;
        let mut lines = HashMap::new();
        let root = convert(document, "", &mut lines)?;
        let template = ["Resources", "AWSTemplateFormatVersion"]
            .iter()
            .any(|section| root.get(section).is_some());
        match loader.first_alias {
            Some(line) if template => Err(TemplateError::Unsupported {
                line,
                message: "YAML aliases are not allowed in CloudFormation templates".into(),
            }),
            _ => Ok(Template { root, lines }),
        }
    }

    /// The line a mapping key stands on, by JSON pointer (`/Resources/MySchedule`).
    pub fn line(&self, pointer: &str) -> Option<usize> {
        self.lines.get(pointer).copied()
    }
}

/// The loader, fed a null in place of each alias; the line of the first alias is kept.
struct WithoutAliases<'input> {
    loader: YamlLoader<'input, MarkedYaml<'input>>,
    first_alias: Option<usize>,
}

impl<'input> SpannedEventReceiver<'input> for WithoutAliases<'input> {
    fn on_event(&mut self, event: Event<'input>, span: Span) {
        let event = match event {
            Event::Alias(_) => {
                self.first_alias.get_or_insert(span.start.line());
                Event::Scalar(Cow::Borrowed("~"), ScalarStyle::Plain, 0, None)
            }
            other => other,
        };
        self.loader.on_event(event, span);
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
            for (key_node, value) in entries {
                let key = match convert(key_node, pointer, &mut HashMap::new())? {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                let child = format!("{pointer}/{}", escape(&key));
                // Of equal keys the mapping keeps the first, with the last one's value.
                lines.insert(child.clone(), key_node.span.start.line());
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
        // Aliases never reach the loader (see [`WithoutAliases`]).
        YamlData::Alias(_) => Value::Null,
        YamlData::BadValue => Value::Null,
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
    use serde_json::{Value, json};

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
        // Of two equal keys the last value counts, as in CloudFormation, at the first's line.
        let template = Template::parse("A: 1\nB: 2\nA: 3\n").unwrap();
        assert_eq!(template.root["A"], 3);
        assert_eq!(template.line("/A"), Some(1));
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

    /// `levels` anchors, each a list of nine aliases of the one before: 9^levels nodes when
    /// expanded.
    pub(crate) fn alias_bomb(levels: usize) -> String {
        let mut text = String::from("Metadata:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for k in 1..=levels {
            let aliases = vec![format!("*a{}", k - 1); 9].join(", ");
            text.push_str(&format!("  a{k}: &a{k} [{aliases}]\n"));
        }
        text.push_str(&format!(
            "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties: {{Tags: *a{levels}}}\n"
        ));
        text
    }

    #[test]
    fn aliases_are_refused_in_templates_and_never_expanded() {
        for levels in [1, 5, 9] {
            match Template::parse(&alias_bomb(levels)) {
                Err(TemplateError::Unsupported { line, message }) => {
                    assert_eq!(line, 3, "the first alias");
                    assert!(
                        message
                            .contains("YAML aliases are not allowed in CloudFormation templates"),
                        "{message}"
                    );
                }
                Err(other) => panic!("{levels} levels: {other}"),
                Ok(_) => panic!("{levels} levels: accepted"),
            }
        }
        // Other YAML may hold aliases: read without them (so `check` skips it as no template).
        let other = Template::parse("base: &base {replicas: 2}\nservice: *base\n").unwrap();
        assert_eq!(other.root["base"]["replicas"], 2);
        assert_eq!(other.root["service"], Value::Null);
    }
}
