//! `SecurityHub=annotate|suppress` over the wire: the real binary and the real AWS SDK against
//! the fake's Security Hub (restJson1 GetFindings and BatchUpdateFindings, SigV4 for
//! `securityhub`), for every rule of the reconciliation: what changes, what is never touched,
//! reversal, idempotence, batches and unprocessed findings, throttling, dry runs, and the notes
//! for Security Hub not enabled and no findings.

use crate::support::{
    ACCOUNT, Run, assert_inert, evaluate, injected, periodic_event, sample_seed, schedule_arn,
    start, synthetic_account,
};
use fake_aws::FakeAws;
use fake_aws::faults::{Faults, Injected, Unprocessed};
use fake_aws::seed::Seed;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The `Note.UpdatedBy` the rule signs with.
const MARKER: &str = "sagemaker-monitoring-schedule-isolation";

fn sweep_with(fake: &FakeAws, mode: &str, dry_run: bool) -> Run {
    let params = json!({ "SecurityHub": mode }).to_string();
    evaluate(fake, &periodic_event(&params, "token"), dry_run, &[])
}

/// Every finding, by id, as the fake holds it.
fn findings(fake: &FakeAws) -> BTreeMap<String, Value> {
    fake.with_state(|state| state.findings())
        .into_iter()
        .map(|f| (f["Id"].as_str().unwrap().to_owned(), f))
        .collect()
}

fn calls(fake: &FakeAws, operation: &str) -> usize {
    fake.calls()
        .iter()
        .filter(|c| c.operation == operation)
        .count()
}

/// The rule's verdict on each schedule, by ARN (the sample account's Config ids are ARNs).
fn verdicts(fake: &FakeAws) -> BTreeMap<String, String> {
    fake.evaluations()
        .iter()
        .map(|r| {
            let e = &r.evaluation;
            (
                e["ComplianceResourceId"].as_str().unwrap().to_owned(),
                e["ComplianceType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn is_ours(finding: &Value) -> bool {
    finding["Note"]["UpdatedBy"] == MARKER
}

/// What the issue says the rule may correct: ACTIVE SageMaker.14 findings of this account and
/// region that FAILED a schedule the rule judged COMPLIANT, with no one else's note or workflow.
fn correctable(finding: &Value, verdicts: &BTreeMap<String, String>) -> bool {
    let schedule = finding["Resources"][0]["Id"].as_str().unwrap();
    finding["Compliance"]["SecurityControlId"] == "SageMaker.14"
        && finding["RecordState"] == "ACTIVE"
        && finding["AwsAccountId"] == ACCOUNT
        && finding["Region"] == "us-east-1"
        && finding["Compliance"]["Status"] == "FAILED"
        && finding.get("Note").is_none()
        && finding["Workflow"]["Status"] == "NEW"
        && verdicts.get(schedule).map(String::as_str) == Some("COMPLIANT")
}

/// A synthetic account of `count` schedules, each with a FAILED SageMaker.14 finding, and the
/// verdict each is expected to get, by schedule ARN.
fn failed_everywhere(count: usize) -> (Seed, BTreeMap<String, &'static str>) {
    let (mut seed, expected) = synthetic_account(count);
    let by_arn: BTreeMap<String, &str> = expected
        .iter()
        .map(|(id, verdict)| (schedule_arn(crate::support::name_of(id)), *verdict))
        .collect();
    seed.account.findings = by_arn
        .keys()
        .map(|arn| json!({"Resources": [{"Id": arn}], "Compliance": {"Status": "FAILED"}}))
        .collect();
    (seed, by_arn)
}

#[test]
fn suppress_sets_every_false_failure_right_and_touches_nothing_else() {
    let fake = start(sample_seed());
    let before = findings(&fake);
    let run = sweep_with(&fake, "suppress", false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let verdicts = verdicts(&fake);
    let after = findings(&fake);
    let mut corrected = Vec::new();
    for (id, was) in &before {
        let now = &after[id];
        if correctable(was, &verdicts) {
            assert_eq!(now["Workflow"]["Status"], "SUPPRESSED", "{id}");
            assert!(is_ours(now), "{id}: {}", now["Note"]);
            let text = now["Note"]["Text"].as_str().unwrap();
            assert!(
                text.contains("NetworkConfig.EnableNetworkIsolation=true")
                    && text.contains(
                        "sagemaker-monitoring-schedule-isolation at 2026-11-28T10:00:00Z"
                    ),
                "{text}"
            );
            corrected.push(was["Resources"][0]["Id"].as_str().unwrap().to_owned());
        } else {
            // The decoys: other controls, ARCHIVED, another region, PASSED, the control right
            // already, and one someone else suppressed: exactly as they were.
            assert_eq!(now, was, "{id} must not be touched");
        }
    }
    // The sample account's named, isolated schedules (the control's false failures).
    for name in ["fraud-model-bias-weekly", "recsys-model-quality-isolated"] {
        assert!(
            corrected.contains(&schedule_arn(name)),
            "{name}: {corrected:?}"
        );
    }
    assert!(
        !corrected.contains(&schedule_arn("recsys-explainability-isolated")),
        "someone else's suppression is theirs"
    );
    assert!(
        run.stderr.contains(&format!(
            "Security Hub (suppress): 0 annotated, {} suppressed, 0 reopened",
            corrected.len()
        )),
        "{}",
        run.stderr
    );

    // Idempotent: nothing changed, so nothing is written again.
    let updates = calls(&fake, "BatchUpdateFindings");
    let reads = calls(&fake, "GetFindings");
    let again = sweep_with(&fake, "suppress", false);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(calls(&fake, "GetFindings"), reads + 1);
    assert_eq!(
        calls(&fake, "BatchUpdateFindings"),
        updates,
        "no write the second time"
    );
    assert_eq!(findings(&fake), after);
    assert!(
        again.stderr.contains(&format!(
            "0 suppressed, 0 reopened, 0 withdrawn, {} already right, 0 unprocessed",
            corrected.len()
        )),
        "{}",
        again.stderr
    );
}

#[test]
fn annotate_notes_the_evidence_and_leaves_the_workflow_alone() {
    let fake = start(sample_seed());
    let before = findings(&fake);
    let run = sweep_with(&fake, "annotate", false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let verdicts = verdicts(&fake);
    let after = findings(&fake);
    let mut annotated = 0;
    for (id, was) in &before {
        let now = &after[id];
        if correctable(was, &verdicts) {
            annotated += 1;
            assert!(is_ours(now), "{id}");
            assert_eq!(now["Workflow"], was["Workflow"], "{id}: no workflow change");
        } else {
            assert_eq!(now, was, "{id}");
        }
    }
    assert!(annotated >= 2, "{annotated}");
    assert!(
        run.stderr.contains(&format!(
            "Security Hub (annotate): {annotated} annotated, 0 suppressed"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn a_suppression_is_reversed_when_its_evidence_is_gone() {
    let (seed, expected) = failed_everywhere(8);
    let fake = start(seed);
    assert_eq!(sweep_with(&fake, "suppress", false).code, 0);
    // schedule-00002 names DataQuality jd-02, isolated: COMPLIANT, so suppressed.
    let arn = schedule_arn("schedule-00002");
    assert_eq!(expected[&arn], "COMPLIANT");
    let suppressed = |fake: &FakeAws| {
        findings(fake)
            .into_values()
            .find(|f| f["Resources"][0]["Id"] == arn.as_str())
            .unwrap()
    };
    assert_eq!(suppressed(&fake)["Workflow"]["Status"], "SUPPRESSED");
    // Its job definition loses network isolation.
    fake.with_state(|state| {
        let definition = state
            .account(ACCOUNT)
            .job_definitions
            .iter_mut()
            .find(|((kind, name), _)| kind.contains("DataQuality") && name == "jd-02")
            .map(|(_, definition)| definition)
            .expect("DataQuality jd-02");
        definition["NetworkConfig"]["EnableNetworkIsolation"] = json!(false);
    });
    let run = sweep_with(&fake, "suppress", false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let reopened = suppressed(&fake);
    assert_eq!(reopened["Workflow"]["Status"], "NOTIFIED", "{reopened}");
    assert!(is_ours(&reopened));
    assert!(
        reopened["Note"]["Text"]
            .as_str()
            .unwrap()
            .contains("NON_COMPLIANT"),
        "{}",
        reopened["Note"]
    );
    assert!(run.stderr.contains("1 reopened"), "{}", run.stderr);
}

wire_test!(
    a_dry_run_and_an_audit_write_nothing_and_print_every_change,
    sample_seed(),
    |fake, bin| {
        let before = findings(&fake);
        let dry = sweep_with(&fake, "suppress", true);
        assert_eq!(dry.code, 0, "{}", dry.stderr);
        assert_eq!(calls(&fake, "BatchUpdateFindings"), 0);
        assert_eq!(calls(&fake, "PutEvaluations"), 0);
        assert_eq!(findings(&fake), before);
        let arn = schedule_arn("fraud-model-bias-weekly");
        let (id, _) = before
            .iter()
            .find(|(_, f)| {
                f["Resources"][0]["Id"] == arn.as_str()
                    && f["RecordState"] == "ACTIVE"
                    && f["Region"] == "us-east-1"
            })
            .unwrap();
        let line = dry
            .stderr
            .lines()
            .find(|line| line.contains(id.as_str()))
            .unwrap_or_else(|| panic!("{id} not in {}", dry.stderr));
        assert!(
        line.starts_with(&format!(
            "Security Hub: would suppress finding {id} for schedule fraud-model-bias-weekly: NEW -> SUPPRESSED; note: Network isolation is on"
        )),
        "{line}"
    );
        assert_inert(&dry.stderr, "stderr");
        let planned = dry.stderr.matches("Security Hub: would ").count();
        assert!(planned >= 2, "{}", dry.stderr);

        let audit = bin.run(&["audit", "--security-hub"]);
        assert_eq!(audit.code, 3, "NON_COMPLIANT found: {}", audit.stderr);
        assert_eq!(calls(&fake, "BatchUpdateFindings"), 0);
        assert_eq!(findings(&fake), before);
        assert_eq!(
            audit.stderr.matches("Security Hub: would suppress").count(),
            planned,
            "{}",
            audit.stderr
        );
        let annotate = bin.run(&["audit", "--security-hub=annotate"]);
        assert_eq!(
            annotate
                .stderr
                .matches("Security Hub: would annotate")
                .count(),
            planned,
            "{}",
            annotate.stderr
        );
        assert_eq!(calls(&fake, "BatchUpdateFindings"), 0);
    }
);

#[test]
fn batches_hold_at_most_a_hundred_and_unprocessed_findings_are_retried_then_named() {
    let (seed, expected) = failed_everywhere(600);
    let compliant = expected.values().filter(|v| **v == "COMPLIANT").count();
    let fake = start(seed);
    let ids: Vec<(String, String)> = findings(&fake)
        .into_iter()
        .map(|(id, f)| (f["Resources"][0]["Id"].as_str().unwrap().to_owned(), id))
        .collect();
    let of = |name: &str| {
        ids.iter()
            .find(|(arn, _)| *arn == schedule_arn(name))
            .map(|(_, id)| id.clone())
            .unwrap()
    };
    // schedule-00000 (embedded, isolated) and schedule-00004: COMPLIANT.
    let (retried, gone) = (of("schedule-00000"), of("schedule-00004"));
    fake.set_faults(Faults {
        unprocessed: vec![
            Unprocessed {
                finding: retried.clone(),
                code: "ConcurrentUpdateError".into(),
                times: 1,
            },
            Unprocessed {
                finding: gone.clone(),
                code: "FindingNotFound".into(),
                times: 100,
            },
        ],
        ..Faults::default()
    });
    let run = sweep_with(&fake, "suppress", false);
    // The fake refuses a request of more than 100 identifiers: every one was accepted.
    assert!(compliant > 100, "{compliant}");
    assert!(calls(&fake, "BatchUpdateFindings") >= compliant.div_ceil(100));
    let after = findings(&fake);
    let suppressed = after
        .values()
        .filter(|f| f["Workflow"]["Status"] == "SUPPRESSED")
        .count();
    assert_eq!(suppressed, compliant - 1, "all but the one that is gone");
    assert_eq!(after[&retried]["Workflow"]["Status"], "SUPPRESSED");
    assert_eq!(after[&gone]["Workflow"]["Status"], "NEW");
    // Named, and the exit status says so; the evaluations were delivered all the same.
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("1 Security Hub finding(s) not updated")
            && run.stderr.contains(&gone)
            && run.stderr.contains("FindingNotFound"),
        "{}",
        run.stderr
    );
    assert_eq!(verdicts(&fake).len(), expected.len());
}

#[test]
fn throttled_security_hub_calls_are_paced_and_nothing_is_lost() {
    let (seed, expected) = failed_everywhere(400);
    let compliant = expected.values().filter(|v| **v == "COMPLIANT").count();
    let fake = start(seed);
    fake.set_faults(Faults {
        throttle: 0.5,
        operations: vec!["GetFindings".into(), "BatchUpdateFindings".into()],
        seed: 19,
        ..Faults::default()
    });
    let run = sweep_with(&fake, "suppress", false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(injected(&fake, Injected::Throttle) > 0);
    let suppressed = findings(&fake)
        .values()
        .filter(|f| f["Workflow"]["Status"] == "SUPPRESSED")
        .count();
    assert_eq!(suppressed, compliant);
}

#[test]
fn security_hub_not_enabled_or_no_findings_is_a_note_not_an_error() {
    let mut seed = sample_seed();
    seed.account.security_hub_disabled = true;
    let fake = start(seed);
    let run = sweep_with(&fake, "suppress", false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "Security Hub (suppress): Security Hub is not enabled in this account and region"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(calls(&fake, "BatchUpdateFindings"), 0);
    assert!(!verdicts(&fake).is_empty(), "the evaluations are delivered");

    let mut seed = sample_seed();
    seed.account.findings.clear();
    let fake = start(seed);
    let run = sweep_with(&fake, "annotate", false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("no ACTIVE SageMaker.14 findings"),
        "{}",
        run.stderr
    );
    assert_eq!(calls(&fake, "BatchUpdateFindings"), 0);
}

#[test]
fn off_makes_no_security_hub_call() {
    let fake = start(sample_seed());
    let run = sweep_with(&fake, "off", false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        calls(&fake, "GetFindings") + calls(&fake, "BatchUpdateFindings"),
        0
    );
    assert!(!run.stderr.contains("Security Hub ("), "{}", run.stderr);
}

wire_test!(
    a_change_event_reconciles_its_one_schedule,
    sample_seed(),
    |fake, bin| {
        let mut event = crate::support::event_file("change-named-model-bias-isolated.json");
        event["ruleParameters"] = json!(json!({"SecurityHub": "suppress"}).to_string());
        let run = bin.evaluate(&event);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let changed: Vec<Value> = findings(&fake).into_values().filter(is_ours).collect();
        assert_eq!(changed.len(), 1, "{changed:?}\n{}", run.stderr);
        let schedule = changed[0]["Resources"][0]["Id"].as_str().unwrap();
        assert!(
            verdicts(&fake).get(schedule).map(String::as_str) == Some("COMPLIANT"),
            "{schedule}"
        );
    }
);

#[test]
fn the_lambda_counts_what_it_reconciled_in_its_emf_record_and_fails_on_unprocessed() {
    let fake = start(sample_seed());
    let function = crate::support::Function::start(&fake);
    let unprocessed = findings(&fake)
        .into_iter()
        .find(|(_, f)| {
            f["Resources"][0]["Id"] == schedule_arn("recsys-model-quality-isolated").as_str()
        })
        .map(|(id, _)| id)
        .unwrap();
    fake.set_faults(Faults {
        unprocessed: vec![Unprocessed {
            finding: unprocessed.clone(),
            code: "FindingNotFound".into(),
            times: 1,
        }],
        ..Faults::default()
    });
    let wait = std::time::Duration::from_secs(60);
    let event = crate::support::event_file("periodic-security-hub.json");
    let failed = fake
        .invoke(&event, std::time::Duration::from_secs(30), wait)
        .expect_err("an unprocessed finding fails the invocation");
    assert!(
        failed.to_string().contains(&unprocessed),
        "names the finding: {failed}"
    );
    // The next invocation finds nothing in the way, and sets the finding right.
    fake.invoke(&event, std::time::Duration::from_secs(30), wait)
        .expect("success");
    let emf: Vec<Value> = function
        .logs()
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|record| record.get("_aws").is_some())
        .collect();
    assert_eq!(emf.len(), 2);
    assert_eq!(emf[0]["SecurityHubUnprocessed"], 1);
    assert_eq!(emf[0]["SecurityHubSuppressed"], 1);
    assert_eq!(emf[1]["SecurityHubUnprocessed"], 0);
    assert_eq!(emf[1]["SecurityHubSuppressed"], 1);
    assert_eq!(emf[1]["SecurityHubAlreadyRight"], 1);
    assert_eq!(
        emf[1]["Compliant"], 5,
        "the evaluations are delivered either way"
    );
}
