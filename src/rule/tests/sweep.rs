use super::*;

#[tokio::test]
async fn a_sweep_judges_every_schedule_once_by_the_job_definition_its_type_picks() {
    let memory = account();
    let handled = run(&memory, &periodic("{}"), &RunOptions::default()).await;
    assert_eq!(memory.delivered(), expected());
    assert_eq!(memory.delivered.lock().unwrap().len(), 7, "once each");
    assert_eq!(handled.report.of(Compliant), 3);
    assert_eq!(handled.report.sweep.job_definitions, 3);
    // Only the schedules whose summary names no job definition are described.
    assert_eq!(*memory.describes.lock().unwrap(), 3);
    assert!(handled.report.outcome().is_ok());
    assert!(
        memory.fixed.lock().unwrap().is_empty(),
        "remediation is off"
    );
}

#[tokio::test]
async fn results_go_under_the_ids_config_records() {
    let mut memory = account();
    let ids = [("c-dq".to_owned(), "config-id-c".to_owned())].into();
    memory.recorded.insert(SCHEDULE_TYPE.into(), ids);
    run(&memory, &periodic("{}"), &RunOptions::default()).await;
    let delivered = memory.delivered();
    assert_eq!(delivered.get("config-id-c"), Some(&NonCompliant));
    assert!(!delivered.contains_key("arn:schedule/c-dq"));
}

#[tokio::test]
async fn stale_results_are_cleared_only_after_a_complete_listing() {
    let gone = held("arn:schedule/deleted");
    let memory = account().holding(vec![gone.clone(), held("arn:schedule/a-embedded-on")]);
    let handled = run(&memory, &periodic("{}"), &RunOptions::default()).await;
    assert_eq!(handled.report.sweep.stale, 1);
    assert_eq!(memory.delivered()["arn:schedule/deleted"], NotApplicable);
    assert_eq!(memory.delivered()["arn:schedule/a-embedded-on"], Compliant);

    let mut memory = account().holding(vec![gone]);
    memory.listing_fails_after = Some(1);
    let handled = run(&memory, &periodic("{}"), &RunOptions::default()).await;
    assert_eq!(handled.report.sweep.stale, 0);
    assert!(!memory.delivered().contains_key("arn:schedule/deleted"));
    assert_eq!(memory.delivered().len(), 3, "the first page was delivered");
    let error = handled.report.outcome().unwrap_err().to_string();
    assert!(error.contains("resources beyond those listed"), "{error}");
}

#[tokio::test]
async fn a_schedule_config_has_not_recorded_yet_keeps_results_it_may_own() {
    // Config records one schedule; the other six have no Config id yet, so a result under an
    // id that is not an ARN may be one of theirs. One under an ARN no live schedule has is not.
    let mut memory = account().holding(vec![
        held("config-id-of-a-schedule-not-recorded-yet"),
        held("arn:schedule/deleted"),
    ]);
    let ids = [("c-dq".to_owned(), "config-id-c".to_owned())].into();
    memory.recorded.insert(SCHEDULE_TYPE.into(), ids);
    let handled = run(&memory, &periodic("{}"), &RunOptions::default()).await;
    assert_eq!(handled.report.sweep.stale, 1);
    let delivered = memory.delivered();
    assert_eq!(delivered["arn:schedule/deleted"], NotApplicable);
    assert!(!delivered.contains_key("config-id-of-a-schedule-not-recorded-yet"));
}

#[tokio::test]
async fn an_unreadable_schedule_is_named_and_never_guessed() {
    let mut memory = account();
    memory.unreadable.insert("a-embedded-on".into());
    let handled = run(&memory, &periodic("{}"), &RunOptions::default()).await;
    assert!(
        !memory
            .delivered()
            .contains_key("arn:schedule/a-embedded-on")
    );
    assert_eq!(memory.delivered().len(), 6);
    let unjudged = &handled.report.unjudged;
    assert_eq!(unjudged.len(), 1);
    assert_eq!(unjudged[0].resource, "a-embedded-on");
    assert!(handled.report.outcome().is_err());
}

#[tokio::test]
async fn the_command_line_keeps_rows_with_names_only_when_asked() {
    let memory = account();
    let options = RunOptions {
        keep_rows: true,
        ..RunOptions::default()
    };
    let handled = run(&memory, &periodic("{}"), &options).await;
    assert_eq!(handled.rows.len(), 7);
    assert!(
        handled
            .rows
            .iter()
            .any(|row| row.name.as_deref() == Some("d-bias"))
    );
    let handled = run(&account(), &periodic("{}"), &RunOptions::default()).await;
    assert!(handled.rows.is_empty());
}

#[tokio::test]
async fn remediation_fixes_exactly_the_non_compliant_schedules_when_asked() {
    let memory = account();
    let handled = run(
        &memory,
        &periodic(r#"{"Remediate":"true"}"#),
        &RunOptions::default(),
    )
    .await;
    let mut fixed = memory.fixed.lock().unwrap().clone();
    fixed.sort();
    assert_eq!(fixed, ["b-embedded-off", "c-dq", "f-missing", "g-nothing"]);
    assert_eq!(handled.report.fixes.remediated.len(), 4);
    // The job-definition control never remediates.
    let memory = account();
    run(
        &memory,
        &periodic(r#"{"Remediate":"true","Control":"JobDefinitions"}"#),
        &RunOptions::default(),
    )
    .await;
    assert!(memory.fixed.lock().unwrap().is_empty());
}
