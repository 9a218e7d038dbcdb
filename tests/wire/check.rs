//! `check` on templates and plans, through the real binary: every fixture and every sample in
//! `events/check/` gets its verdict, in all three formats, with the documented exit codes; named
//! job definitions are described in the (fake) account only with `--resolve-live`.

use crate::support::*;
use fake_aws::faults::Faults;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// `check` from the repository root (so paths are relative, as in CI), with no AWS
/// environment unless `env` gives one.
fn check_command(args: &[&str], env: &[(String, String)]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .arg("check")
        .args(args)
        .current_dir(root())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().cloned())
        .stdin(Stdio::null());
    command
}

fn finished(code: Option<i32>, stdout: &[u8], stderr: &[u8]) -> Run {
    let run = Run {
        code: code.unwrap_or(-1),
        stdout: String::from_utf8_lossy(stdout).into_owned(),
        stderr: String::from_utf8_lossy(stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn check(args: &[&str], env: &[(String, String)]) -> Run {
    let output = check_command(args, env)
        .output()
        .expect("the binary starts");
    finished(output.status.code(), &output.stdout, &output.stderr)
}

/// `check` on input that once made it run for minutes or forever, killed if it has not
/// finished after `KILL_AFTER`. The only real-time limit in these tests, and far above what
/// the run takes (milliseconds): it keeps a regression from blocking the suite.
fn check_or_kill(args: &[&str]) -> Run {
    const KILL_AFTER: Duration = Duration::from_secs(60);
    let mut child = check_command(args, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let (sent, outputs) = mpsc::channel();
    let pipes: [Box<dyn Read + Send>; 2] = [
        Box::new(child.stdout.take().unwrap()),
        Box::new(child.stderr.take().unwrap()),
    ];
    for (index, mut pipe) in pipes.into_iter().enumerate() {
        let sent = sent.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = sent.send((index, bytes));
        });
    }
    // Each pipe closes when the process ends.
    let mut read = [Vec::new(), Vec::new()];
    for _ in 0..2 {
        match outputs.recv_timeout(KILL_AFTER) {
            Ok((index, bytes)) => read[index] = bytes,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("check {args:?} was still running after {KILL_AFTER:?}");
            }
        }
    }
    let status = child.wait().unwrap();
    let [stdout, stderr] = &read;
    finished(status.code(), stdout, stderr)
}

/// `--format json`: each resource's ComplianceType, by resource.
fn verdicts(run: &Run) -> BTreeMap<String, String> {
    run.lines()
        .into_iter()
        .map(|line| {
            (
                line["resource"].as_str().unwrap().to_owned(),
                line["ComplianceType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `--format json`: the whole line of one resource.
fn line_for(run: &Run, resource: &str) -> Value {
    run.lines()
        .into_iter()
        .find(|line| line["resource"] == resource)
        .unwrap_or_else(|| panic!("no line for {resource}: {}", run.stdout))
}

/// `--format json`: the annotation of one resource.
fn annotation_of(run: &Run, resource: &str) -> String {
    line_for(run, resource)["Annotation"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The line (from 1) a template's resource starts on, found in the text by its key.
fn key_line(path: &str, logical_id: &str) -> usize {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let yaml = format!("  {logical_id}:");
    let json = format!("\"{logical_id}\": {{");
    text.lines()
        .position(|line| line.starts_with(&yaml) || line.trim_start().starts_with(&json))
        .map(|index| index + 1)
        .unwrap_or_else(|| panic!("{logical_id} not in {path}"))
}

const RESOLUTION: &str = "events/check/cloudformation-resolution.yaml";
const ISOLATED_JSON: &str = "events/check/cloudformation-isolated.json";
const LIVE: &str = "events/check/cloudformation-live.yaml";
const MODULES_PLAN: &str = "events/check/terraform-modules.plan.json";
const ISOLATED_PLAN: &str = "events/check/terraform-isolated.plan.json";
const PLANNED_NAMES: &str = "events/check/terraform-planned-names.plan.json";
const CHAINED_NAMES: &str = "events/check/cloudformation-chained-names.yaml";
const ALIAS_BOMB: &str = "events/check/cloudformation-alias-bomb.yaml";

#[test]
fn every_cloudformation_fixture_gets_its_verdict() {
    // tests/fixtures/README.md, rows 11-15: no embedded NetworkConfig, and job definitions
    // without the isolation flag (a NetworkConfig with only encryption is not isolation).
    let run = check(
        &[
            "--format",
            "json",
            "--job-definitions",
            "tests/fixtures/cloudformation",
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let by_file: BTreeMap<(String, String), String> = run
        .lines()
        .into_iter()
        .map(|l| {
            (
                (
                    l["file"].as_str().unwrap().to_owned(),
                    l["resource"].as_str().unwrap().to_owned(),
                ),
                l["ComplianceType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let dir = "tests/fixtures/cloudformation";
    let want: BTreeMap<(String, String), String> = [
        (
            "awsdocs_dataqualityjobdefinition_example.yaml",
            "DataQualityJobDefinition",
        ),
        (
            "awsdocs_monitoringschedule_example.json",
            "MonitoringSchedule",
        ),
        (
            "awsdocs_monitoringschedule_example.yaml",
            "MonitoringSchedule",
        ),
        (
            "checkov_dq_jobdef_encryption_false_isolation_absent.yaml",
            "DataQualityJobDefinitionFail1",
        ),
        (
            "checkov_dq_jobdef_encryption_false_isolation_absent.yaml",
            "DataQualityJobDefinitionFail2",
        ),
        (
            "checkov_dq_jobdef_encryption_true_isolation_absent.yaml",
            "DataQualityJobDefinitionPass",
        ),
    ]
    .into_iter()
    .map(|(file, resource)| {
        (
            (format!("{dir}/{file}"), resource.to_owned()),
            "NON_COMPLIANT".to_owned(),
        )
    })
    .collect();
    assert_eq!(by_file, want);
    let schedule = line_for(&run, "MonitoringSchedule");
    assert!(
        schedule["Annotation"]
            .as_str()
            .unwrap()
            .starts_with("Embedded MonitoringJobDefinition has no NetworkConfig"),
        "{schedule}"
    );
    assert_eq!(
        schedule["line"],
        key_line(schedule["file"].as_str().unwrap(), "MonitoringSchedule")
    );
    let pass = line_for(&run, "DataQualityJobDefinitionPass");
    assert!(
        pass["Annotation"].as_str().unwrap().contains(
            "'MyDataQualityJobDefinition' has a NetworkConfig without EnableNetworkIsolation"
        ),
        "{pass}"
    );

    // Without --job-definitions only the schedules are reported.
    let run = check(&["--format", "json", dir], &[]);
    assert_eq!(
        verdicts(&run),
        expect(&[("MonitoringSchedule", "NON_COMPLIANT")])
    );
    assert_eq!(run.lines().len(), 2, "the YAML and the JSON example");
}

#[test]
fn the_terraform_policy_tests_as_plans_get_sagemaker_14_verdicts() {
    // Derived from HashiCorp's policy tests (tests/fixtures/terraform_plan/*.source.txt); the
    // expected column is SageMaker.14's (tests/fixtures/README.md rows 16-17), not HashiCorp's.
    let run = check(
        &[
            "--format",
            "json",
            "--job-definitions",
            "tests/fixtures/terraform_plan/hashicorp_monitoring_schedule_isolation.plan.json",
        ],
        &[],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        verdicts(&run),
        expect(&[
            (
                "aws_sagemaker_monitoring_schedule.monitoring_schedule_inline_enabled",
                "COMPLIANT"
            ),
            (
                "aws_sagemaker_monitoring_schedule.monitoring_schedule_inline_disabled",
                "NON_COMPLIANT"
            ),
            (
                "aws_sagemaker_monitoring_schedule.monitoring_schedule_inline_no_config",
                "NON_COMPLIANT"
            ),
            (
                "aws_sagemaker_data_quality_job_definition.data_quality_enabled",
                "COMPLIANT"
            ),
            (
                "aws_sagemaker_data_quality_job_definition.data_quality_disabled",
                "NON_COMPLIANT"
            ),
            (
                "aws_sagemaker_data_quality_job_definition.data_quality_no_config",
                "NON_COMPLIANT"
            ),
        ])
    );
    let run = check(
        &[
            "--format",
            "json",
            "tests/fixtures/terraform_plan/hashicorp_model_bias_job_isolation.plan.json",
        ],
        &[],
    );
    assert_eq!(
        verdicts(&run),
        expect(&[
            (
                "aws_sagemaker_monitoring_schedule.pass_isolation_enabled",
                "COMPLIANT"
            ),
            (
                "aws_sagemaker_monitoring_schedule.fail_isolation_disabled",
                "NON_COMPLIANT"
            ),
            (
                "aws_sagemaker_monitoring_schedule.fail_model_bias_no_network_config",
                "NON_COMPLIANT"
            ),
            // HashiCorp's SageMaker.12 policy passes these two; SageMaker.14 does not.
            (
                "aws_sagemaker_monitoring_schedule.pass_data_quality_monitoring",
                "NON_COMPLIANT"
            ),
            (
                "aws_sagemaker_monitoring_schedule.pass_no_inline_job_definition",
                "UNRESOLVED"
            ),
        ])
    );
    let named = line_for(
        &run,
        "aws_sagemaker_monitoring_schedule.pass_no_inline_job_definition",
    );
    assert!(
        named["Annotation"].as_str().unwrap().contains(
            "ModelBias job definition 'existing-job-definition', which this plan does not create"
        ),
        "{named}"
    );
    assert_eq!(named["type"], "aws_sagemaker_monitoring_schedule");
}

#[test]
fn every_way_a_template_names_a_job_definition_is_resolved_or_said_to_be_unresolved() {
    let run = check(&["--format", "json", RESOLUTION], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        verdicts(&run),
        expect(&[
            ("LiteralName", "COMPLIANT"),
            ("RefParameter", "NON_COMPLIANT"),
            ("SelectSplitRef", "COMPLIANT"),
            ("GetAttName", "NON_COMPLIANT"),
            ("SubName", "COMPLIANT"),
            ("IfBothBranches", "NON_COMPLIANT"),
            ("FindInMapName", "COMPLIANT"),
            ("EmbeddedStringTrue", "COMPLIANT"),
            ("NameNotInTemplate", "UNRESOLVED"),
            ("ImportedName", "UNRESOLVED"),
        ])
    );
    let annotation = |resource: &str| annotation_of(&run, resource);
    assert!(annotation("RefParameter").contains(
        "'open-data-quality' sets EnableNetworkIsolation=false. A VpcConfig is not isolation."
    ));
    // The job definition without a name is found by its resource, and shown by its logical id.
    assert!(annotation("SelectSplitRef").starts_with("ModelBias job definition '{UnnamedModelBias}' has NetworkConfig.EnableNetworkIsolation=true"));
    assert!(annotation("IfBothBranches").starts_with(
        "The worse of 2 alternatives (Fn::If): DataQuality job definition 'open-data-quality'"
    ));
    assert!(
        annotation("NameNotInTemplate")
            .contains("'shared-data-quality', which this template does not define")
    );
    assert!(annotation("ImportedName").contains(
        "MonitoringJobDefinitionName cannot be resolved: Fn::ImportValue 'SharedJobDefinitionName'"
    ));
    for line in run.lines() {
        assert_eq!(line["file"], RESOLUTION);
        assert_eq!(line["type"], "AWS::SageMaker::MonitoringSchedule");
        let resource = line["resource"].as_str().unwrap();
        assert_eq!(line["line"], key_line(RESOLUTION, resource), "{resource}");
    }
    assert!(
        run.stderr
            .contains("10 resource(s) in 1 file(s): 5 COMPLIANT, 3 NON_COMPLIANT, 2 UNRESOLVED"),
        "{}",
        run.stderr
    );
}

#[test]
fn parameters_given_on_the_command_line_override_defaults() {
    let run = check(
        &[
            "--format",
            "json",
            "--parameter",
            "JobName=isolated-data-quality",
            "--parameter",
            "BiasIsolation=false",
            RESOLUTION,
        ],
        &[],
    );
    let found = verdicts(&run);
    assert_eq!(found["RefParameter"], "COMPLIANT");
    // The job definition's own flag comes from a parameter too.
    assert_eq!(found["SelectSplitRef"], "NON_COMPLIANT");
    assert!(
        line_for(&run, "SelectSplitRef")["Annotation"]
            .as_str()
            .unwrap()
            .contains("'{UnnamedModelBias}' sets EnableNetworkIsolation=false")
    );
    assert_eq!(found["LiteralName"], "COMPLIANT");

    let run = check(&["--parameter", "novalue", RESOLUTION], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("expected KEY=VALUE"), "{}", run.stderr);
}

#[test]
fn json_templates_and_long_forms_resolve_the_same_way() {
    let run = check(
        &["--format", "json", "--job-definitions", ISOLATED_JSON],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        verdicts(&run),
        expect(&[
            ("ModelQualityJobDefinition", "COMPLIANT"),
            ("NamedByAttribute", "COMPLIANT"),
            ("NamedByJoin", "COMPLIANT"),
            ("Embedded", "COMPLIANT"),
        ])
    );
    let line = line_for(&run, "NamedByJoin");
    assert_eq!(line["line"], key_line(ISOLATED_JSON, "NamedByJoin"));
    let run = check(
        &[
            "--format",
            "json",
            "--parameter",
            "Isolate=false",
            ISOLATED_JSON,
        ],
        &[],
    );
    assert_eq!(run.code, 1);
    assert_eq!(verdicts(&run)["NamedByAttribute"], "NON_COMPLIANT");
    assert_eq!(verdicts(&run)["Embedded"], "COMPLIANT");
}

#[test]
fn plans_resolve_through_modules_and_leave_unknowns_unresolved() {
    let run = check(
        &["--format", "json", "--job-definitions", MODULES_PLAN],
        &[],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        verdicts(&run),
        expect(&[
            (
                "aws_sagemaker_data_quality_job_definition.open",
                "NON_COMPLIANT"
            ),
            ("aws_sagemaker_monitoring_schedule.direct", "NON_COMPLIANT"),
            ("aws_sagemaker_monitoring_schedule.embedded", "COMPLIANT"),
            (
                "aws_sagemaker_monitoring_schedule.isolation_from_apply",
                "UNRESOLVED"
            ),
            ("aws_sagemaker_monitoring_schedule.in_account", "UNRESOLVED"),
            (
                "module.jobs.aws_sagemaker_data_quality_job_definition.isolated",
                "COMPLIANT"
            ),
            (
                "module.monitoring.aws_sagemaker_monitoring_schedule.this",
                "COMPLIANT"
            ),
        ]),
        "the deleted schedule is not judged"
    );
    let through = line_for(
        &run,
        "module.monitoring.aws_sagemaker_monitoring_schedule.this",
    );
    assert!(
        through["Annotation"]
            .as_str()
            .unwrap()
            .contains("'{module.jobs.aws_sagemaker_data_quality_job_definition.isolated}' has NetworkConfig.EnableNetworkIsolation=true"),
        "{through}"
    );
    let unknown = line_for(
        &run,
        "aws_sagemaker_monitoring_schedule.isolation_from_apply",
    );
    assert!(
        unknown["Annotation"]
            .as_str()
            .unwrap()
            .contains("known only after apply"),
        "{unknown}"
    );
    // The line is where the address first appears in the (pretty-printed) plan.
    let text = std::fs::read_to_string(root().join(MODULES_PLAN)).unwrap();
    let first = text
        .lines()
        .position(|l| l.contains("\"aws_sagemaker_monitoring_schedule.direct\""))
        .unwrap()
        + 1;
    assert_eq!(
        line_for(&run, "aws_sagemaker_monitoring_schedule.direct")["line"],
        first
    );

    let run = check(&["--format", "json", ISOLATED_PLAN], &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        verdicts(&run),
        expect(&[
            ("aws_sagemaker_monitoring_schedule.embedded", "COMPLIANT"),
            (
                "module.monitoring.aws_sagemaker_monitoring_schedule.this",
                "COMPLIANT"
            ),
        ])
    );
}

#[test]
fn a_schedule_in_a_plan_runs_the_job_definition_its_planned_name_names() {
    // Each schedule's expression refers to the isolated job definition, but three plan another
    // name: a literal branch of a condition, a suffix, and a variable that coalesce prefers.
    let run = check(&["--format", "json", PLANNED_NAMES], &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        verdicts(&run),
        expect(&[
            ("aws_sagemaker_monitoring_schedule.legacy", "NON_COMPLIANT"),
            ("aws_sagemaker_monitoring_schedule.versioned", "UNRESOLVED"),
            ("aws_sagemaker_monitoring_schedule.overridden", "UNRESOLVED"),
            ("aws_sagemaker_monitoring_schedule.defaulted", "COMPLIANT"),
        ])
    );
    let annotation = |resource: &str| annotation_of(&run, resource);
    assert!(
        annotation("aws_sagemaker_monitoring_schedule.legacy").starts_with(
            "DataQuality job definition 'legacy-open-jd' sets EnableNetworkIsolation=false"
        )
    );
    assert!(
        annotation("aws_sagemaker_monitoring_schedule.versioned")
            .contains("'dq-isolated-v2', which this plan does not create")
    );

    // Code scanning sees all three.
    let run = check(&["--format", "sarif", PLANNED_NAMES], &[]);
    assert_eq!(run.code, 1);
    let sarif: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let mut results: Vec<(String, String)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let message = r["message"]["text"].as_str().unwrap();
            (
                message.split(' ').next().unwrap().to_owned(),
                r["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    results.sort();
    assert_eq!(
        results,
        [
            (
                "aws_sagemaker_monitoring_schedule.legacy".into(),
                "error".into()
            ),
            (
                "aws_sagemaker_monitoring_schedule.overridden".into(),
                "warning".into()
            ),
            (
                "aws_sagemaker_monitoring_schedule.versioned".into(),
                "warning".into()
            ),
        ]
    );
}

#[test]
fn resolve_live_describes_named_job_definitions_in_the_account_read_only() {
    let fake = start(sample_seed());
    let env = aws_env(&fake);
    // Without the flag: unresolved, exit 0, and not one call.
    let run = check(&["--format", "json", LIVE], &env);
    assert_eq!(run.code, 0);
    assert!(
        verdicts(&run).values().all(|v| v == "UNRESOLVED"),
        "{}",
        run.stdout
    );
    assert!(fake.calls().is_empty());
    let run = check(&["--fail-on-unresolved", LIVE], &env);
    assert_eq!(run.code, 1, "--fail-on-unresolved fails on UNRESOLVED");

    let run = check(
        &["--format", "json", "--resolve-live", LIVE, MODULES_PLAN],
        &env,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = verdicts(&run);
    assert_eq!(found["AccountIsolated"], "COMPLIANT");
    assert_eq!(found["AccountOpen"], "NON_COMPLIANT");
    assert_eq!(found["AccountMissing"], "NON_COMPLIANT");
    assert_eq!(
        found["aws_sagemaker_monitoring_schedule.in_account"],
        "NON_COMPLIANT"
    );
    // What only apply knows stays unresolved: nothing in the account can say it.
    assert_eq!(
        found["aws_sagemaker_monitoring_schedule.isolation_from_apply"],
        "UNRESOLVED"
    );
    assert!(
        line_for(&run, "AccountMissing")["Annotation"]
            .as_str()
            .unwrap()
            .contains("'retired-data-quality', which does not exist")
    );
    assert!(
        line_for(&run, "AccountIsolated")["Annotation"]
            .as_str()
            .unwrap()
            .starts_with("ModelQuality job definition 'recsys-model-quality-isolated' has NetworkConfig.EnableNetworkIsolation=true")
    );
    // One describe per distinct job definition (two schedules name recsys-data-quality-open),
    // and nothing else: no list, no write.
    let mut operations: Vec<String> = fake.calls().into_iter().map(|c| c.operation).collect();
    operations.sort();
    assert_eq!(
        operations,
        [
            "DescribeDataQualityJobDefinition",
            "DescribeDataQualityJobDefinition",
            "DescribeModelQualityJobDefinition"
        ]
    );
}

wire_test!(
    a_describe_that_fails_leaves_the_schedule_unresolved_with_the_failure,
    sample_seed(),
    Faults {
        deny: vec!["DescribeDataQualityJobDefinition".into()],
        ..Faults::default()
    },
    |fake, bin| {
        let run = check(
            &["--format", "json", "--resolve-live", LIVE],
            &aws_env(&fake),
        );
        assert_eq!(run.code, 0, "nothing NON_COMPLIANT: {}", run.stdout);
        let found = verdicts(&run);
        assert_eq!(found["AccountIsolated"], "COMPLIANT");
        assert_eq!(found["AccountOpen"], "UNRESOLVED");
        let annotation = line_for(&run, "AccountOpen")["Annotation"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
        annotation.contains(
            "describing it in the account failed: DescribeDataQualityJobDefinition: access denied"
        ),
        "{annotation}"
    );

        // Without a region --resolve-live cannot start: a setup error, exit 2.
        let run = check(
            &["--resolve-live", LIVE],
            &[("AWS_EC2_METADATA_DISABLED".into(), "true".into())],
        );
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains("no AWS region is configured"),
            "{}",
            run.stderr
        );
    }
);

#[test]
fn the_table_shows_verdict_location_resource_type_and_annotation() {
    let run = check(&[RESOLUTION], &[]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        11,
        "a heading and ten schedules: {}",
        run.stdout
    );
    let heading: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        heading,
        ["VERDICT", "LOCATION", "RESOURCE", "TYPE", "ANNOTATION"]
    );
    let row = lines
        .iter()
        .find(|l| l.contains(" GetAttName "))
        .expect("a row for GetAttName");
    let cells: Vec<&str> = row.split_whitespace().take(4).collect();
    assert_eq!(
        cells,
        [
            "NON_COMPLIANT",
            format!("{RESOLUTION}:{}", key_line(RESOLUTION, "GetAttName")).as_str(),
            "GetAttName",
            "MonitoringSchedule",
        ]
    );
    assert!(
        row.ends_with(
            "Job definitions are immutable: use a copy with EnableNetworkIsolation=true."
        )
    );
    // The columns line up: every row starts with its verdict (never with text from the
    // input), and every annotation starts where the heading's does.
    let column = lines[0].find("ANNOTATION").unwrap();
    for line in &lines[1..] {
        assert!(
            ["COMPLIANT ", "NON_COMPLIANT ", "UNRESOLVED "]
                .iter()
                .any(|v| line.starts_with(v)),
            "{line}"
        );
        assert!(
            line[column..].ends_with('.') && !line[column..].starts_with(' '),
            "{line}"
        );
    }
}

#[test]
fn sarif_has_what_code_scanning_requires_at_the_right_lines() {
    let run = check(
        &[
            "--format",
            "sarif",
            "--job-definitions",
            RESOLUTION,
            MODULES_PLAN,
        ],
        &[],
    );
    assert_eq!(run.code, 1);
    let sarif: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(
        sarif["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "monitoring-schedule-isolation");
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids[0], "SageMaker.14");
    for rule in rules {
        for member in [
            "/shortDescription/text",
            "/fullDescription/text",
            "/help/text",
        ] {
            let text = rule.pointer(member).and_then(Value::as_str).unwrap_or("");
            assert!(!text.is_empty(), "{} has no {member}", rule["id"]);
        }
    }
    let results = runs[0]["results"].as_array().unwrap();
    // Only what needs attention: 3 + 1 NON_COMPLIANT schedules and 2 job definitions of the
    // template and the plan, 2 + 2 UNRESOLVED; nothing COMPLIANT.
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels.iter().filter(|l| **l == "error").count(),
        6,
        "{levels:?}"
    );
    assert_eq!(
        levels.iter().filter(|l| **l == "warning").count(),
        4,
        "{levels:?}"
    );
    for result in results {
        let rule = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[index], rule);
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri == RESOLUTION || uri == MODULES_PLAN, "{uri}");
        let start = location["region"]["startLine"].as_u64().unwrap() as usize;
        assert!(start >= 1);
        let resource = result["properties"]["resourceType"].as_str().unwrap();
        let message = result["message"]["text"].as_str().unwrap();
        if uri == RESOLUTION {
            let logical_id = message.split(' ').next().unwrap();
            assert_eq!(start, key_line(RESOLUTION, logical_id), "{message}");
        }
        if resource.ends_with("JobDefinition") || resource.ends_with("job_definition") {
            assert_eq!(rule, "SageMaker.11", "{message}");
        }
    }
    let get_att = results
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("GetAttName ")
        })
        .unwrap();
    assert_eq!(get_att["level"], "error");
    assert_eq!(get_att["ruleId"], "SageMaker.14");
    let imported = results
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("ImportedName ")
        })
        .unwrap();
    assert_eq!(imported["level"], "warning");
}

#[test]
fn exit_codes_say_what_was_found() {
    assert_eq!(check(&[ISOLATED_JSON, ISOLATED_PLAN], &[]).code, 0);
    assert_eq!(check(&[ISOLATED_JSON, RESOLUTION], &[]).code, 1);
    // UNRESOLVED alone does not fail the check, unless asked to.
    assert_eq!(check(&[LIVE], &[]).code, 0);
    assert_eq!(check(&["--fail-on-unresolved", LIVE], &[]).code, 1);
    assert_eq!(check(&[], &[]).code, 2, "no path given");
}

/// A fresh directory under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("check-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, content: &[u8]) -> String {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, content).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn input_that_cannot_be_read_is_exit_2_naming_the_file_and_the_problem() {
    let dir = scratch("unreadable");
    let cases: [(&str, &[u8], &str); 6] = [
        (
            "broken.yaml",
            b"Resources:\n  A: [unclosed\n",
            "not YAML or JSON",
        ),
        (
            "workflow.yaml",
            b"name: ci\non: push\n",
            "neither a CloudFormation template",
        ),
        (
            "state.json",
            b"{\"format_version\": \"1.0\"}",
            "terraform show -json",
        ),
        (
            "future.json",
            b"{\"format_version\": \"2.0\", \"resource_changes\": []}",
            "format_version 2.0 is not supported",
        ),
        (
            "binary.yaml",
            &[0xff, 0xfe, 0x00, 0x41],
            "stream did not contain valid UTF-8",
        ),
        ("empty.yaml", b"", "holds no document"),
    ];
    for (name, content, message) in cases {
        let path = write(&dir, name, content);
        let run = check(&[&path], &[]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("error: {path}"))
                || run.stderr.contains(&format!("cannot read {path}")),
            "{name}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(message), "{name}: {}", run.stderr);
        assert!(
            run.stdout.is_empty(),
            "{name}: nothing is reported from a failed run"
        );
    }
    let missing = dir.join("missing.yaml").to_string_lossy().into_owned();
    let run = check(&[RESOLUTION, &missing], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(&format!("cannot read {missing}: No such file")),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn directories_are_read_for_templates_and_plans_and_other_files_are_skipped() {
    let dir = scratch("directory");
    let template = std::fs::read(root().join(RESOLUTION)).unwrap();
    write(&dir, "stacks/monitoring.yml", &template);
    write(
        &dir,
        "plans/plan.json",
        &std::fs::read(root().join(ISOLATED_PLAN)).unwrap(),
    );
    write(&dir, ".github/workflows/ci.yaml", b"name: ci\non: push\n");
    write(&dir, "config/app.yaml", b"name: app\nreplicas: 2\n");
    write(&dir, "notes.txt", b"Resources: [unclosed");
    let run = check(&["--format", "json", &dir.to_string_lossy()], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let files: std::collections::BTreeSet<String> = run
        .lines()
        .iter()
        .map(|l| l["file"].as_str().unwrap().to_owned())
        .collect();
    let shown = |rest: &str| format!("{}/{rest}", dir.to_string_lossy());
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        [shown("plans/plan.json"), shown("stacks/monitoring.yml")]
    );
    assert_eq!(run.lines().len(), 12);
    // A YAML file that is no template is skipped, and said to be; a hidden directory is not read.
    assert!(
        run.stderr
            .contains(&format!("skipped {}: neither", shown("config/app.yaml"))),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("workflows"), "{}", run.stderr);
    // A broken template in a directory is still an error.
    write(&dir, "stacks/broken.yaml", b"Resources:\n  A: [unclosed\n");
    let run = check(&[&dir.to_string_lossy()], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("broken.yaml: not YAML or JSON"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_sample_in_events_check_is_used_here() {
    let mut samples: Vec<String> = std::fs::read_dir(root().join("events/check"))
        .unwrap()
        .map(|e| format!("events/check/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|name| !name.ends_with("README.md"))
        .collect();
    samples.sort();
    let mut used = vec![
        RESOLUTION,
        ISOLATED_JSON,
        LIVE,
        MODULES_PLAN,
        ISOLATED_PLAN,
        PLANNED_NAMES,
        CHAINED_NAMES,
        ALIAS_BOMB,
    ];
    used.sort();
    assert_eq!(samples, used);
}

#[test]
fn names_built_from_names_end_unresolved_at_a_limit_not_after_minutes() {
    let run = check_or_kill(&["--format", "json", "--job-definitions", CHAINED_NAMES]);
    assert_eq!(run.code, 0, "UNRESOLVED alone exits 0: {}", run.stderr);
    let found = verdicts(&run);
    assert_eq!(found.len(), 18);
    assert!(found.values().all(|v| v == "UNRESOLVED"), "{found:?}");
    assert!(
        annotation_of(&run, "Schedule").contains("longer than 4,096 characters"),
        "{}",
        run.stdout
    );
    let run = check_or_kill(&["--fail-on-unresolved", CHAINED_NAMES]);
    assert_eq!(run.code, 1);
}

#[test]
fn a_template_with_yaml_aliases_is_refused_without_expanding_them() {
    let run = check_or_kill(&[ALIAS_BOMB]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: {ALIAS_BOMB}: line 5: YAML aliases are not allowed in CloudFormation templates"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    // YAML that is no template may use aliases: in a directory it is skipped as before.
    let dir = scratch("aliases");
    write(&dir, "compose.yaml", b"x: &base {replicas: 2}\ny: *base\n");
    write(
        &dir,
        "stack.yaml",
        &std::fs::read(root().join(ISOLATED_JSON)).unwrap(),
    );
    let run = check_or_kill(&["--format", "json", &dir.to_string_lossy()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("compose.yaml: neither"),
        "{}",
        run.stderr
    );
    assert_eq!(run.lines().len(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn a_directory_walk_follows_no_link_and_reports_each_file_once() {
    use std::os::unix::fs::symlink;
    let dir = scratch("links");
    write(
        &dir,
        "t.yaml",
        &std::fs::read(root().join(ISOLATED_JSON)).unwrap(),
    );
    // Two links to the directory itself: 2^40 paths when followed. A link to a file, and one
    // to a device that never ends.
    symlink(".", dir.join("a")).unwrap();
    symlink(".", dir.join("b")).unwrap();
    symlink("t.yaml", dir.join("again.yaml")).unwrap();
    symlink("/dev/zero", dir.join("zero.yaml")).unwrap();
    let shown = dir.to_string_lossy().into_owned();
    let run = check_or_kill(&["--format", "json", &shown]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let files: Vec<String> = run
        .lines()
        .iter()
        .map(|l| l["file"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        files,
        vec![format!("{shown}/t.yaml"); 3],
        "each resource once"
    );
    for link in ["a", "b", "again.yaml", "zero.yaml"] {
        assert!(
            run.stderr
                .contains(&format!("skipped {shown}/{link}: a symbolic link")),
            "{link}: {}",
            run.stderr
        );
    }
    // A file named twice, or named and found in a directory, is still checked once; a link
    // named on the command line is followed.
    let t = format!("{shown}/t.yaml");
    let again = format!("{shown}/again.yaml");
    let run = check_or_kill(&["--format", "json", &t, &shown, &again]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.lines().len(), 3, "{}", run.stdout);
    let run = check_or_kill(&["--format", "json", &again]);
    assert_eq!(run.lines().len(), 3, "{}", run.stderr);
    assert_eq!(run.lines()[0]["file"], again);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Audit N11's logical id (a carriage return and ANSI escapes that rewrite the line as
/// COMPLIANT, with a C1 control and a right-to-left override) and job definition name (GitHub
/// Actions workflow commands on lines of their own).
const EVIL_ID: &str = "Evil\r\u{1b}[2K\u{1b}[1A\u{2026} COMPLIANT\u{9b}\u{202e}";
const EVIL_NAME: &str = "x\n::error file=README.md,line=1::forged\n::stop-commands::tok";

#[test]
fn text_from_the_input_reaches_no_output_unescaped() {
    let dir = scratch("hijack");
    let template = serde_json::json!({"Resources": {EVIL_ID: {
        "Type": "AWS::SageMaker::MonitoringSchedule",
        "Properties": {"MonitoringScheduleConfig": {
            "MonitoringType": "DataQuality", "MonitoringJobDefinitionName": EVIL_NAME}}
    }}});
    // The file's name is input too: a line of its own that is a workflow command.
    let file = "\n::warning::forged\u{1b}[31m.json";
    write(&dir, file, template.to_string().as_bytes());
    write(&dir, "\n::error::broken.yaml", b"Resources: [unclosed");
    let shown = dir.to_string_lossy().into_owned();
    let path = format!("{shown}/{file}");
    for format in ["table", "json", "sarif"] {
        let run = check(&["--format", format, &path], &[]);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert_inert(&run.stdout, &format!("{format} stdout"));
        assert_inert(&run.stderr, &format!("{format} stderr"));
    }
    // JSON keeps every character, escaped: what is read back is what the template said.
    let run = check(&["--format", "json", &path], &[]);
    let line = &run.lines()[0];
    assert_eq!(line["resource"], EVIL_ID);
    assert_eq!(line["file"], path);
    assert!(
        line["Annotation"]
            .as_str()
            .unwrap()
            .contains("::stop-commands::tok")
    );
    let run = check(&["--format", "sarif", &path], &[]);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert!(
        result["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with(EVIL_ID)
    );
    // The table shows the escapes, and starts each line with what check itself writes.
    let run = check(&[&path], &[]);
    assert!(
        run.stdout
            .contains("Evil\\r\\u{1b}[2K\\u{1b}[1A\u{2026} COMPLIANT\\u{9b}\\u{202e}"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("'x\\n::error file=README.md"),
        "{}",
        run.stdout
    );
    for row in run.stdout.lines().skip(1) {
        assert!(row.starts_with("UNRESOLVED "), "{row}");
    }
    // stderr quotes input too: a file that cannot be read, named in the error.
    let run = check(&[&shown], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("\\n::error::broken.yaml: not YAML"),
        "{}",
        run.stderr
    );
    assert_inert(&run.stderr, "stderr of an error");
    let _ = std::fs::remove_dir_all(&dir);
}
