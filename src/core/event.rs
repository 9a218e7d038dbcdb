//! The Config event, parsed once into what the rule acts on. Bad input stops here.

use crate::core::params::{ParamError, RuleParams};
use aws_lambda_events::event::config::ConfigEvent;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One invocation of the rule, validated.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub trigger: Trigger,
    pub params: RuleParams,
    pub result_token: ResultToken,
    pub rule_name: Option<String>,
    pub account_id: Option<String>,
    pub execution_role_arn: Option<String>,
    /// The resource left the rule's scope: whatever it is, it is NOT_APPLICABLE now.
    pub left_scope: bool,
}

#[derive(Debug, Clone)]
pub enum Trigger {
    Change(ConfigurationItem),
    Oversized(ItemHeader),
    Periodic { notified_at: DateTime },
}

impl Trigger {
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::Change(_) => "ConfigurationItemChangeNotification",
            Trigger::Oversized(_) => "OversizedConfigurationItemChangeNotification",
            Trigger::Periodic { .. } => "ScheduledNotification",
        }
    }
}

/// The token PutEvaluations must echo. `TESTMODE` asks Config to record nothing.
#[derive(Clone, PartialEq, Eq)]
pub enum ResultToken {
    Live(String),
    TestMode,
}

/// Whoever holds a live token can write results for the rule: it never reaches a log, even
/// through a `{:?}` of the whole invocation.
impl std::fmt::Debug for ResultToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResultToken::Live(_) => f.write_str("Live(<redacted>)"),
            ResultToken::TestMode => f.write_str("TestMode"),
        }
    }
}

impl ResultToken {
    pub const TEST_MODE: &'static str = "TESTMODE";

    pub fn as_str(&self) -> &str {
        match self {
            ResultToken::Live(token) => token,
            ResultToken::TestMode => Self::TEST_MODE,
        }
    }

    pub fn is_test_mode(&self) -> bool {
        matches!(self, ResultToken::TestMode)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ItemStatus {
    #[serde(rename = "OK")]
    Ok,
    ResourceDiscovered,
    ResourceNotRecorded,
    ResourceDeleted,
    ResourceDeletedNotRecorded,
}

impl ItemStatus {
    /// Statuses for which the resource cannot be judged and gets NOT_APPLICABLE.
    pub fn is_gone_or_unrecorded(self) -> bool {
        matches!(
            self,
            ItemStatus::ResourceNotRecorded
                | ItemStatus::ResourceDeleted
                | ItemStatus::ResourceDeletedNotRecorded
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Ok => "OK",
            ItemStatus::ResourceDiscovered => "ResourceDiscovered",
            ItemStatus::ResourceNotRecorded => "ResourceNotRecorded",
            ItemStatus::ResourceDeleted => "ResourceDeleted",
            ItemStatus::ResourceDeletedNotRecorded => "ResourceDeletedNotRecorded",
        }
    }
}

/// The members a configuration item and an oversized item's summary share.
#[derive(Debug, Clone)]
pub struct ItemHeader {
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub arn: Option<String>,
    pub status: ItemStatus,
    pub captured_at: DateTime,
}

#[derive(Debug, Clone)]
pub struct ConfigurationItem {
    pub header: ItemHeader,
    /// `None` when Config sent no configuration (deleted or unrecorded resources).
    pub configuration: Option<Value>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event is not valid JSON: {0}")]
    NotJson(String),
    #[error("event is not a Config rule event: {0}")]
    NotConfigEvent(String),
    #[error("event has no invokingEvent")]
    NoInvokingEvent,
    #[error("invokingEvent is not valid JSON: {0}")]
    InvokingEventNotJson(String),
    #[error("invokingEvent has no messageType")]
    NoMessageType,
    #[error(
        "unsupported messageType '{0}' (expected ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification or ScheduledNotification)"
    )]
    UnknownMessageType(String),
    #[error("{message_type}: {detail}")]
    BadShape {
        message_type: &'static str,
        detail: String,
    },
    #[error("{field} is not an ISO-8601 time: '{value}'")]
    BadTime { field: &'static str, value: String },
    #[error("event has no resultToken; PutEvaluations needs one (use TESTMODE to record nothing)")]
    NoResultToken,
    #[error(transparent)]
    Params(#[from] ParamError),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHeader {
    resource_type: String,
    resource_id: String,
    #[serde(default)]
    resource_name: Option<String>,
    #[serde(default, rename = "ARN")]
    arn: Option<String>,
    configuration_item_status: ItemStatus,
    configuration_item_capture_time: String,
}

#[derive(Deserialize)]
struct RawItem {
    #[serde(flatten)]
    header: RawHeader,
    #[serde(default)]
    configuration: Option<Value>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
}

impl Invocation {
    pub fn from_slice(bytes: &[u8]) -> Result<Self, EventError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|error| EventError::NotJson(error.to_string()))?;
        Self::from_value(value)
    }

    pub fn from_value(mut value: Value) -> Result<Self, EventError> {
        let object = value.as_object_mut().ok_or_else(|| {
            EventError::NotConfigEvent("the top level is not a JSON object".into())
        })?;
        // `ConfigEvent::event_left_scope` has no serde default; Config omits it on some events.
        object.entry("eventLeftScope").or_insert(Value::Bool(false));
        let event: ConfigEvent = serde_json::from_value(value)
            .map_err(|error| EventError::NotConfigEvent(error.to_string()))?;
        let params = RuleParams::parse(event.rule_parameters.as_deref())?;
        let invoking = event
            .invoking_event
            .as_deref()
            .ok_or(EventError::NoInvokingEvent)?;
        let trigger = parse_trigger(invoking)?;
        let result_token = match event.result_token.as_deref().map(str::trim) {
            None | Some("") => return Err(EventError::NoResultToken),
            Some(ResultToken::TEST_MODE) => ResultToken::TestMode,
            Some(token) => ResultToken::Live(token.to_owned()),
        };
        Ok(Invocation {
            trigger,
            params,
            result_token,
            rule_name: event.config_rule_name,
            account_id: event.account_id,
            execution_role_arn: event.execution_role_arn,
            left_scope: event.event_left_scope,
        })
    }
}

fn parse_trigger(invoking: &str) -> Result<Trigger, EventError> {
    let value: Value = serde_json::from_str(invoking)
        .map_err(|error| EventError::InvokingEventNotJson(error.to_string()))?;
    let message_type = value
        .get("messageType")
        .and_then(Value::as_str)
        .ok_or(EventError::NoMessageType)?;
    match message_type {
        "ConfigurationItemChangeNotification" => {
            let raw: RawItem = member(
                &value,
                "configurationItem",
                "ConfigurationItemChangeNotification",
            )?;
            Ok(Trigger::Change(ConfigurationItem {
                header: header(raw.header)?,
                configuration: raw.configuration.filter(|value| !value.is_null()),
                tags: raw.tags.unwrap_or_default(),
            }))
        }
        "OversizedConfigurationItemChangeNotification" => {
            let raw: RawHeader = member(
                &value,
                "configurationItemSummary",
                "OversizedConfigurationItemChangeNotification",
            )?;
            Ok(Trigger::Oversized(header(raw)?))
        }
        "ScheduledNotification" => {
            let raw = value
                .get("notificationCreationTime")
                .and_then(Value::as_str)
                .ok_or(EventError::BadShape {
                    message_type: "ScheduledNotification",
                    detail: "missing notificationCreationTime".into(),
                })?;
            Ok(Trigger::Periodic {
                notified_at: parse_time("notificationCreationTime", raw)?,
            })
        }
        other => Err(EventError::UnknownMessageType(other.to_owned())),
    }
}

/// The object under `key`, read into `T`; anything else is a shape error naming the member.
fn member<T: serde::de::DeserializeOwned>(
    value: &Value,
    key: &str,
    message_type: &'static str,
) -> Result<T, EventError> {
    let bad = |detail: String| EventError::BadShape {
        message_type,
        detail,
    };
    match value.get(key) {
        Some(item) if item.is_object() => {
            serde_json::from_value(item.clone()).map_err(|error| bad(format!("{key}: {error}")))
        }
        _ => Err(bad(format!("{key} is missing or not an object"))),
    }
}

fn header(raw: RawHeader) -> Result<ItemHeader, EventError> {
    Ok(ItemHeader {
        captured_at: parse_time(
            "configurationItemCaptureTime",
            &raw.configuration_item_capture_time,
        )?,
        resource_type: raw.resource_type,
        resource_id: raw.resource_id,
        resource_name: raw.resource_name.filter(|name| !name.is_empty()),
        arn: raw.arn.filter(|arn| !arn.is_empty()),
        status: raw.configuration_item_status,
    })
}

/// Config writes times as ISO-8601 with milliseconds and `Z`.
pub fn parse_time(field: &'static str, value: &str) -> Result<DateTime, EventError> {
    DateTime::from_str(value, Format::DateTimeWithOffset)
        .or_else(|_| DateTime::from_str(value, Format::DateTime))
        .map_err(|_| EventError::BadTime {
            field,
            value: value.chars().take(64).collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(invoking: Value) -> Value {
        json!({
            "invokingEvent": invoking.to_string(),
            "ruleParameters": "{}",
            "resultToken": "token-1",
            "eventLeftScope": false,
            "executionRoleArn": "arn:aws:iam::123456789012:role/config-role",
            "configRuleArn": "arn:aws:config:us-east-1:123456789012:config-rule/config-rule-abc",
            "configRuleName": "sagemaker-14",
            "configRuleId": "config-rule-abc",
            "accountId": "123456789012",
            "version": "1.0"
        })
    }

    fn item(status: &str) -> Value {
        json!({
            "messageType": "ConfigurationItemChangeNotification",
            "notificationCreationTime": "2026-11-28T10:00:00.000Z",
            "recordVersion": "1.3",
            "configurationItem": {
                "resourceType": "AWS::SageMaker::MonitoringSchedule",
                "resourceId": "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/s",
                "resourceName": "s",
                "ARN": "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/s",
                "awsRegion": "us-east-1",
                "awsAccountId": "123456789012",
                "configurationItemCaptureTime": "2026-11-28T09:59:58.123Z",
                "configurationItemStatus": status,
                "configuration": {"MonitoringScheduleName": "s"},
                "tags": {"team": "ml"}
            }
        })
    }

    #[test]
    fn a_change_event_becomes_a_change_trigger() {
        let invocation = Invocation::from_value(event(item("OK"))).unwrap();
        let Trigger::Change(item) = &invocation.trigger else {
            panic!("expected a change trigger");
        };
        assert_eq!(item.header.resource_name.as_deref(), Some("s"));
        assert_eq!(item.header.status, ItemStatus::Ok);
        assert_eq!(item.header.captured_at.secs(), 1_795_859_998);
        assert_eq!(item.header.captured_at.subsec_nanos(), 123_000_000);
        assert_eq!(item.tags.get("team").map(String::as_str), Some("ml"));
        assert_eq!(invocation.result_token, ResultToken::Live("token-1".into()));
        assert_eq!(invocation.rule_name.as_deref(), Some("sagemaker-14"));
    }

    #[test]
    fn a_missing_event_left_scope_reads_as_false() {
        let mut value = event(item("OK"));
        value.as_object_mut().unwrap().remove("eventLeftScope");
        assert!(!Invocation::from_value(value).unwrap().left_scope);
        let mut value = event(item("OK"));
        value["eventLeftScope"] = json!(true);
        assert!(Invocation::from_value(value).unwrap().left_scope);
    }

    #[test]
    fn a_token_never_shows_in_debug_output() {
        let invocation = Invocation::from_value(event(item("OK"))).unwrap();
        let debug = format!("{invocation:?}");
        assert!(!debug.contains("token-1"), "{debug}");
        assert!(debug.contains("Live(<redacted>)"), "{debug}");
    }

    #[test]
    fn testmode_tokens_are_recognised() {
        let mut value = event(item("OK"));
        value["resultToken"] = json!("TESTMODE");
        assert_eq!(
            Invocation::from_value(value).unwrap().result_token,
            ResultToken::TestMode
        );
        let mut value = event(item("OK"));
        value.as_object_mut().unwrap().remove("resultToken");
        assert_eq!(
            Invocation::from_value(value).unwrap_err(),
            EventError::NoResultToken
        );
    }

    #[test]
    fn a_scheduled_event_carries_its_notification_time() {
        let invocation = Invocation::from_value(event(json!({
            "awsAccountId": "123456789012",
            "notificationCreationTime": "2026-11-28T10:00:00.000Z",
            "messageType": "ScheduledNotification",
            "recordVersion": "1.0"
        })))
        .unwrap();
        let Trigger::Periodic { notified_at } = invocation.trigger else {
            panic!("expected a periodic trigger");
        };
        assert_eq!(notified_at.secs(), 1_795_860_000);
    }

    #[test]
    fn an_oversized_event_keeps_its_summary() {
        let invocation = Invocation::from_value(event(json!({
            "messageType": "OversizedConfigurationItemChangeNotification",
            "configurationItemSummary": {
                "resourceType": "AWS::SageMaker::MonitoringSchedule",
                "resourceId": "id-1",
                "resourceName": "s",
                "configurationItemCaptureTime": "2026-11-28T09:59:58+00:00",
                "configurationItemStatus": "ResourceDeleted"
            }
        })))
        .unwrap();
        let Trigger::Oversized(summary) = invocation.trigger else {
            panic!("expected an oversized trigger");
        };
        assert_eq!(summary.resource_id, "id-1");
        assert_eq!(summary.status, ItemStatus::ResourceDeleted);
        assert_eq!(summary.captured_at.secs(), 1_795_859_998);
    }

    #[test]
    fn bad_input_gets_a_clear_error() {
        assert!(matches!(
            Invocation::from_slice(b"{not json"),
            Err(EventError::NotJson(_))
        ));
        assert!(matches!(
            Invocation::from_slice(b"[]"),
            Err(EventError::NotConfigEvent(_))
        ));
        let mut value = event(item("OK"));
        value["invokingEvent"] = json!("{\"messageType\": ");
        assert!(matches!(
            Invocation::from_value(value),
            Err(EventError::InvokingEventNotJson(_))
        ));
        let value = event(json!({"messageType": "SomethingElse"}));
        assert_eq!(
            Invocation::from_value(value).unwrap_err(),
            EventError::UnknownMessageType("SomethingElse".into())
        );
        let value = event(item("Exploded"));
        let error = Invocation::from_value(value).unwrap_err();
        assert!(error.to_string().contains("configurationItem"), "{error}");
        let mut bad_time = item("OK");
        bad_time["configurationItem"]["configurationItemCaptureTime"] = json!("yesterday");
        assert_eq!(
            Invocation::from_value(event(bad_time)).unwrap_err(),
            EventError::BadTime {
                field: "configurationItemCaptureTime",
                value: "yesterday".into()
            }
        );
        let mut no_item = item("OK");
        no_item.as_object_mut().unwrap().remove("configurationItem");
        assert!(matches!(
            Invocation::from_value(event(no_item)),
            Err(EventError::BadShape { .. })
        ));
        let mut params = event(item("OK"));
        params["ruleParameters"] = json!("{\"Bogus\":\"1\"}");
        assert!(matches!(
            Invocation::from_value(params),
            Err(EventError::Params(ParamError::Unknown(_)))
        ));
    }
}
