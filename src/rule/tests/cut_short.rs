use super::*;

/// An hour ago, in epoch seconds. The wall clock, read once, because `Held` ages results by
/// it; no test here waits on it (their time is tokio's paused clock).
fn an_hour_ago() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        - 3_600.0
}

#[tokio::test(start_paused = true)]
async fn a_cut_short_sweep_restates_unchanged_results_only_as_time_allows_and_never_as_undelivered()
{
    let memory = embedded_schedules(3_000, |_| true);
    // What Config holds: this very verdict for each, an hour old, but for every hundredth
    // schedule, which was NON_COMPLIANT and is now COMPLIANT.
    run(&memory, &periodic("{}"), &RunOptions::default()).await;
    let changed: BTreeSet<String> = (0..3_000)
        .step_by(100)
        .map(|i| format!("arn:schedule/s-{i:05}"))
        .collect();
    let delivered = std::mem::take(&mut *memory.delivered.lock().unwrap());
    *memory.held.lock().unwrap() = delivered
        .into_iter()
        .map(|e| HeldResult {
            compliance: if changed.contains(&e.compliance_resource_id) {
                NonCompliant
            } else {
                e.compliance_type
            },
            resource_type: e.compliance_resource_type,
            resource_id: e.compliance_resource_id,
            annotation: e.annotation,
            recorded_at: an_hour_ago(),
        })
        .collect();
    let mut memory = memory;
    memory.latency.insert("DescribeMonitoringSchedule", ms(1));
    memory.latency.insert("PutEvaluations", ms(200));
    let mut options = deadline(ms(4_000), ms(2_000));
    options.keep_rows = true;
    let calls_before = memory.called("PutEvaluations").len();
    let handled = run(
        &memory,
        &periodic(r#"{"DescribeConcurrency":"1"}"#),
        &options,
    )
    .await;
    let report = &handled.report;
    // One describe a millisecond until judging stops at 2 s: the first 2,000, of which 20
    // changed. Those go first, at 2 s; the 1,980 unchanged follow, a hundred a call, every
    // 200 ms, until the last call that may start before 3.5 s.
    assert_eq!(report.judged(), 2_000);
    assert_eq!(report.sweep.not_started, 1_000);
    assert_eq!(report.unchanged, 1_980);
    assert_eq!(report.restated, 700);
    assert_eq!(report.not_restated, 1_280);
    assert_eq!(report.delivered, 20 + 700);
    let puts: Vec<Duration> = memory.called("PutEvaluations")[calls_before..]
        .iter()
        .map(|at| *at - memory.called("PutEvaluations")[calls_before])
        .collect();
    assert_eq!(
        puts,
        at_ms(&[0, 200, 400, 600, 800, 1_000, 1_200, 1_400]),
        "the changed verdicts, then seven calls of re-statements"
    );
    let error = report.outcome().unwrap_err().to_string();
    assert!(!error.contains("computed but not delivered"), "{error}");
    assert!(report.undelivered.is_empty(), "{:?}", report.undelivered);
    let emf: serde_json::Value = serde_json::from_str(&report.emf("rule", "f")).unwrap();
    assert_eq!(emf["Undelivered"], 0);
    // Every changed verdict that was judged reached Config.
    let delivered = memory.delivered();
    let judged_changed: Vec<&Row> = handled
        .rows
        .iter()
        .filter(|row| changed.contains(&row.evaluation.compliance_resource_id))
        .collect();
    assert_eq!(judged_changed.len(), 20);
    for row in judged_changed {
        assert_eq!(
            delivered.get(&row.evaluation.compliance_resource_id),
            Some(&Compliant)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn sweeps_cut_short_by_the_deadline_reach_every_schedule_in_turn() {
    // A hundred schedules that each take a 50 ms describe, two at a time: forty fit before
    // judging stops at 1 s in `Deadline::within(3 s, 2 s)`.
    let mut memory = embedded_schedules(100, |i| i % 3 == 0);
    // Config holds a result for every schedule, all as old as each other: without an order by
    // age, and without re-stating what a cut-short run judged unchanged, every run would judge
    // the same first forty.
    run(&memory, &periodic("{}"), &RunOptions::default()).await;
    memory.latency.insert("DescribeMonitoringSchedule", ms(50));
    let mut judged: Vec<BTreeSet<usize>> = Vec::new();
    for _ in 0..3 {
        let mut options = deadline(ms(3_000), ms(2_000));
        options.keep_rows = true;
        let handled = run(
            &memory,
            &periodic(r#"{"DescribeConcurrency":"2"}"#),
            &options,
        )
        .await;
        let error = handled.report.outcome().unwrap_err().to_string();
        assert!(
            error.contains("stopped before the Lambda deadline"),
            "{error}"
        );
        assert_eq!(handled.report.sweep.not_started, 60);
        assert_eq!(handled.report.restated, 40, "what it judged, re-stated");
        judged.push(
            handled
                .rows
                .iter()
                .map(|row| row.name.as_deref().unwrap()[2..].parse().unwrap())
                .collect(),
        );
    }
    // Never judged (none), then the oldest result first: the first run takes the first forty
    // in list order, the second the next forty, the third the last twenty and then the
    // oldest of the first run's.
    assert_eq!(judged[0], (0..40).collect());
    assert_eq!(judged[1], (40..80).collect());
    assert_eq!(judged[2], (80..100).chain(0..20).collect());
    let all: BTreeSet<&usize> = judged.iter().flatten().collect();
    assert_eq!(all.len(), 100, "three runs judged every schedule");
}
