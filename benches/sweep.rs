//! Sweep, start-up and size benchmarks of the shipped binary against the local fake.
//!
//! `cargo bench --bench sweep` (or `make bench`). Settings by environment:
//! `BENCH_SIZES` (default 100,1000,10000), `BENCH_LATENCY_MS` (20), `BENCH_THROTTLED` (size of
//! the 30%-throttling run, default 10000, 0 to skip), `BENCH_PUSHBACK` (size of the push-back,
//! warm-process and cost runs, default 1000, 0 to skip), `BENCH_IDLE_S` (the warm process's
//! idle gap, default 10), `BENCH_STARTS` (20).
//!
//! Every figure comes with its baseline from the same run: wall time against the lower bound
//! `calls x latency / concurrency`, calls against the minimum the APIs allow, a sweep under
//! throttling against the same sweep without, start-up against starting `/bin/true`. A sweep
//! still running at the Lambda timeout (900 s) is stopped and shown as such.

#[path = "../tests/wire/support/mod.rs"]
mod support;

use fake_aws::FakeAws;
use fake_aws::faults::Faults;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const CONCURRENCY: usize = 8;
/// The longest a Lambda invocation may run: a sweep still running then is stopped.
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(900);

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

struct Measured {
    wall: Duration,
    max_rss_kb: i64,
    exit: i32,
}

/// The high-water mark of a running process's resident set, from /proc.
fn high_water_kb(pid: u32) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the binary to completion (or to the Lambda timeout, exit -1), watching its peak RSS
/// (`VmHWM`) while it runs. `wait4`'s `ru_maxrss` would count the pages the child shared with
/// this (large) process before exec.
fn measure(mut command: Command, stdin: &[u8]) -> Measured {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = high_water_kb(child.id()) {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() >= LAMBDA_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Measured {
        wall: started.elapsed(),
        max_rss_kb: peak,
        exit: status.unwrap_or(-1),
    }
}

fn binary(fake: &FakeAws, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .args(["evaluate", "--event", "-"])
        .env_clear()
        .envs(aws_env(fake));
    command.envs(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    command
}

/// The fewest calls a first sweep of this account can make, and how many of them must follow
/// one another: one page of the results Config holds (none yet), then list pages beside
/// discovery pages, then a describe of each schedule whose summary names no job definition and
/// one of each distinct (type, name) named, with PutEvaluations batches beside them.
struct Minimum {
    calls: usize,
    /// Calls that cannot overlap: the held page, then the longer of the two page runs.
    sequential: usize,
    /// Calls made `CONCURRENCY` at a time.
    parallel: usize,
}

fn minimum_calls(seed: &fake_aws::seed::Seed) -> Minimum {
    let schedules = seed.account.schedules.len();
    let named: BTreeSet<(String, String)> = seed
        .account
        .schedules
        .iter()
        .filter_map(|s| {
            let config = &s["MonitoringScheduleConfig"];
            Some((
                config["MonitoringType"].as_str()?.to_owned(),
                config["MonitoringJobDefinitionName"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let naming = seed
        .account
        .schedules
        .iter()
        .filter(|s| s["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"].is_string())
        .count();
    let pages = schedules.div_ceil(100);
    let describes = schedules - naming + named.len();
    Minimum {
        calls: 1 + pages + pages + describes + pages,
        sequential: 1 + pages,
        parallel: describes,
    }
}

fn check_delivery(
    fake: &FakeAws,
    expected: &std::collections::BTreeMap<String, &str>,
) -> (usize, usize, usize) {
    let delivered = delivered_by_id(fake);
    let duplicated = delivered.values().filter(|e| e.len() > 1).count();
    let wrong = delivered
        .iter()
        .filter(|(id, e)| e[0]["ComplianceType"] != expected[*id])
        .count();
    let lost = expected.len() - delivered.len();
    (lost, duplicated, wrong)
}

/// One sweep of a synthetic account of `size` under `faults`: wall time, attempts, throttled
/// attempts, the busiest operation's calls, the most calls in flight of one operation, and
/// lost / duplicated / wrong.
struct Pushed {
    wall: Duration,
    attempts: usize,
    throttled: usize,
    busiest: (String, usize),
    in_flight: usize,
    exactness: (usize, usize, usize),
    exit: i32,
}

fn push_back(size: usize, faults: Faults) -> Pushed {
    let (seed, expected) = synthetic_account(size);
    let fake = start(seed);
    fake.set_faults(faults);
    let measured = measure(
        binary(&fake, &[]),
        periodic_event("{}", "token").to_string().as_bytes(),
    );
    let calls = fake.calls();
    let throttled = calls
        .iter()
        .filter(|c| c.injected == fake_aws::faults::Injected::Throttle)
        .count();
    let busiest = served(&fake)
        .into_iter()
        .max_by_key(|(_, count)| *count)
        .unwrap_or_default();
    let in_flight = fake.most_in_flight("DescribeMonitoringSchedule");
    Pushed {
        wall: measured.wall,
        attempts: calls.len(),
        throttled,
        busiest,
        in_flight,
        exactness: check_delivery(&fake, &expected),
        exit: measured.exit,
    }
}

/// One row of a push-back table.
fn pushed_row(name: &str, pushed: &Pushed, against: &str, ratio: f64) -> String {
    let (lost, duplicated, wrong) = pushed.exactness;
    let stopped = pushed.exit == -1;
    let (wall, ratio) = if stopped {
        let wall = format!("> {} s (stopped)", LAMBDA_TIMEOUT.as_secs());
        (wall, format!("> {ratio:.0}x"))
    } else {
        (
            format!("{:.2} s", pushed.wall.as_secs_f64()),
            format!("{ratio:.2}x"),
        )
    };
    format!(
        "| {name} | {wall} | {against} | {ratio} | {} | {} ({:.1}%) | {} | {} | {lost} / {duplicated} / {wrong} |",
        pushed.attempts,
        pushed.throttled,
        100.0 * pushed.throttled as f64 / pushed.attempts.max(1) as f64,
        pushed.in_flight,
        pushed.exit,
    )
}

const PUSHED_HEADER: [&str; 2] = [
    "| sweep | wall time | against | ratio | attempts | throttled | most in flight | exit | lost / duplicated / wrong |",
    "|---|---:|---|---:|---:|---:|---:|---:|---|",
];

fn random_throttling(latency_ms: u64, share: f64) -> Faults {
    Faults {
        latency_ms,
        throttle: share,
        seed: (share * 100.0) as u64,
        ..Faults::default()
    }
}

/// The sweep when AWS pushes back, beside the same sweep without faults, in one run. At 5 ms a
/// call: 20% of calls throttled at random (whatever the rate: others sharing the account's
/// limits), and a token bucket of 20 calls a second per operation with bursts of 10 (as
/// SageMaker throttles). At 20 ms a call: 55% and 60% throttled at random.
fn pushback_section(size: usize, line: &mut impl FnMut(String)) {
    let quiet = |latency_ms| {
        push_back(
            size,
            Faults {
                latency_ms,
                ..Faults::default()
            },
        )
    };
    let latency_ms = 5;
    let baseline = quiet(latency_ms);
    let random = push_back(size, random_throttling(latency_ms, 0.2));
    let bucket = push_back(
        size,
        Faults {
            latency_ms,
            rate_limit_tps: Some(20.0),
            rate_limit_burst: Some(10.0),
            ..Faults::default()
        },
    );
    let bound = bucket.busiest.1 as f64 / 20.0;
    line(format!(
        "\nWhen AWS pushes back, {size} schedules, {latency_ms} ms per call, concurrency {CONCURRENCY}, default pacing (one run):\n"
    ));
    for text in PUSHED_HEADER {
        line(text.into());
    }
    let against_baseline = "the sweep without faults";
    let ratio = |pushed: &Pushed, baseline: &Pushed| {
        pushed.wall.as_secs_f64() / baseline.wall.as_secs_f64()
    };
    line(pushed_row("no faults", &baseline, "itself", 1.0));
    line(pushed_row(
        "20% throttled at random",
        &random,
        against_baseline,
        ratio(&random, &baseline),
    ));
    line(pushed_row(
        "token bucket, 20/s per operation, burst 10",
        &bucket,
        &format!(
            "the bound: {} {} calls / 20 per second = {bound:.1} s",
            bucket.busiest.1, bucket.busiest.0
        ),
        bucket.wall.as_secs_f64() / bound,
    ));

    let latency_ms = 20;
    let baseline = quiet(latency_ms);
    line(format!(
        "\n{size} schedules, {latency_ms} ms per call, most calls throttled at random:\n"
    ));
    for text in PUSHED_HEADER {
        line(text.into());
    }
    line(pushed_row("no faults", &baseline, "itself", 1.0));
    for share in [0.55, 0.6] {
        let random = push_back(size, random_throttling(latency_ms, share));
        line(pushed_row(
            &format!("{:.0}% throttled at random", share * 100.0),
            &random,
            against_baseline,
            ratio(&random, &baseline),
        ));
    }
}

/// One sweep invocation of a running function under the Lambda Runtime API: wall time and
/// the counts it answered.
fn invoke_sweep(fake: &FakeAws, event: &Value) -> (Duration, Value) {
    let started = Instant::now();
    let answer = fake
        .invoke(event, LAMBDA_TIMEOUT, LAMBDA_TIMEOUT)
        .unwrap_or_else(|error| error);
    (started.elapsed(), answer)
}

/// A warm function's second sweep after an idle gap, the first call of its listing throttled
/// once, beside a fresh process's sweep of the same account with the same throttle: the
/// pacing one process learned must not slow the next sweep.
fn warm_section(size: usize, idle: Duration, line: &mut impl FnMut(String)) {
    let latency_ms = 5;
    let (seed, expected) = synthetic_account(size);
    let fake = start(seed);
    fake.set_faults(Faults {
        latency_ms,
        ..Faults::default()
    });
    let mut event = periodic_event("{}", "fake-token:bench-warm");
    event["configRuleName"] = serde_json::json!("bench-warm");
    let counts = |answer: &Value| {
        let compliant = expected.values().filter(|v| **v == "COMPLIANT").count();
        answer["compliant"] == compliant && answer["nonCompliant"] == expected.len() - compliant
    };
    let one_throttle = || {
        fake.set_faults(Faults {
            latency_ms,
            throttle_next: 1,
            operations: vec!["ListMonitoringSchedules".into()],
            ..Faults::default()
        })
    };
    let mut warm = lambda_command(&fake).spawn().unwrap();
    let (first, first_answer) = invoke_sweep(&fake, &event);
    std::thread::sleep(idle);
    one_throttle();
    let (second, second_answer) = invoke_sweep(&fake, &event);
    let _ = warm.kill();
    let _ = warm.wait();
    let mut fresh = lambda_command(&fake).spawn().unwrap();
    one_throttle();
    let (fresh_sweep, fresh_answer) = invoke_sweep(&fake, &event);
    let _ = fresh.kill();
    let _ = fresh.wait();
    let (lost, duplicated, wrong) = check_delivery(&fake, &expected);
    let exact = [&first_answer, &second_answer, &fresh_answer]
        .iter()
        .all(|answer| counts(answer));
    line(format!(
        "\nA warm process, {size} schedules, {latency_ms} ms per call (Lambda Runtime API, one run): a first sweep {:.2} s; after {} s idle, a second sweep whose first ListMonitoringSchedules call is throttled once: {:.2} s, against a fresh process's sweep of the same account with the same throttle: {:.2} s ({:.2}x); every sweep's counts exact: {exact}; evaluations lost / duplicated / wrong: {lost} / {duplicated} / {wrong}",
        first.as_secs_f64(),
        idle.as_secs(),
        second.as_secs_f64(),
        fresh_sweep.as_secs_f64(),
        second.as_secs_f64() / fresh_sweep.as_secs_f64(),
    ));
}

/// What successive sweeps of one account report, and so what Config bills: a first sweep, a
/// second after ten schedules changed, a third with nothing changed.
fn cost_section(size: usize, line: &mut impl FnMut(String)) {
    let (seed, _) = synthetic_account(size);
    let fake = start(seed);
    let mut event = periodic_event("{}", "fake-token:bench");
    event["configRuleName"] = serde_json::json!("bench");
    let sweep = || {
        let before = fake.evaluations().len();
        let puts_before = fake.puts().len();
        let measured = measure(binary(&fake, &[]), event.to_string().as_bytes());
        assert_eq!(measured.exit, 0);
        (
            fake.evaluations().len() - before,
            fake.puts().len() - puts_before,
        )
    };
    let first = sweep();
    for i in (0..40).step_by(4) {
        let name = format!("schedule-{i:05}");
        fake.with_state(|state| {
            let schedule = state.account(ACCOUNT).schedules.get_mut(&name).unwrap();
            schedule["MonitoringScheduleConfig"]["MonitoringJobDefinition"]["NetworkConfig"]
                ["EnableNetworkIsolation"] = serde_json::json!(false);
        });
    }
    let second = sweep();
    let third = sweep();
    line(format!(
        "\nWhat Config records (and bills), {size} schedules, one run:\n"
    ));
    line("| sweep | evaluations reported | PutEvaluations calls |".into());
    line("|---|---:|---:|".into());
    line(format!(
        "| first (nothing held) | {} | {} |",
        first.0, first.1
    ));
    line(format!(
        "| second, 10 schedules changed | {} | {} |",
        second.0, second.1
    ));
    line(format!(
        "| third, nothing changed | {} | {} |",
        third.0, third.1
    ));
    let monthly_before = size as f64 * 30.0;
    let monthly_now = size as f64 * 30.0 / 30.0 + second.0 as f64 * 30.0;
    line(format!(
        "\nDaily sweeps for 30 days: {monthly_before:.0} evaluations a month when every sweep reports everything (${:.2} at $0.001 each), about {monthly_now:.0} when only changes and the monthly refresh are (${:.2}), taking every day as busy as the second sweep.",
        monthly_before * 0.001,
        monthly_now * 0.001
    ));
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes its settings from the environment.
    let sizes = env_list("BENCH_SIZES", "100,1000,10000");
    let latency_ms = env_list("BENCH_LATENCY_MS", "20")
        .first()
        .copied()
        .unwrap_or(20) as u64;
    let throttled = env_list("BENCH_THROTTLED", "10000")
        .first()
        .copied()
        .unwrap_or(0);
    let pushback = env_list("BENCH_PUSHBACK", "1000")
        .first()
        .copied()
        .unwrap_or(0);
    let idle = env_list("BENCH_IDLE_S", "10")
        .first()
        .copied()
        .unwrap_or(10) as u64;
    let starts = env_list("BENCH_STARTS", "20")
        .first()
        .copied()
        .unwrap_or(20);
    let mut report = String::new();
    let mut line = |text: String| {
        println!("{text}");
        report.push_str(&text);
        report.push('\n');
    };

    line(format!(
        "First sweep against the fake, {latency_ms} ms per call, default concurrency {CONCURRENCY}, default pacing:\n"
    ));
    line("| schedules | wall time | lower bound | ratio | API calls | minimum | peak RSS | lost / duplicated / wrong |".into());
    line("|---:|---:|---:|---:|---:|---:|---:|---|".into());
    for &size in &sizes {
        let (seed, expected) = synthetic_account(size);
        let minimum = minimum_calls(&seed);
        let fake = start(seed);
        fake.set_faults(Faults {
            latency_ms,
            ..Faults::default()
        });
        let bound = Duration::from_millis(
            (minimum.sequential as u64 * latency_ms)
                + (minimum.parallel as u64 * latency_ms).div_ceil(CONCURRENCY as u64),
        );
        let minimum = minimum.calls;
        let measured = measure(
            binary(&fake, &[]),
            periodic_event("{}", "token").to_string().as_bytes(),
        );
        assert_eq!(measured.exit, 0);
        let calls = fake.calls().len();
        let (lost, duplicated, wrong) = check_delivery(&fake, &expected);
        line(format!(
            "| {size} | {:.2} s | {:.2} s | {:.2}x | {calls} | {minimum} | {:.1} MB | {lost} / {duplicated} / {wrong} |",
            measured.wall.as_secs_f64(),
            bound.as_secs_f64(),
            measured.wall.as_secs_f64() / bound.as_secs_f64(),
            measured.max_rss_kb as f64 / 1024.0
        ));
    }

    if throttled > 0 {
        let (seed, expected) = synthetic_account(throttled);
        let minimum = minimum_calls(&seed).calls;
        let fake = start(seed);
        fake.set_faults(Faults {
            throttle: 0.3,
            seed: 30,
            ..Faults::default()
        });
        let measured = measure(
            binary(&fake, &[]),
            periodic_event("{}", "token").to_string().as_bytes(),
        );
        let calls = fake.calls();
        let throttles = calls
            .iter()
            .filter(|c| c.injected == fake_aws::faults::Injected::Throttle)
            .count();
        let (lost, duplicated, wrong) = check_delivery(&fake, &expected);
        line(format!(
            "\n30% of calls throttled, {throttled} schedules (default pacing, no added latency): exit {}, {:.1} s, {} calls ({throttles} throttled, minimum {minimum}), peak RSS {:.1} MB, lost {lost}, duplicated {duplicated}, wrong {wrong}",
            measured.exit,
            measured.wall.as_secs_f64(),
            calls.len(),
            measured.max_rss_kb as f64 / 1024.0
        ));
    }

    if pushback > 0 {
        pushback_section(pushback, &mut line);
        warm_section(pushback, Duration::from_secs(idle), &mut line);
        cost_section(pushback, &mut line);
    }

    // Start-up: process start to the first event handled, under the Lambda Runtime API.
    let fake = start(sample_seed());
    let event: Value = event_file("change-embedded-isolated.json");
    let mut handled = Vec::new();
    let mut spawn_only = Vec::new();
    for _ in 0..starts {
        let started = Instant::now();
        let mut child = lambda_command(&fake).spawn().unwrap();
        fake.invoke(&event, Duration::from_secs(30), Duration::from_secs(30))
            .expect("handled");
        handled.push(started.elapsed());
        let _ = child.kill();
        let _ = child.wait();

        let started = Instant::now();
        Command::new("/bin/true").status().unwrap();
        spawn_only.push(started.elapsed());
    }
    handled.sort();
    spawn_only.sort();
    let median = |v: &[Duration]| v[v.len() / 2].as_secs_f64() * 1000.0;
    line(format!(
        "\nStart-up (process start to first change event handled, {starts} runs): median {:.1} ms, worst {:.1} ms; baseline: starting /bin/true, median {:.2} ms ({:.0}x)",
        median(&handled),
        handled.last().unwrap().as_secs_f64() * 1000.0,
        median(&spawn_only),
        median(&handled) / median(&spawn_only)
    ));

    // `make build` leaves only the zip current (cargo lambda's zip step replaces the folder's zip).
    let zip = root().join("target/lambda/monitoring-schedule-isolation/bootstrap.zip");
    match std::fs::metadata(&zip) {
        Ok(zipped) => line(format!(
            "\nLambda bootstrap (arm64, `make build`): zipped {:.2} MB",
            zipped.len() as f64 / 1e6
        )),
        Err(_) => line(
            "\nLambda bootstrap: not built (run `make build` first to have its size here)".into(),
        ),
    }
    let out = root().join("target/bench-sweep.md");
    let _ = std::fs::write(&out, report);
    println!("\n(written to {})", out.display());
}
