use super::*;

#[tokio::test(start_paused = true)]
async fn at_the_deadline_nothing_is_started_and_nothing_cleared() {
    let memory = account().holding(vec![held("arn:schedule/deleted")]);
    let (handled, took) = timed(&memory, &periodic("{}"), &deadline(ms(0), ms(0))).await;
    assert_eq!(took, ms(0));
    assert!(handled.report.sweep.unlisted_pages);
    assert_eq!(handled.report.sweep.not_started, 0, "nothing was listed");
    assert_eq!(handled.report.sweep.stale, 0);
    assert!(memory.called("ListMonitoringSchedules").is_empty());
    assert!(memory.called("DescribeMonitoringSchedule").is_empty());
    assert!(memory.called("PutEvaluations").is_empty());
    let error = handled.report.outcome().unwrap_err().to_string();
    assert!(error.contains("Raise the function's Timeout"), "{error}");
}

/// Ten schedules judged one at a time, each describe taking `describe`, within
/// `Deadline::within(4 s, 2 s)`: judging stops at 2 s, reads are given up at 3 s, delivery
/// starts nothing at 3.5 s and waits for nothing at 3.75 s.
async fn ten_within_four_seconds(describe: Duration) -> (Memory, Report, Duration) {
    let mut memory = embedded_schedules(10, |_| true);
    memory
        .latency
        .insert("DescribeMonitoringSchedule", describe);
    let (handled, took) = timed(
        &memory,
        &periodic(r#"{"DescribeConcurrency":"1"}"#),
        &deadline(ms(4_000), ms(2_000)),
    )
    .await;
    (memory, handled.report, took)
}

fn names(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("arn:schedule/s-{i:05}"))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_sweep_starts_no_judging_after_stop_starting_and_delivers_what_it_judged() {
    let (memory, report, took) = ten_within_four_seconds(ms(300)).await;
    // Started every 300 ms until 2 s; the seventh ends at 2.1 s, and no eighth starts.
    assert_eq!(
        memory.called("DescribeMonitoringSchedule"),
        at_ms(&[0, 300, 600, 900, 1_200, 1_500, 1_800])
    );
    assert_eq!(report.judged(), 7);
    assert_eq!(report.sweep.not_started, 3);
    assert_eq!(memory.called("PutEvaluations"), at_ms(&[2_100]));
    assert_eq!(memory.delivered().into_keys().collect::<Vec<_>>(), names(7));
    assert_eq!(took, ms(2_100));
    let error = report.outcome().unwrap_err().to_string();
    assert!(error.contains("3 listed schedule(s) unjudged"), "{error}");
    assert!(error.contains("everything judged was delivered"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn judging_still_running_at_abandon_is_given_up_and_its_schedule_named() {
    let (memory, report, took) = ten_within_four_seconds(ms(1_800)).await;
    // The second describe starts at 1.8 s and would end at 3.6 s: it is given up at 3 s.
    assert_eq!(
        memory.called("DescribeMonitoringSchedule"),
        at_ms(&[0, 1_800])
    );
    assert_eq!(report.judged(), 1);
    assert_eq!(report.unjudged.len(), 1);
    assert_eq!(report.unjudged[0].resource, "s-00001");
    assert_eq!(report.unjudged[0].reason, Reason::Deadline);
    assert_eq!(report.sweep.not_started, 8);
    assert_eq!(memory.called("PutEvaluations"), at_ms(&[3_000]));
    assert_eq!(memory.delivered().into_keys().collect::<Vec<_>>(), names(1));
    assert_eq!(took, ms(3_000));
}

/// The evaluations named undelivered because PutEvaluations gave no answer in time.
fn unanswered(report: &Report) -> Vec<&str> {
    report
        .undelivered
        .iter()
        .filter(|u| {
            u.reason
                .contains("gave no answer before the Lambda deadline")
        })
        .map(|u| u.resource_id.as_str())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_sweep_delivery_without_an_answer_at_the_end_is_named_undelivered() {
    let mut memory = embedded_schedules(3, |_| true);
    memory.latency.insert("PutEvaluations", HANG);
    let (handled, took) = timed(&memory, &periodic("{}"), &deadline(ms(4_000), ms(2_000))).await;
    let report = handled.report;
    assert_eq!(memory.called("PutEvaluations"), at_ms(&[0]));
    // Waited for until the end, 3.75 s, and not a moment longer.
    assert_eq!(took, ms(3_750));
    assert_eq!(report.judged(), 3);
    assert_eq!(report.undelivered.len(), 3);
    assert_eq!(unanswered(&report), names(3));
    let error = report.outcome().unwrap_err().to_string();
    assert!(
        error.contains("3 evaluation(s) were computed but not delivered"),
        "{error}"
    );
}

/// `Deadline::within(2 s, 1 s)`: judging stops at 1 s, reads are given up at 1.5 s, delivery
/// starts nothing at 1.75 s and waits for nothing at 1.875 s.
fn two_seconds() -> RunOptions {
    deadline(ms(2_000), ms(1_000))
}

const ABANDON: Duration = Duration::from_millis(1_500);

/// A call that would outlast any Lambda invocation.
const HANG: Duration = Duration::from_secs(60);

/// Handles `invocation` within [`two_seconds`]: what it reported, and how long it took.
async fn within_two_seconds(memory: &Memory, invocation: &Invocation) -> (Report, Duration) {
    let (handled, took) = timed(memory, invocation, &two_seconds()).await;
    (handled.report, took)
}

#[tokio::test(start_paused = true)]
async fn a_sweep_read_that_hangs_is_given_up_at_the_deadline_and_named() {
    for operation in [
        "GetComplianceDetailsByConfigRule",
        "ListDiscoveredResources",
        "ListMonitoringSchedules",
    ] {
        let mut memory = account().holding(vec![held("arn:schedule/deleted")]);
        memory.latency.insert(operation, HANG);
        let (report, took) = within_two_seconds(&memory, &periodic("{}")).await;
        assert_eq!(took, ABANDON, "{operation}");
        assert!(memory.delivered().is_empty(), "{operation}");
        assert_eq!(report.sweep.stale, 0, "{operation}");
        let error = report.outcome().unwrap_err().to_string();
        assert!(
            error.contains(&format!("given up at the Lambda deadline: {operation}")),
            "{error}"
        );
        assert!(error.contains("Raise the function's Timeout"), "{error}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_list_page_in_flight_when_judging_stops_is_given_up_and_what_was_left_named() {
    let mut memory = account();
    // The second page starts at 0.8 s, before judging stops at 1 s, and would end at 1.6 s.
    memory
        .latency
        .insert("ListMonitoringSchedules", Duration::from_millis(800));
    let (report, took) = within_two_seconds(&memory, &periodic("{}")).await;
    assert_eq!(took, ABANDON);
    assert_eq!(report.sweep.not_started, 3, "the first page's schedules");
    assert!(report.sweep.unlisted_pages);
    let error = report.outcome().unwrap_err().to_string();
    assert!(
        error.contains("3 listed schedule(s) unjudged and more pages of schedules not yet listed"),
        "{error}"
    );
    assert!(
        error.contains("given up at the Lambda deadline: ListMonitoringSchedules"),
        "{error}"
    );
}

/// An oversized change event for `name`, whose item the Config history does not hold.
fn oversized(name: &str, params: &str) -> Invocation {
    Invocation::from_value(json!({
        "invokingEvent": json!({
            "messageType": "OversizedConfigurationItemChangeNotification",
            "configurationItemSummary": {
                "resourceType": SCHEDULE_TYPE,
                "resourceId": format!("arn:schedule/{name}"),
                "resourceName": name,
                "configurationItemCaptureTime": "2026-11-28T10:00:00.000Z",
                "configurationItemStatus": "OK",
            },
            "notificationCreationTime": "2026-11-28T10:00:01.000Z",
        })
        .to_string(),
        "ruleParameters": params,
        "resultToken": "t",
    }))
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_change_read_that_hangs_is_given_up_at_the_deadline_and_its_resource_named() {
    for (operation, schedule, params) in [
        ("GetResourceConfigHistory", "a-embedded-on", "{}"),
        ("DescribeMonitoringSchedule", "a-embedded-on", "{}"),
        ("DescribeJobDefinition", "c-dq", "{}"),
        ("ListTags", "a-embedded-on", r#"{"ExemptTag":"exempt"}"#),
    ] {
        let mut memory = account();
        memory.latency.insert(operation, HANG);
        let (report, took) = within_two_seconds(&memory, &oversized(schedule, params)).await;
        assert_eq!(took, ABANDON, "{operation}");
        assert!(memory.delivered().is_empty(), "{operation}");
        assert_eq!(report.unjudged.len(), 1, "{operation}");
        assert_eq!(report.unjudged[0].resource, schedule, "{operation}");
        assert_eq!(report.unjudged[0].reason, Reason::Deadline, "{operation}");
    }
}

#[tokio::test(start_paused = true)]
async fn what_was_judged_before_the_deadline_is_delivered_and_the_rest_named() {
    let mut memory = account();
    // The four schedules whose summaries name their job definition need no describe.
    memory.latency.insert("DescribeMonitoringSchedule", HANG);
    let (report, took) =
        within_two_seconds(&memory, &periodic(r#"{"DescribeConcurrency":"3"}"#)).await;
    assert_eq!(took, ABANDON);
    let delivered = memory.delivered();
    assert_eq!(
        delivered.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "arn:schedule/c-dq",
            "arn:schedule/d-bias",
            "arn:schedule/e-bias-too",
            "arn:schedule/f-missing"
        ]
    );
    let mut unjudged: Vec<&str> = report
        .unjudged
        .iter()
        .map(|u| u.resource.as_str())
        .collect();
    unjudged.sort_unstable();
    assert_eq!(unjudged, ["a-embedded-on", "b-embedded-off", "g-nothing"]);
    assert!(report.unjudged.iter().all(|u| u.reason == Reason::Deadline));
}

#[tokio::test(start_paused = true)]
async fn a_change_delivery_without_an_answer_at_the_end_is_named_undelivered() {
    let mut memory = account();
    memory.latency.insert("PutEvaluations", HANG);
    let (report, took) = within_two_seconds(&memory, &oversized("a-embedded-on", "{}")).await;
    assert_eq!(memory.called("PutEvaluations"), at_ms(&[0]));
    assert_eq!(took, ms(1_875));
    assert_eq!(report.judged(), 1);
    assert_eq!(report.undelivered.len(), 1);
    assert_eq!(unanswered(&report), ["arn:schedule/a-embedded-on"]);
}

#[tokio::test(start_paused = true)]
async fn a_change_whose_evaluation_keeps_failing_is_named_at_the_last_delivery_moment() {
    let memory = account();
    *memory.failing_puts.lock().unwrap() = usize::MAX;
    let (report, took) = within_two_seconds(&memory, &oversized("a-embedded-on", "{}")).await;
    // Retried after 250 and 500 ms; the next, at 1.75 s, would start at the last moment.
    assert_eq!(memory.called("PutEvaluations"), at_ms(&[0, 250, 750]));
    assert_eq!(took, ms(750));
    assert_eq!(report.undelivered.len(), 1);
    assert_eq!(
        report.undelivered[0].reason,
        "PutEvaluations reported it in FailedEvaluations 3 time(s)"
    );
}

/// Twenty open schedules of forty, remediated after the sweep, each fix taking `fix`, within
/// `Deadline::within(5 s, 2 s)`: no fix starts after 3 s, none is waited for past 4 s.
async fn remediating_within_five_seconds(fix: Duration) -> (Memory, Report, Duration) {
    let mut memory = embedded_schedules(40, |i| i % 2 == 0);
    memory.latency.insert("UpdateMonitoringSchedule", fix);
    let (handled, took) = timed(
        &memory,
        &periodic(r#"{"Remediate":"true"}"#),
        &deadline(ms(5_000), ms(2_000)),
    )
    .await;
    (memory, handled.report, took)
}

fn open_schedules() -> BTreeSet<String> {
    (1..40).step_by(2).map(|i| format!("s-{i:05}")).collect()
}

#[tokio::test(start_paused = true)]
async fn remediation_after_the_sweep_starts_no_fix_after_stop_starting_and_names_what_it_left() {
    let (memory, report, took) = remediating_within_five_seconds(ms(300)).await;
    assert_eq!(
        memory.delivered().len(),
        40,
        "every verdict was delivered first"
    );
    assert_eq!(memory.called("PutEvaluations"), at_ms(&[0]));
    assert_eq!(
        memory.called("UpdateMonitoringSchedule"),
        at_ms(&[0, 300, 600, 900, 1_200, 1_500, 1_800, 2_100, 2_400, 2_700])
    );
    assert_eq!(took, ms(3_000));
    let fixes = &report.fixes;
    assert_eq!(fixes.remediated.len(), 10);
    assert_eq!(fixes.not_started.len(), 10);
    assert_eq!(*memory.fixed.lock().unwrap(), fixes.remediated);
    let both: BTreeSet<String> = fixes
        .remediated
        .iter()
        .chain(&fixes.not_started)
        .cloned()
        .collect();
    assert_eq!(both, open_schedules());
    let error = report.outcome().unwrap_err().to_string();
    assert!(
        error.contains("10 remediation(s) not started before the Lambda deadline"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_fix_still_running_at_abandon_is_given_up_and_named_and_no_other_started() {
    let (memory, report, took) = remediating_within_five_seconds(HANG).await;
    assert_eq!(memory.called("UpdateMonitoringSchedule"), at_ms(&[0]));
    assert_eq!(took, ms(4_000));
    let fixes = &report.fixes;
    assert!(fixes.remediated.is_empty());
    assert_eq!(fixes.failures.len(), 1);
    assert!(
        fixes.failures[0]
            .1
            .to_string()
            .contains("not finished before the Lambda deadline"),
        "{:?}",
        fixes.failures[0]
    );
    assert_eq!(fixes.not_started.len(), 19);
    assert!(memory.fixed.lock().unwrap().is_empty());
}
