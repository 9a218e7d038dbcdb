//! Properties over arbitrary input: nothing panics, and COMPLIANT only ever comes from an
//! isolation flag that is literally `true`.

use monitoring_schedule_isolation::Invocation;
use monitoring_schedule_isolation::{
    ANNOTATION_LIMIT, Compliance, JobDefinitionState, Judgement, Reading, judge,
    judge_job_definition,
};
use monitoring_schedule_isolation::{ScheduleView, network_from};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Keys the rule reads, mixed with others, so generated objects often hit the real paths.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("MonitoringScheduleConfig".to_owned()),
        Just("MonitoringJobDefinition".to_owned()),
        Just("NetworkConfig".to_owned()),
        Just("EnableNetworkIsolation".to_owned()),
        Just("MonitoringJobDefinitionName".to_owned()),
        Just("MonitoringType".to_owned()),
        Just("VpcConfig".to_owned()),
        Just("MonitoringScheduleName".to_owned()),
        "[A-Za-z]{0,12}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop_oneof![
            Just("true".to_owned()),
            Just("DataQuality".to_owned()),
            Just("ModelBias".to_owned()),
            ".{0,300}",
        ]
        .prop_map(Value::String),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Schedules of the right outline with arbitrary values at every level.
fn schedule_like() -> impl Strategy<Value = Value> {
    let flag =
        prop_oneof![2 => Just(Value::Bool(true)), 1 => Just(Value::Bool(false)), 2 => any_json()];
    let extra = prop_oneof![2 => Just(json!({})), 1 => any_json()];
    let kind = prop_oneof![2 => Just(json!("ModelBias")), 1 => any_json()];
    let name = prop_oneof![3 => "[a-z0-9-]{1,63}".prop_map(Value::String), 1 => any_json()];
    (flag, extra.clone(), extra, name, kind, any::<u8>()).prop_map(
        |(flag, network_extra, definition_extra, name, kind, shape)| {
            let mut network = match network_extra {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            if shape & 1 == 1 {
                network.insert("EnableNetworkIsolation".into(), flag);
            }
            let mut definition = match definition_extra {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            if shape & 2 == 2 {
                definition.insert("NetworkConfig".into(), Value::Object(network));
            }
            let mut config = Map::new();
            if shape & 4 == 4 {
                config.insert("MonitoringJobDefinition".into(), Value::Object(definition));
            }
            if shape & 8 == 8 {
                config.insert("MonitoringJobDefinitionName".into(), name);
                config.insert("MonitoringType".into(), kind);
            }
            json!({"MonitoringScheduleName": "s", "MonitoringScheduleConfig": config})
        },
    )
}

fn embedded_flag(configuration: &Value) -> Option<&Value> {
    configuration
        .get("MonitoringScheduleConfig")?
        .get("MonitoringJobDefinition")?
        .get("NetworkConfig")?
        .get("EnableNetworkIsolation")
}

fn check(configuration: &Value, job_definition: &Value) -> Result<(), TestCaseError> {
    let Ok(view) = ScheduleView::from_configuration(configuration) else {
        return Ok(()); // A shape error: refused, not judged.
    };
    for reading in [Reading::Resolved, Reading::Literal] {
        match judge(&view.job, reading) {
            Judgement::Final(verdict) => {
                prop_assert!(verdict.annotation.chars().count() <= ANNOTATION_LIMIT);
                if verdict.compliance == Compliance::Compliant {
                    prop_assert_eq!(embedded_flag(configuration), Some(&Value::Bool(true)));
                }
            }
            Judgement::NeedsJobDefinition(reference) => {
                prop_assert_eq!(reading, Reading::Resolved);
                let Ok(network) =
                    network_from(job_definition.get("NetworkConfig"), "NetworkConfig")
                else {
                    continue;
                };
                let verdict = judge_job_definition(&reference, &JobDefinitionState::Found(network));
                prop_assert!(verdict.annotation.chars().count() <= ANNOTATION_LIMIT);
                if verdict.compliance == Compliance::Compliant {
                    prop_assert_eq!(
                        job_definition
                            .get("NetworkConfig")
                            .and_then(|n| n.get("EnableNetworkIsolation")),
                        Some(&Value::Bool(true))
                    );
                }
                let missing = judge_job_definition(&reference, &JobDefinitionState::Missing);
                prop_assert_eq!(missing.compliance, Compliance::NonCompliant);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics_and_never_earns_compliance(configuration in any_json(), job_definition in any_json()) {
        check(&configuration, &job_definition)?;
    }

    #[test]
    fn schedule_shaped_json_is_compliant_only_on_a_literal_true(configuration in schedule_like(), job_definition in any_json()) {
        check(&configuration, &job_definition)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_event_parser(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Invocation::from_slice(&bytes);
    }

    #[test]
    fn arbitrary_events_never_panic_the_event_parser(
        invoking in any_json(),
        parameters in any_json(),
        item in any_json(),
        token in any_json(),
        left in any_json(),
    ) {
        let mut invoking_event = invoking.clone();
        if let Value::Object(map) = &mut invoking_event {
            map.insert("messageType".into(), json!("ConfigurationItemChangeNotification"));
            map.insert("configurationItem".into(), item);
        }
        for invoking in [invoking, invoking_event] {
            let event = json!({
                "invokingEvent": invoking.to_string(),
                "ruleParameters": parameters.to_string(),
                "resultToken": token,
                "eventLeftScope": left,
            });
            let _ = Invocation::from_value(event);
        }
    }
}

/// The schedule-shaped strategy reaches every outcome, so the property above is not vacuous.
#[test]
fn the_generator_reaches_compliant_and_needs_lookup_cases() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = schedule_like();
    let (mut compliant, mut non_compliant, mut lookups, mut refused) = (0, 0, 0, 0);
    for _ in 0..3_000 {
        let configuration = strategy.new_tree(&mut runner).unwrap().current();
        match ScheduleView::from_configuration(&configuration) {
            Err(_) => refused += 1,
            Ok(view) => match judge(&view.job, Reading::Resolved) {
                Judgement::Final(verdict) if verdict.compliance == Compliance::Compliant => {
                    compliant += 1
                }
                Judgement::Final(_) => non_compliant += 1,
                Judgement::NeedsJobDefinition(_) => lookups += 1,
            },
        }
    }
    assert!(compliant > 30, "{compliant} compliant");
    assert!(non_compliant > 100, "{non_compliant} non-compliant");
    assert!(lookups > 100, "{lookups} lookups");
    assert!(refused > 100, "{refused} refused");
}
