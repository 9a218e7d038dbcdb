//! Stale results: cleared under their own types, and only when provably stale. A result is
//! never wrong, and the fake that proves it is as strict as AWS.

use crate::support::*;
use fake_aws::FakeAws;
use fake_aws::faults::Faults;
use serde_json::{Value, json};

/// The evaluations delivered for one resource id.
fn delivered_with(fake: &FakeAws, id: &str) -> Vec<Value> {
    delivered_by_id(fake).remove(id).unwrap_or_default()
}

#[test]
fn stale_results_are_left_alone_when_config_ids_are_unknown() {
    // Config holds results under its own ids; ListDiscoveredResources fails, so which listed
    // schedule each id belongs to is unknown and nothing is provably gone.
    let (mut seed, _) = synthetic_account(20);
    seed.account.results = vec![
        held_recorded(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("schedule-00003"),
            "NON_COMPLIANT",
        ),
        held_recorded(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("schedule-00004"),
            "COMPLIANT",
        ),
    ];
    let fake = start(seed);
    fake.set_faults(Faults {
        deny: vec!["ListDiscoveredResources".into()],
        ..Faults::default()
    });
    let run = evaluate(&fake, &rule_event("r1", "{}"), false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in ["schedule-00003", "schedule-00004"] {
        assert!(
            delivered_with(&fake, &schedule_id(name)).is_empty(),
            "{name}'s live result was cleared: {}",
            run.stderr
        );
        assert_eq!(delivered_with(&fake, &schedule_arn(name)).len(), 1);
    }
    assert!(
        run.stderr.contains("stale results are left"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_result_recorded_while_the_sweep_runs_is_not_cleared() {
    let (seed, expected) = synthetic_account(80);
    let fake = start(seed);
    // A schedule created after SageMaker was listed, and judged by its change event meanwhile:
    // its result is recorded as Config answers the sweep's read of held results, so the
    // clean-up finds it held and not listed, and clears it at the sweep's OrderingTimestamp.
    // The change event's is later (its configuration item was captured after the sweep's
    // event), so Config keeps the live result.
    let created = schedule_id("created-during-the-sweep");
    let recorded = created.clone();
    fake.on_call("GetComplianceDetailsByConfigRule", 1, move |state| {
        // The wall clock, read once: later than the sweep's notificationCreationTime (a fixed
        // past date); nothing here waits on it.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        state.account(ACCOUNT).results.insert(
            ("r1".into(), SCHEDULE_TYPE.into(), recorded.clone()),
            json!({"ConfigRuleName": "r1", "ResourceType": SCHEDULE_TYPE, "ResourceId": recorded,
                   "ComplianceType": "NON_COMPLIANT", "Annotation": "judged by its change event",
                   "OrderingTimestamp": now, "ResultRecordedTime": now}),
        );
    });
    let params = r#"{"DescribeConcurrency":"2"}"#;
    let sweeping = evaluate(&fake, &rule_event("r1", params), false, &[]);
    assert_eq!(sweeping.code, 0, "{}", sweeping.stderr);
    let held = fake.with_state(|state| state.account(ACCOUNT).results.clone());
    assert_eq!(
        held[&("r1".to_owned(), SCHEDULE_TYPE.to_owned(), created.clone())]["ComplianceType"],
        "NON_COMPLIANT",
        "a schedule created during the sweep was cleared as gone"
    );
    let delivered = delivered_by_id(&fake);
    assert!(expected.keys().all(|id| delivered.contains_key(id)));
    assert_eq!(
        delivered.len(),
        expected.len() + 1,
        "the 80, and the clean-up"
    );
}

#[test]
fn narrowed_job_definition_types_are_out_of_scope_not_gone() {
    let seed = sample_seed();
    let bias_id = "arn:aws:sagemaker:us-east-1:123456789012:model-bias-job-definition/test-c7n-mdl-bias-job-def";
    let gone_id =
        "arn:aws:sagemaker:us-east-1:123456789012:data-quality-job-definition/deleted-long-ago";
    let mut seed = seed;
    seed.account.results = vec![
        held_recorded(
            "r1",
            "AWS::SageMaker::ModelBiasJobDefinition",
            bias_id,
            "COMPLIANT",
        ),
        held_recorded(
            "r1",
            "AWS::SageMaker::DataQualityJobDefinition",
            gone_id,
            "NON_COMPLIANT",
        ),
    ];
    let fake = start(seed);
    let params = r#"{"Control":"JobDefinitions","JobDefinitionTypes":"DataQuality"}"#;
    let run = evaluate(&fake, &rule_event("r1", params), false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bias = delivered_with(&fake, bias_id);
    assert_eq!(bias.len(), 1, "{}", run.stderr);
    assert_eq!(bias[0]["ComplianceType"], "NOT_APPLICABLE");
    let annotation = bias[0]["Annotation"].as_str().unwrap();
    assert!(
        annotation.contains("out of this rule's scope"),
        "{annotation}"
    );
    assert!(annotation.contains("JobDefinitionTypes"), "{annotation}");
    // The job-definition rule clears what no longer exists, as the schedule rule does.
    let gone = delivered_with(&fake, gone_id);
    assert_eq!(gone.len(), 1);
    assert!(
        gone[0]["Annotation"]
            .as_str()
            .unwrap()
            .contains("no longer exists")
    );
}

#[test]
fn what_config_holds_after_a_sweep_is_the_account_even_when_it_held_newer_looking_results() {
    // Config keeps, per resource, the evaluation with the newest OrderingTimestamp (the fake
    // does too): a sweep whose evaluations carried a timestamp older than the results held an
    // hour before its event would leave every wrong verdict in place.
    let (mut seed, expected) = synthetic_account(30);
    let event_time = 1_795_860_000.0; // the periodic event's notificationCreationTime
    seed.account.results = expected
        .iter()
        .map(|(id, want)| {
            let wrong = if *want == "COMPLIANT" {
                "NON_COMPLIANT"
            } else {
                "COMPLIANT"
            };
            let mut result = held_recorded("r1", SCHEDULE_TYPE, id, wrong);
            result["OrderingTimestamp"] = json!(event_time - 3_600.0);
            result
        })
        .collect();
    let fake = start(seed);
    let run = evaluate(&fake, &rule_event("r1", "{}"), false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.with_state(|state| state.superseded.len()), 0);
    let held = fake.with_state(|state| state.account(ACCOUNT).results.clone());
    for (id, want) in &expected {
        let key = ("r1".to_owned(), SCHEDULE_TYPE.to_owned(), id.clone());
        assert_eq!(held[&key]["ComplianceType"], *want, "{id}");
    }
}

#[test]
/// N14: Config's inventory lags SageMaker's, so a live schedule has no Config id yet; the
/// results Config holds for that type cannot be proven stale in this sweep.
fn a_schedule_missing_from_configs_inventory_keeps_its_live_result() {
    let (mut seed, expected) = synthetic_account(10);
    let lagging = schedule_id("schedule-00003");
    seed.account.results = expected
        .iter()
        .map(|(id, want)| held_recorded("r1", SCHEDULE_TYPE, id, want))
        .collect();
    let fake = start(seed);
    fake.set_faults(Faults {
        undiscovered: vec!["schedule-00003".into()],
        ..Faults::default()
    });
    let run = evaluate(&fake, &rule_event("r1", "{}"), false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for evaluation in delivered_with(&fake, &lagging) {
        assert_ne!(
            evaluation["ComplianceType"], "NOT_APPLICABLE",
            "a live schedule's result was cleared: {}",
            run.stderr
        );
    }
    let held = fake.with_state(|state| state.account(ACCOUNT).results.clone());
    let key = ("r1".to_owned(), SCHEDULE_TYPE.to_owned(), lagging.clone());
    assert_eq!(held[&key]["ComplianceType"], expected[&lagging]);
}

#[test]
fn stale_results_are_turned_not_applicable_under_their_own_types() {
    let (mut seed, expected) = synthetic_account(30);
    seed.account.results = vec![
        held(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("schedule-00003"),
            "NON_COMPLIANT",
        ),
        held(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("schedule-00005"),
            "COMPLIANT",
        ),
        held(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("deleted-last-week"),
            "NON_COMPLIANT",
        ),
        held(
            "r1",
            "AWS::SageMaker::DataQualityJobDefinition",
            "arn:aws:sagemaker:us-east-1:123456789012:data-quality-job-definition/gone",
            "NON_COMPLIANT",
        ),
        held("r1", "AWS::::Account", ACCOUNT, "NON_COMPLIANT"),
        held(
            "r1",
            SCHEDULE_TYPE,
            &schedule_id("already-not-applicable"),
            "NOT_APPLICABLE",
        ),
        held(
            "r2",
            SCHEDULE_TYPE,
            &schedule_id("another-rules-row"),
            "NON_COMPLIANT",
        ),
    ];
    let fake = start(seed);
    // schedule-00005 cannot be read: it exists, so its old result must stay.
    fake.set_faults(Faults {
        deny_resources: vec!["schedule-00005".into()],
        ..Faults::default()
    });
    let event = rule_event("r1", "{}");
    let run = evaluate(&fake, &event, false, &[]);
    assert_eq!(run.code, 1, "schedule-00005 is unjudged: {}", run.stderr);
    let delivered = delivered_by_id(&fake);
    // A schedule that is gone, and types this rule does not sweep (an old account-level row,
    // a job definition judged when the rule had another Control).
    for (resource_type, id, why) in [
        (
            SCHEDULE_TYPE,
            schedule_id("deleted-last-week"),
            "no longer exists",
        ),
        (
            "AWS::SageMaker::DataQualityJobDefinition",
            "arn:aws:sagemaker:us-east-1:123456789012:data-quality-job-definition/gone".to_owned(),
            "out of this rule's scope",
        ),
        (
            "AWS::::Account",
            ACCOUNT.to_owned(),
            "out of this rule's scope",
        ),
    ] {
        let evaluations = delivered
            .get(&id)
            .unwrap_or_else(|| panic!("{id} was not cleared"));
        assert_eq!(evaluations.len(), 1);
        assert_eq!(evaluations[0]["ComplianceResourceType"], resource_type);
        assert_eq!(evaluations[0]["ComplianceType"], "NOT_APPLICABLE");
        let annotation = evaluations[0]["Annotation"].as_str().unwrap();
        assert!(annotation.contains(why), "{annotation}");
    }
    assert_eq!(
        delivered[&schedule_id("schedule-00003")][0]["ComplianceType"],
        expected[&schedule_id("schedule-00003")]
    );
    assert!(!delivered.contains_key(&schedule_id("schedule-00005")));
    assert!(!delivered.contains_key(&schedule_id("already-not-applicable")));
    assert!(!delivered.contains_key(&schedule_id("another-rules-row")));
    assert_eq!(delivered.len(), 29 + 3);

    // A sweep that could not list everything clears nothing.
    let (mut seed, _) = synthetic_account(30);
    seed.account.results = vec![held(
        "r1",
        SCHEDULE_TYPE,
        &schedule_id("deleted-last-week"),
        "NON_COMPLIANT",
    )];
    let fake = start(seed);
    fake.set_faults(Faults {
        deny: vec!["ListMonitoringSchedules".into()],
        ..Faults::default()
    });
    let run = evaluate(&fake, &event, false, &[]);
    assert_eq!(run.code, 1);
    assert!(fake.evaluations().is_empty());
}
