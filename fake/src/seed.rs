//! Seeds: what the fake account holds. Real recordings load as they are: timestamps in any of
//! the shapes recordings use become epoch seconds, and boto3's `ResponseMetadata` is dropped.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The default account, the one any unknown caller lands in.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
pub const DEFAULT_ACCESS_KEY: &str = "AKIDFAKEDEFAULT";
pub const DEFAULT_SECRET_KEY: &str = "fake-secret-for-local-tests-only";
pub const DEFAULT_REGION: &str = "us-east-1";
/// Result tokens the fake takes as issued by Config: the one the tests' events carry, and the
/// sample token of `events/`.
pub const ISSUED_TOKENS: [&str; 2] = [
    "token",
    "AAAAAQAAAAEAAAAAcmVzdWx0LXRva2VuLXNhbXBsZS1ub3QtYS1yZWFsLXRva2Vu",
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AccountSeed {
    /// DescribeMonitoringSchedule outputs.
    pub schedules: Vec<Value>,
    /// Describe*JobDefinition outputs; the kind comes from `MonitoringType` (removed before the
    /// fake answers), from the `<Kind>AppSpecification` member, or from the ARN.
    pub job_definitions: Vec<Value>,
    /// Tags by resource ARN.
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    /// Configuration items for GetResourceConfigHistory (`configuration` as an object).
    pub config_items: Vec<Value>,
    /// ListDiscoveredResources answers; when absent, every schedule and job definition is
    /// recorded under the fake's own id (`config::config_id`), or its ARN with
    /// `config_ids_are_arns`.
    pub discovered: Option<Vec<Value>>,
    pub config_ids_are_arns: bool,
    /// Results Config already holds (GetComplianceDetailsByConfigRule): objects with
    /// ConfigRuleName, ResourceType, ResourceId, ComplianceType.
    pub results: Vec<Value>,
    /// Security Hub findings (ASFF): each names what matters (at least `Resources[0].Id`; the
    /// control, `Compliance.Status`, workflow, note, account or region where they differ from a
    /// FAILED, NEW SageMaker.14 finding of this account and region) and the rest is filled in
    /// as Security Hub writes it (`securityhub::complete`).
    pub findings: Vec<Value>,
    /// Security Hub is not enabled here: its calls answer InvalidAccessException.
    pub security_hub_disabled: bool,
    /// Resource types the recorder does not record in this account and region.
    pub unrecorded_types: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Seed {
    /// The default account's resources.
    #[serde(flatten)]
    pub account: AccountSeed,
    /// Further accounts, by id; `<id>/<region>` for an account's resources in a region other
    /// than the default one.
    pub accounts: BTreeMap<String, AccountSeed>,
    /// Regions served besides the default one.
    pub regions: Vec<String>,
    /// Regions served but not enabled: ListRegions says so and every other call there is
    /// refused as AWS refuses one in a region the account has not opted in to. Default:
    /// `ap-east-1`.
    pub disabled_regions: Option<Vec<String>>,
}

impl Seed {
    pub fn from_json(text: &str) -> Result<Seed, String> {
        serde_json::from_str(text).map_err(|error| format!("seed is not valid: {error}"))
    }
}

/// The job-definition kinds and the member that only their Describe output has.
pub const KINDS: [(&str, &str, &str); 4] = [
    (
        "DataQuality",
        "DataQualityAppSpecification",
        "data-quality-job-definition",
    ),
    (
        "ModelQuality",
        "ModelQualityAppSpecification",
        "model-quality-job-definition",
    ),
    (
        "ModelBias",
        "ModelBiasAppSpecification",
        "model-bias-job-definition",
    ),
    (
        "ModelExplainability",
        "ModelExplainabilityAppSpecification",
        "model-explainability-job-definition",
    ),
];

/// Works out a job definition's kind and takes out the seed-only `MonitoringType` member.
pub fn job_definition_kind(definition: &mut Value) -> Option<String> {
    let object = definition.as_object_mut()?;
    if let Some(Value::String(kind)) = object.remove("MonitoringType") {
        return Some(kind);
    }
    for (kind, member, _) in KINDS {
        if object.contains_key(member) {
            return Some(kind.to_owned());
        }
    }
    let arn = object.get("JobDefinitionArn")?.as_str()?;
    KINDS
        .iter()
        .find(|(_, _, segment)| arn.contains(&format!(":{segment}/")))
        .map(|(kind, _, _)| (*kind).to_owned())
}

/// Unwraps a Cloud Custodian placebo recording (`{"status_code":..,"data":{..}}`) and turns
/// every timestamp into epoch seconds, recursively.
pub fn normalise(value: Value) -> Value {
    let value = match value {
        Value::Object(mut object)
            if object.contains_key("status_code") && object.contains_key("data") =>
        {
            object.remove("data").unwrap_or(Value::Null)
        }
        other => other,
    };
    normalise_inner(value)
}

fn normalise_inner(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            if let Some(epoch) = placebo_datetime(&object) {
                return epoch;
            }
            Value::Object(
                object
                    .into_iter()
                    .filter(|(key, _)| key != "ResponseMetadata")
                    .map(|(key, value)| {
                        let value = match value {
                            Value::String(text) if key.ends_with("Time") => {
                                iso_to_epoch(&text).unwrap_or(Value::String(text))
                            }
                            other => normalise_inner(other),
                        };
                        (key, value)
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(normalise_inner).collect()),
        other => other,
    }
}

fn placebo_datetime(object: &Map<String, Value>) -> Option<Value> {
    if object.get("__class__")?.as_str()? != "datetime" {
        return None;
    }
    let field = |name: &str| object.get(name).and_then(Value::as_i64).unwrap_or(0);
    let seconds = epoch_seconds(
        field("year"),
        field("month"),
        field("day"),
        field("hour"),
        field("minute"),
        field("second"),
    );
    Some(number(seconds as f64 + field("microsecond") as f64 / 1e6))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`; naive times are taken as UTC.
pub fn iso_to_epoch(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' {
        return None;
    }
    let part = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let seconds = epoch_seconds(
        part(0..4)?,
        part(5..7)?,
        part(8..10)?,
        part(11..13)?,
        part(14..16)?,
        part(17..19)?,
    );
    let rest = &text[19..];
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(tail) => {
            let digits = tail.chars().take_while(char::is_ascii_digit).count();
            let fraction = format!("0.{}", &tail[..digits]).parse::<f64>().ok()?;
            (fraction, &tail[digits..])
        }
        None => (0.0, rest),
    };
    let offset = match zone {
        "" | "Z" | "z" => 0,
        zone if zone.len() == 6 => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let hours: i64 = zone[1..3].parse().ok()?;
            let minutes: i64 = zone[4..6].parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };
    Some(number((seconds - offset) as f64 + fraction))
}

/// Days from civil, after Howard Hinnant's algorithm.
fn epoch_seconds(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    days * 86_400 + hour * 3600 + minute * 60 + second
}

fn number(value: f64) -> Value {
    if value.fract() == 0.0 {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn iso_times_become_epoch_seconds() {
        assert_eq!(iso_to_epoch("1970-01-01T00:00:00Z"), Some(json!(0)));
        assert_eq!(
            iso_to_epoch("2021-01-15T00:00:00"),
            Some(json!(1_610_668_800))
        );
        assert_eq!(
            iso_to_epoch("2021-02-05T04:15:09.879000"),
            Some(json!(1_612_498_509.879))
        );
        assert_eq!(
            iso_to_epoch("2021-01-15T01:00:00+01:00"),
            Some(json!(1_610_668_800))
        );
        assert_eq!(iso_to_epoch("yesterday"), None);
    }

    #[test]
    fn placebo_recordings_are_unwrapped() {
        let value = normalise(json!({
            "status_code": 200,
            "data": {
                "CreationTime": {"__class__": "datetime", "year": 2024, "month": 4, "day": 25,
                                 "hour": 14, "minute": 42, "second": 41, "microsecond": 396000},
                "ResponseMetadata": {}
            }
        }));
        assert_eq!(value, json!({"CreationTime": 1_714_056_161.396}));
    }

    #[test]
    fn kinds_come_from_the_app_specification_or_the_arn() {
        let mut bias = json!({"ModelBiasAppSpecification": {}});
        assert_eq!(job_definition_kind(&mut bias).as_deref(), Some("ModelBias"));
        let mut by_arn = json!({"JobDefinitionArn": "arn:aws:sagemaker:us-east-1:1:model-quality-job-definition/x"});
        assert_eq!(
            job_definition_kind(&mut by_arn).as_deref(),
            Some("ModelQuality")
        );
        let mut explicit =
            json!({"MonitoringType": "DataQuality", "ModelBiasAppSpecification": {}});
        assert_eq!(
            job_definition_kind(&mut explicit).as_deref(),
            Some("DataQuality")
        );
        assert!(explicit.get("MonitoringType").is_none());
    }
}
