//! The per-schedule cost of the verdict and its annotation, against the cost of parsing the
//! same configuration item's JSON (the baseline every evaluation pays anyway).

use criterion::{Criterion, criterion_group, criterion_main};
use monitoring_schedule_isolation::{JobDefinitionRef, MonitoringKind, Network, ScheduleView};
use monitoring_schedule_isolation::{
    JobDefinitionState, Judgement, Reading, judge, judge_job_definition,
};
use serde_json::Value;
use std::hint::black_box;

fn sample_schedule(name: &str) -> String {
    let seed: Value = serde_json::from_str(include_str!("../fake/sample-account.json")).unwrap();
    seed["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["MonitoringScheduleName"] == name)
        .unwrap()
        .to_string()
}

fn verdicts(c: &mut Criterion) {
    let embedded = sample_schedule("churn-data-quality-staging");
    let parsed: Value = serde_json::from_str(&embedded).unwrap();
    c.bench_function("baseline: parse a schedule's configuration JSON", |b| {
        b.iter(|| black_box(serde_json::from_str::<Value>(black_box(&embedded)).unwrap()))
    });
    c.bench_function(
        "view + verdict + annotation, embedded job definition",
        |b| {
            b.iter(|| {
                let view = ScheduleView::from_configuration(black_box(&parsed)).unwrap();
                black_box(judge(&view.job, Reading::Resolved))
            })
        },
    );
    let named: Value = serde_json::from_str(&sample_schedule("recsys-data-quality-open")).unwrap();
    let state = JobDefinitionState::Found(Some(Network {
        isolation: Some(false),
        vpc: true,
    }));
    c.bench_function("view + verdict + annotation, named job definition", |b| {
        b.iter(|| {
            let view = ScheduleView::from_configuration(black_box(&named)).unwrap();
            match judge(&view.job, Reading::Resolved) {
                Judgement::NeedsJobDefinition(reference) => {
                    black_box(judge_job_definition(&reference, black_box(&state)))
                }
                Judgement::Final(verdict) => black_box(verdict),
            }
        })
    });
    let reference = JobDefinitionRef {
        kind: MonitoringKind::ModelExplainability,
        name: "x".repeat(63),
    };
    c.bench_function("annotation only, longest names", |b| {
        b.iter(|| {
            black_box(judge_job_definition(
                black_box(&reference),
                &JobDefinitionState::Missing,
            ))
        })
    });
}

criterion_group!(benches, verdicts);
criterion_main!(benches);
