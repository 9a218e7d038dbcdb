//! Periodic sweeps over the wire: the real binary, the real SDK, the local fake. Pages and
//! batches within the API limits, rate and concurrency, exemptions, the job-definition rule.

use crate::support::*;
use fake_aws::faults::{Faults, Injected};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

#[test]
fn a_thousand_schedules_with_twenty_percent_throttling_each_get_one_correct_evaluation() {
    let faults = Faults {
        throttle: 0.2,
        seed: 42,
        ..Faults::default()
    };
    // The fake throttles at random, whatever the call rate: the pacing retries soon and does
    // not slow down for it.
    let Swept {
        fake,
        expected,
        run,
    } = sweep(1000, faults, "{}", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_exactly_one_correct(&fake, &expected);
    let calls = fake.calls();
    let throttled = calls
        .iter()
        .filter(|c| c.injected == Injected::Throttle)
        .count();
    let share = throttled as f64 / calls.len() as f64;
    assert!(
        (0.15..0.25).contains(&share),
        "{throttled} of {} calls throttled",
        calls.len()
    );
}

#[test]
fn a_rate_limit_is_met_by_sending_slower_not_by_retrying_harder() {
    // Real time, one of the few: the fake's token bucket refills by the clock, and the pacing
    // must find its rate. `make test` runs it alone, after the rest (the Makefile's ALONE).
    // A token bucket of 20 calls a second per operation, bursts of 10, as SageMaker throttles:
    // every verdict exact, and few attempts throttled once the pacing has found the rate.
    let faults = Faults {
        rate_limit_tps: Some(20.0),
        rate_limit_burst: Some(10.0),
        ..Faults::default()
    };
    let Swept {
        fake,
        expected,
        run,
    } = sweep(160, faults, "{}", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_exactly_one_correct(&fake, &expected);
    // Finding the rate takes the first second or so (the bucket's burst, then a cut on trial):
    // more than retrying harder would throttle is never spent, and after that second few
    // describes are throttled. (In ~1 run in 5 the first cut comes late and the first 300 ms
    // cost ~60 throttled attempts, a third of a 160-schedule sweep's.)
    let throttled = injected(&fake, Injected::Throttle);
    let attempts = fake.calls().len();
    assert!(
        throttled * 2 < attempts,
        "{throttled} of {attempts} attempts throttled"
    );
    let describes: Vec<_> = fake
        .calls()
        .into_iter()
        .filter(|call| call.operation == "DescribeMonitoringSchedule")
        .collect();
    let settled: Vec<_> = describes
        .iter()
        .filter(|call| call.arrived - describes[0].arrived >= Duration::from_secs(1))
        .collect();
    let settled_throttled = settled
        .iter()
        .filter(|call| call.injected == Injected::Throttle)
        .count();
    assert!(
        settled.len() >= 40 && settled_throttled * 10 < settled.len(),
        "after the first second, {settled_throttled} of {} describes throttled",
        settled.len()
    );
    assert!(fake.most_in_flight("DescribeMonitoringSchedule") <= 8);
}

#[test]
fn the_configured_rate_and_concurrency_are_never_exceeded() {
    // The describes are held until one more than allowed is in flight, or for 1 s: the most in
    // flight is then exactly the limit, however fast the machine.
    let faults = Faults {
        hold_until: 4,
        hold_ms: 1_000,
        operations: vec!["DescribeMonitoringSchedule".into()],
        ..Faults::default()
    };
    let params = r#"{"MaxCallsPerSecond":"25","DescribeConcurrency":"3"}"#;
    let Swept {
        fake,
        expected,
        run,
    } = sweep(120, faults, params, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_exactly_one_correct(&fake, &expected);
    assert_eq!(fake.most_in_flight("DescribeMonitoringSchedule"), 3);
    // Real time, one of the few: a rate is calls a second. Only the ceiling is asserted, which
    // a loaded machine cannot break (it can only send slower).
    let describes = fake.most_per_second("DescribeMonitoringSchedule");
    assert!(
        describes <= 26,
        "{describes} describes within one second, at most 25 allowed"
    );
}

#[test]
fn pages_of_schedules_and_batches_of_evaluations_stay_within_the_api_limits() {
    let (mut seed, expected) = synthetic_account(350);
    // Config records each schedule under an id of its own choosing: results must land there.
    seed.account.discovered = Some(
        expected
            .keys()
            .map(|arn| {
                let name = format!("schedule-{}", &arn[arn.len() - 5..]);
                json!({"resourceType": SCHEDULE_TYPE, "resourceId": format!("recorded-{name}"), "resourceName": name})
            })
            .collect(),
    );
    let fake = start(seed);
    let run = evaluate(&fake, &periodic_event("{}", "token"), false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let calls = served(&fake);
    assert_eq!(calls["ListMonitoringSchedules"], 4);
    // Only the embedded ones (i % 4 is 0 or 1): the others' summaries name their job definition.
    assert_eq!(calls["DescribeMonitoringSchedule"], 176);
    assert_eq!(calls["DescribeDataQualityJobDefinition"], 25);
    assert_eq!(calls["DescribeModelBiasJobDefinition"], 25);
    assert_eq!(calls["ListDiscoveredResources"], 4);
    let sizes: Vec<usize> = fake.puts().iter().map(|put| put.evaluations).collect();
    assert_eq!(sizes, vec![100, 100, 100, 50]);
    // One GetComplianceDetailsByConfigRule page: the stale-result check (nothing held yet).
    assert_eq!(calls["GetComplianceDetailsByConfigRule"], 1);
    // The minimum: list pages + describes of schedules whose summary names no job definition
    // + one describe per distinct (type, name) + put batches + discovery pages + held pages.
    assert_eq!(
        calls.values().sum::<usize>(),
        4 + 176 + 50 + 4 + 4 + 1,
        "{calls:?}"
    );

    let delivered = delivered_by_id(&fake);
    assert_eq!(delivered.len(), 350);
    for (arn, want) in &expected {
        let id = format!("recorded-schedule-{}", &arn[arn.len() - 5..]);
        assert_eq!(delivered[&id].len(), 1);
        assert_eq!(delivered[&id][0]["ComplianceType"], *want);
    }
    assert!(run.stderr.contains("350 judged"), "{}", run.stderr);
}

#[test]
fn evaluations_config_reports_as_failed_are_retried_until_delivered() {
    let faults = Faults {
        put_failures: 0.2,
        seed: 9,
        ..Faults::default()
    };
    let Swept {
        fake,
        expected,
        run,
    } = sweep(250, faults, "{}", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_exactly_one_correct(&fake, &expected);
    let puts = fake.puts();
    assert!(puts.iter().any(|put| put.failed > 0));
    assert!(
        puts.len() > 3,
        "failed evaluations were sent again: {} calls",
        puts.len()
    );
}

#[test]
fn evaluations_that_keep_failing_are_named_not_dropped() {
    let faults = Faults {
        put_failures: 1.0,
        ..Faults::default()
    };
    let Swept { fake, run, .. } = sweep(120, faults, "{}", &[]);
    assert_eq!(run.code, 1);
    assert!(fake.evaluations().is_empty());
    assert!(
        run.stderr
            .contains("120 evaluation(s) were computed but not delivered"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&schedule_id("schedule-00000")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("FailedEvaluations"), "{}", run.stderr);
}

#[test]
fn a_schedule_deleted_between_list_and_describe_is_skipped() {
    let gone = ["schedule-00004", "schedule-00017"];
    let faults = Faults {
        vanish: gone.iter().map(|s| s.to_string()).collect(),
        ..Faults::default()
    };
    let Swept {
        fake,
        mut expected,
        run,
    } = sweep(30, faults, "{}", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in gone {
        expected.remove(&schedule_id(name));
    }
    assert_exactly_one_correct(&fake, &expected);
    assert!(run.stderr.contains("2 vanished"), "{}", run.stderr);
}

#[test]
fn an_unreadable_schedule_gets_no_evaluation_and_is_named() {
    let faults = Faults {
        deny_resources: vec!["schedule-00005".into()],
        ..Faults::default()
    };
    let Swept {
        fake,
        mut expected,
        run,
    } = sweep(40, faults, "{}", &[]);
    assert_eq!(run.code, 1);
    expected.remove(&schedule_id("schedule-00005"));
    assert_exactly_one_correct(&fake, &expected);
    assert!(
        run.stderr.contains("1 resource(s) could not be judged"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "schedule-00005 (DescribeMonitoringSchedule: access denied (AccessDeniedException)"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unreadable_job_definition_leaves_its_schedules_unjudged_after_one_call() {
    // jd-02 is named by the DataQuality schedules 2 and 102 (i % 4 == 2, i % 50 == 2).
    let faults = Faults {
        deny_resources: vec!["jd-02".into()],
        ..Faults::default()
    };
    let Swept {
        fake,
        expected,
        run,
    } = sweep(200, faults, "{}", &[]);
    assert_eq!(run.code, 1);
    let delivered = delivered_by_id(&fake);
    assert_eq!(delivered.len(), 198);
    for i in [2, 102] {
        let name = format!("schedule-{i:05}");
        assert!(!delivered.contains_key(&schedule_id(&name)));
        assert!(run.stderr.contains(&name), "{}", run.stderr);
    }
    for (id, evaluations) in &delivered {
        assert_eq!(evaluations[0]["ComplianceType"], expected[id]);
    }
    let denied_calls = fake
        .calls()
        .iter()
        .filter(|c| c.operation == "DescribeDataQualityJobDefinition")
        .count();
    assert_eq!(
        denied_calls, 25,
        "one call per distinct job definition, the denied one included"
    );
}

#[test]
fn without_discovery_results_land_under_the_schedule_arn() {
    let faults = Faults {
        deny: vec!["ListDiscoveredResources".into()],
        ..Faults::default()
    };
    let Swept {
        fake,
        expected,
        run,
    } = sweep(20, faults, "{}", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let by_arn = expected
        .iter()
        .map(|(id, want)| (schedule_arn(name_of(id)), *want))
        .collect();
    assert_exactly_one_correct(&fake, &by_arn);
    assert!(
        run.stderr.contains("reporting each resource under its ARN"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_region_that_refuses_the_resource_type_fails_loudly_and_never_falls_back_to_the_account() {
    let faults = Faults {
        refuse_resource_types: vec![SCHEDULE_TYPE.into()],
        ..Faults::default()
    };
    let Swept { fake, run, .. } = sweep(150, faults, "{}", &[]);
    assert_eq!(run.code, 1);
    assert!(fake.evaluations().is_empty());
    assert!(
        run.stderr
            .contains("refused ComplianceResourceType AWS::SageMaker::MonitoringSchedule"),
        "{}",
        run.stderr
    );
    let puts = fake
        .calls()
        .iter()
        .filter(|c| c.operation == "PutEvaluations")
        .count();
    assert_eq!(puts, 1, "after the refusal no further batch is sent");
    assert!(
        run.stderr
            .contains("150 evaluation(s) were computed but not delivered")
            || run.stderr.contains("is invalid"),
        "{}",
        run.stderr
    );
}

#[test]
fn schedules_that_cannot_be_listed_are_not_guessed() {
    let faults = Faults {
        deny: vec!["ListMonitoringSchedules".into()],
        ..Faults::default()
    };
    let Swept { fake, run, .. } = sweep(10, faults, "{}", &[]);
    assert_eq!(run.code, 1);
    assert!(fake.evaluations().is_empty());
    assert!(
        run.stderr
            .contains("ListMonitoringSchedules: access denied"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_strict_reading_fails_every_named_schedule_without_describing_job_definitions() {
    let Swept {
        fake,
        expected,
        run,
    } = sweep(40, Faults::default(), r#"{"StrictReading":"true"}"#, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let delivered = delivered_by_id(&fake);
    for (id, want) in &expected {
        let index: usize = id[id.len() - 5..].parse().unwrap();
        let strict = if index.is_multiple_of(4) {
            "COMPLIANT"
        } else {
            "NON_COMPLIANT"
        };
        assert_eq!(
            delivered[id][0]["ComplianceType"], strict,
            "{id} (resolved: {want})"
        );
    }
    assert!(!served(&fake).contains_key("DescribeDataQualityJobDefinition"));
}

wire_test!(
    the_sample_account_matches_the_fixture_verdicts,
    sample_seed(),
    |fake, bin| {
        let run = bin.dry_run(&event_file("periodic.json"));
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(fake.evaluations().is_empty(), "a dry run writes nothing");
        let verdicts: BTreeMap<String, String> = run
            .lines()
            .into_iter()
            .map(|line| {
                let id = line["ComplianceResourceId"].as_str().unwrap().to_owned();
                (id, line["ComplianceType"].as_str().unwrap().to_owned())
            })
            .collect();
        let want = [
            ("churn-data-quality-hourly", "COMPLIANT"),
            ("churn-data-quality-staging", "NON_COMPLIANT"),
            ("pricing-data-quality-vpc-only", "NON_COMPLIANT"),
            ("fraud-model-bias-weekly", "COMPLIANT"),
            ("fraud-data-quality-daily", "NON_COMPLIANT"),
            ("fraud-model-quality-daily", "NON_COMPLIANT"),
            ("fraud-explainability-weekly", "NON_COMPLIANT"),
            ("recsys-model-quality-isolated", "COMPLIANT"),
            ("recsys-explainability-isolated", "COMPLIANT"),
            ("recsys-data-quality-open", "NON_COMPLIANT"),
            ("sdk-defaults-isolated", "COMPLIANT"),
        ];
        for (name, compliance) in want {
            assert_eq!(verdicts[&schedule_arn(name)], compliance, "{name}");
        }
        // Recorded fixtures keep their own ARNs.
        for (arn, compliance) in [
            (
                "arn:aws:sagemaker:us-east-1:account:monitoring-schedule/monitoring-schedule",
                "NON_COMPLIANT",
            ),
            ("arn:aws:monitoring-schedule", "NON_COMPLIANT"),
            (
                "arn:aws:sagemaker:us-west-2:262002448484:monitoring-schedule/demo-xgb-churn-monitoring-schedule-2021-02-05-0415",
                "NON_COMPLIANT",
            ),
            (
                "arn:aws:sagemaker:us-west-2:521695447989:monitoring-schedule/demo-xgb-churn-monitoring-schedule-2021-05-18-0029",
                "NON_COMPLIANT",
            ),
        ] {
            assert_eq!(verdicts[arn], compliance, "{arn}");
        }
        assert_eq!(verdicts.len(), 15);
    }
);

#[test]
fn exemptions_by_tag_and_by_name_are_reported_and_cost_no_calls_when_off() {
    let fake = start(sample_seed());
    let params = r#"{"ExemptTag":"compliance-exempt","ExemptNamePatterns":"fraud-*"}"#;
    let run = evaluate(
        &fake,
        &with_params(event_file("periodic.json"), params),
        true,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    let by_id = |name: &str| {
        lines
            .iter()
            .find(|l| l["ComplianceResourceId"] == schedule_arn(name))
            .unwrap()
            .clone()
    };
    let tagged = by_id("recsys-data-quality-open");
    assert_eq!(tagged["ComplianceType"], "NOT_APPLICABLE");
    assert!(
        tagged["Annotation"]
            .as_str()
            .unwrap()
            .contains("ExemptTag: the schedule carries the tag compliance-exempt (SEC-1234)"),
        "{tagged}"
    );
    for name in [
        "fraud-model-bias-weekly",
        "fraud-data-quality-daily",
        "fraud-model-quality-daily",
        "fraud-explainability-weekly",
    ] {
        let line = by_id(name);
        assert_eq!(line["ComplianceType"], "NOT_APPLICABLE");
        assert!(
            line["Annotation"]
                .as_str()
                .unwrap()
                .contains("matches 'fraud-*'"),
            "{line}"
        );
    }
    assert_eq!(
        by_id("churn-data-quality-hourly")["ComplianceType"],
        "COMPLIANT"
    );
    let calls = fake.call_counts();
    assert_eq!(
        calls["ListTags"], 11,
        "every schedule not exempt by name: {calls:?}"
    );
    // Of the 11, the 6 whose summary names no job definition are described; exempt ones and
    // those whose summary names their job definition are not.
    assert_eq!(calls["DescribeMonitoringSchedule"], 6, "{calls:?}");

    let fake = start(sample_seed());
    evaluate(&fake, &event_file("periodic.json"), true, &[]);
    assert!(
        !fake.call_counts().contains_key("ListTags"),
        "no exemption tag, no ListTags"
    );

    // On a change event the item's own tags decide, without a call.
    let fake = start(sample_seed());
    let event = with_params(
        event_file("change-embedded-not-isolated-vpc.json"),
        r#"{"ExemptTag":"env=staging"}"#,
    );
    let run = evaluate(&fake, &event, true, &[]);
    assert_eq!(run.lines()[0]["ComplianceType"], "NOT_APPLICABLE");
    assert!(
        run.lines()[0]["Annotation"]
            .as_str()
            .unwrap()
            .contains("tagged env=staging")
    );
    assert!(fake.calls().is_empty());
}

#[test]
fn the_job_definition_rule_judges_all_four_types() {
    let fake = start(sample_seed());
    let run = evaluate(
        &fake,
        &with_params(
            event_file("periodic.json"),
            r#"{"Control":"JobDefinitions"}"#,
        ),
        true,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    let verdict = |kind: &str, name: &str| {
        let line = lines
            .iter()
            .find(|l| {
                l["ComplianceResourceType"] == format!("AWS::SageMaker::{kind}JobDefinition")
                    && l["ComplianceResourceId"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!("/{}", name.to_lowercase()))
            })
            .unwrap_or_else(|| panic!("no evaluation for {kind} {name}: {lines:#?}"));
        line["ComplianceType"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        verdict("ModelBias", "test-c7n-mdl-bias-job-def"),
        "COMPLIANT"
    );
    assert_eq!(verdict("DataQuality", "c7n-test"), "NON_COMPLIANT");
    assert_eq!(verdict("ModelQuality", "c7n-test"), "NON_COMPLIANT");
    assert_eq!(verdict("ModelExplainability", "c7n-test"), "NON_COMPLIANT");
    assert_eq!(
        verdict("ModelQuality", "recsys-model-quality-isolated"),
        "COMPLIANT"
    );
    assert_eq!(
        verdict("ModelExplainability", "recsys-explainability-isolated"),
        "COMPLIANT"
    );
    assert_eq!(
        verdict("DataQuality", "recsys-data-quality-open"),
        "NON_COMPLIANT"
    );
    assert_eq!(lines.len(), 8);
    assert!(
        !lines
            .iter()
            .any(|l| l["ComplianceResourceType"] == SCHEDULE_TYPE)
    );
    let calls = fake.call_counts();
    for kind in [
        "DataQuality",
        "ModelQuality",
        "ModelBias",
        "ModelExplainability",
    ] {
        assert_eq!(calls[&format!("List{kind}JobDefinitions")], 1);
    }

    // Change events: a job definition is judged itself; a schedule is not this rule's.
    let fake = start(sample_seed());
    let event = with_params(
        job_definition_change("ModelBias", "open-bias", "OK", Some(false)),
        r#"{"Control":"JobDefinitions"}"#,
    );
    let run = evaluate(&fake, &event, true, &[]);
    assert_eq!(run.lines().len(), 1);
    assert_eq!(
        run.lines()[0]["ComplianceResourceType"],
        "AWS::SageMaker::ModelBiasJobDefinition"
    );
    assert_eq!(run.lines()[0]["ComplianceType"], "NON_COMPLIANT");
    let event = with_params(
        event_file("change-embedded-isolated.json"),
        r#"{"Control":"JobDefinitions"}"#,
    );
    assert_eq!(
        evaluate(&fake, &event, true, &[]).lines()[0]["ComplianceType"],
        "NOT_APPLICABLE"
    );
    let event = with_params(
        job_definition_change("DataQuality", "jd-x", "OK", Some(true)),
        r#"{"Control":"JobDefinitions","JobDefinitionTypes":"ModelBias"}"#,
    );
    assert_eq!(
        evaluate(&fake, &event, true, &[]).lines()[0]["ComplianceType"],
        "NOT_APPLICABLE"
    );
}

#[test]
fn a_rule_name_longer_than_config_reads_back_is_named_with_the_limit() {
    // A rule may be named with 128 characters; Config's GetComplianceDetailsByConfigRule takes
    // at most 64, so such a rule's held results cannot be read at all.
    let rule = "r".repeat(65);
    let fake = start(sample_seed());
    let run = evaluate(&fake, &rule_event(&rule, "{}"), false, &[]);
    assert_eq!(
        run.code, 0,
        "the sweep still judges and delivers: {}",
        run.stderr
    );
    assert!(!fake.evaluations().is_empty());
    let said: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("64 characters"))
        .collect();
    assert_eq!(said.len(), 1, "one line names the limit: {}", run.stderr);
    for consequence in ["every verdict is reported again", "never cleared"] {
        assert!(said[0].contains(consequence), "{}", said[0]);
    }
    assert_eq!(
        served(&fake).get("GetComplianceDetailsByConfigRule"),
        None,
        "a read Config must refuse is not sent"
    );
}
