//! The verdict over real third-party recordings (see tests/fixtures/README.md for each source).
//! The fake's answers held against the same recordings are in tests/wire/recordings.rs.

use crate::fixture;
use monitoring_schedule_isolation::{
    Compliance, JobDefinitionState, Judgement, Reading, judge, judge_job_definition,
};
use monitoring_schedule_isolation::{
    JobDefinitionRef, MonitoringKind, Network, ScheduleView, network_from,
};
use serde_json::Value;

fn unwrap_placebo(value: Value) -> Value {
    value.get("data").cloned().unwrap_or(value)
}

fn schedule(path: &str) -> ScheduleView {
    ScheduleView::from_configuration(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn job_definition(path: &str) -> JobDefinitionState {
    let definition = unwrap_placebo(fixture(path));
    JobDefinitionState::Found(
        network_from(definition.get("NetworkConfig"), "NetworkConfig").unwrap(),
    )
}

fn final_compliance(view: &ScheduleView, reading: Reading) -> Compliance {
    match judge(&view.job, reading) {
        Judgement::Final(verdict) => verdict.compliance,
        other => panic!("expected a final verdict, got {other:?}"),
    }
}

#[test]
fn sdk_created_schedules_name_a_job_definition_and_fail_only_the_literal_reading() {
    for path in [
        "describe_monitoring_schedule/modelquality_ref_jobdef_2021-05-18.json",
        "describe_monitoring_schedule/modelquality_ref_jobdef_2021-02-05.json",
    ] {
        let view = schedule(path);
        assert_eq!(
            final_compliance(&view, Reading::Literal),
            Compliance::NonCompliant,
            "{path}"
        );
        let Judgement::NeedsJobDefinition(reference) = judge(&view.job, Reading::Resolved) else {
            panic!("{path}: the resolved reading must look the job definition up");
        };
        assert_eq!(reference.kind, MonitoringKind::ModelQuality);
        assert!(
            reference
                .name
                .starts_with("model-quality-job-definition-2021-"),
            "{path}"
        );
        // Whatever the job definition says decides: isolated means compliant.
        let isolated = JobDefinitionState::Found(Some(Network {
            isolation: Some(true),
            vpc: false,
        }));
        assert_eq!(
            judge_job_definition(&reference, &isolated).compliance,
            Compliance::Compliant
        );
        assert_eq!(
            judge_job_definition(&reference, &JobDefinitionState::Missing).compliance,
            Compliance::NonCompliant
        );
    }
}

#[test]
fn embedded_definitions_without_network_config_fail_both_readings() {
    for path in [
        // No MonitoringType anywhere: the rule must not need it for embedded definitions.
        "describe_monitoring_schedule/dataquality_inline_no_networkconfig_mlops_fixture.json",
        // Status "Completed", ScheduleExpression misplaced, an invalid ARN: still judged.
        "describe_monitoring_schedule/sdk_unit_mock_inline_malformed.json",
    ] {
        let view = schedule(path);
        for reading in [Reading::Literal, Reading::Resolved] {
            assert_eq!(
                final_compliance(&view, reading),
                Compliance::NonCompliant,
                "{path}"
            );
        }
    }
}

#[test]
fn the_cloudformation_example_is_not_isolated() {
    let template = fixture("cloudformation/awsdocs_monitoringschedule_example.json");
    let properties = &template["Resources"]["MonitoringSchedule"]["Properties"];
    let view = ScheduleView::from_configuration(properties).unwrap();
    assert_eq!(view.name.as_deref(), Some("BasicMonitoringSchedule"));
    for reading in [Reading::Literal, Reading::Resolved] {
        assert_eq!(final_compliance(&view, reading), Compliance::NonCompliant);
    }
}

#[test]
fn recorded_job_definitions_decide_by_their_own_flag() {
    let bias = JobDefinitionRef {
        kind: MonitoringKind::ModelBias,
        name: "test-c7n-mdl-bias-job-def".into(),
    };
    let state =
        job_definition("describe_job_definition/c7n_placebo_model_bias_isolation_true.json");
    assert_eq!(
        judge_job_definition(&bias, &state).compliance,
        Compliance::Compliant
    );

    // `c7n-test` exists as three kinds, none with a NetworkConfig.
    for (kind, path) in [
        (
            MonitoringKind::DataQuality,
            "describe_job_definition/c7n_placebo_data_quality_no_networkconfig.json",
        ),
        (
            MonitoringKind::ModelQuality,
            "describe_job_definition/c7n_placebo_model_quality_no_networkconfig.json",
        ),
        (
            MonitoringKind::ModelExplainability,
            "describe_job_definition/c7n_placebo_model_explainability_no_networkconfig.json",
        ),
    ] {
        let state = job_definition(path);
        assert_eq!(state, JobDefinitionState::Found(None), "{path}");
        let reference = JobDefinitionRef {
            kind,
            name: "c7n-test".into(),
        };
        let verdict = judge_job_definition(&reference, &state);
        assert_eq!(verdict.compliance, Compliance::NonCompliant);
        assert!(verdict.annotation.starts_with(&format!(
            "{kind} job definition 'c7n-test' has no NetworkConfig"
        )));
    }

    // An explicit false beside a VpcConfig: a VPC is not isolation.
    let state = job_definition(
        "describe_job_definition/moto_test_create_dq_jobdef_request_isolation_false_with_vpc.json",
    );
    assert_eq!(
        state,
        JobDefinitionState::Found(Some(Network {
            isolation: Some(false),
            vpc: true
        }))
    );
    let reference = JobDefinitionRef {
        kind: MonitoringKind::DataQuality,
        name: "test-data-quality-job".into(),
    };
    let verdict = judge_job_definition(&reference, &state);
    assert_eq!(verdict.compliance, Compliance::NonCompliant);
    assert!(verdict.annotation.contains("A VpcConfig is not isolation"));
}
