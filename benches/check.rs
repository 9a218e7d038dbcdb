//! `check` on adversarial 1 MB inputs, each against a 1 MB template of ordinary resources
//! judged in the same run: a template from a pull request must not be able to stall the gate.
//!
//! `cargo bench --bench check` (or `make bench`). `BENCH_CHECK_RUNS` (default 5) timed runs of
//! each input after one warm-up; the median is reported, with its ratio to the baseline's.
//! Each input's findings are checked too, so that what is timed is the real work.

use monitoring_schedule_isolation::{CheckOptions, CheckStatus, check_assess, check_read};
use serde_json::{Value, json};
use std::fmt::Write;
use std::time::{Duration, Instant};

/// The size every input is built up to.
const SIZE: usize = 1 << 20;

/// Resources appended until the text reaches [`SIZE`]; `head` first.
fn grown(head: &str, mut resource: impl FnMut(usize) -> String) -> String {
    let mut text = String::from(head);
    let mut index = 0;
    while text.len() < SIZE {
        text.push_str(&resource(index));
        index += 1;
    }
    text
}

/// The baseline: schedules with embedded, isolated job definitions and schedules naming job
/// definitions of the template, with the properties real ones carry.
fn ordinary() -> String {
    grown("Resources:\n", |i| {
        format!(
            "  Bucket{i}:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'monitoring-${{AWS::AccountId}}-{i}'
  Definition{i}:
    Type: AWS::SageMaker::DataQualityJobDefinition
    Properties:
      JobDefinitionName: data-quality-{i}
      RoleArn: !Sub 'arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/monitoring'
      DataQualityAppSpecification:
        ImageUri: 156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer
      DataQualityJobInput:
        EndpointInput: {{EndpointName: churn-{i}, LocalPath: /opt/ml/processing/input}}
      DataQualityJobOutputConfig:
        MonitoringOutputs:
          - S3Output: {{S3Uri: !Sub 's3://${{Bucket{i}}}/reports', LocalPath: /opt/ml/processing/output}}
      JobResources:
        ClusterConfig: {{InstanceCount: 1, InstanceType: ml.m5.large, VolumeSizeInGB: 20}}
      NetworkConfig: {{EnableNetworkIsolation: true}}
  Named{i}:
    Type: AWS::SageMaker::MonitoringSchedule
    Properties:
      MonitoringScheduleName: named-{i}
      MonitoringScheduleConfig:
        MonitoringType: DataQuality
        MonitoringJobDefinitionName: !GetAtt Definition{i}.JobDefinitionName
        ScheduleConfig: {{ScheduleExpression: 'cron(0 * ? * * *)'}}
  Embedded{i}:
    Type: AWS::SageMaker::MonitoringSchedule
    Properties:
      MonitoringScheduleName: embedded-{i}
      MonitoringScheduleConfig:
        ScheduleConfig: {{ScheduleExpression: 'cron(0 * ? * * *)'}}
        MonitoringJobDefinition:
          RoleArn: !Sub 'arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/monitoring'
          MonitoringAppSpecification:
            ImageUri: 156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer
          MonitoringInputs:
            - EndpointInput: {{EndpointName: churn-{i}, LocalPath: /opt/ml/processing/input}}
          MonitoringOutputConfig:
            MonitoringOutputs:
              - S3Output: {{S3Uri: !Sub 's3://${{Bucket{i}}}/embedded', LocalPath: /opt/ml/processing/output}}
          MonitoringResources:
            ClusterConfig: {{InstanceCount: 1, InstanceType: ml.m5.large, VolumeSizeInGB: 20}}
          NetworkConfig: {{EnableNetworkIsolation: 'true'}}
"
        )
    })
}

fn definition(i: usize, name: &str) -> String {
    format!(
        "  J{i}:\n    Type: AWS::SageMaker::DataQualityJobDefinition\n    Properties:\n      JobDefinitionName: {name}\n      NetworkConfig: {{EnableNetworkIsolation: true}}\n"
    )
}

fn schedule_naming(i: usize, name: &str) -> String {
    format!(
        "  S{i}:\n    Type: AWS::SageMaker::MonitoringSchedule\n    Properties:\n      MonitoringScheduleConfig:\n        MonitoringType: DataQuality\n        MonitoringJobDefinitionName: {name}\n"
    )
}

/// One chain: each job definition named by the one before, each with a schedule that runs it.
fn deep_chain() -> String {
    grown("Resources:\n", |i| {
        let name = if i == 0 {
            "a".to_owned()
        } else {
            format!("!Sub '${{J{}.JobDefinitionName}}'", i - 1)
        };
        definition(i, &name) + &schedule_naming(i, &format!("!GetAtt J{i}.JobDefinitionName"))
    })
}

/// Audit N5's construction, over and over: chains of 16 hops, each name four copies of the
/// one before.
fn fan_out() -> String {
    grown("Resources:\n", |i| {
        let hop = i % 17;
        let name = if hop == 0 {
            "a".to_owned()
        } else {
            format!(
                "!Sub '{}'",
                format!("${{J{}.JobDefinitionName}}", i - 1).repeat(4)
            )
        };
        let mut text = definition(i, &name);
        if hop == 16 {
            text += &schedule_naming(i, &format!("!GetAtt J{i}.JobDefinitionName"));
        }
        text
    })
}

/// One name built from a million bytes of references to an empty parameter: wide, but never
/// long.
fn wide_sub() -> String {
    let head = "Parameters:\n  Empty: {Type: String, Default: ''}\nResources:\n  J0:\n    Type: AWS::SageMaker::DataQualityJobDefinition\n    Properties:\n      NetworkConfig: {EnableNetworkIsolation: true}\n      JobDefinitionName: !Sub 'jd";
    let mut text = grown(head, |_| "${Empty}".repeat(1024));
    text.push_str("'\n");
    text + &schedule_naming(0, "!GetAtt J0.JobDefinitionName")
}

/// As many small schedules and job definitions as fit, named literally.
fn many_resources() -> String {
    grown("Resources:\n", |i| {
        definition(i, &format!("jd-{i}")) + &schedule_naming(i, &format!("jd-{i}"))
    })
}

/// A million bytes of anchors and aliases before the resources.
fn aliases() -> String {
    let mut text = grown(
        "Metadata:\n  base: &base {EnableNetworkIsolation: true}\n",
        |i| format!("  copy{i}: [*base, *base, *base, *base, *base, *base, *base, *base]\n"),
    );
    text.push_str(&format!("Resources:\n{}", definition(0, "a")));
    text
}

/// A plan with schedules whose job definitions come through a module variable and output,
/// one pair per module call.
fn plan() -> String {
    let mut changes = Vec::new();
    let mut calls = serde_json::Map::new();
    let mut text_size = 0;
    let mut i = 0;
    while text_size < SIZE {
        let module = format!("module.m{i}");
        changes.push(json!({
            "address": format!("{module}.aws_sagemaker_data_quality_job_definition.jd"),
            "module_address": module, "mode": "managed",
            "type": "aws_sagemaker_data_quality_job_definition", "name": "jd",
            "change": {"actions": ["create"],
                "after": {"network_config": [{"enable_network_isolation": true}],
                          "role_arn": "arn:aws:iam::123456789012:role/monitoring"},
                "after_unknown": {"arn": true, "id": true, "name": true}}
        }));
        changes.push(json!({
            "address": format!("aws_sagemaker_monitoring_schedule.s{i}"),
            "mode": "managed", "type": "aws_sagemaker_monitoring_schedule", "name": format!("s{i}"),
            "change": {"actions": ["create"],
                "after": {"name": format!("s{i}"), "monitoring_schedule_config": [{"monitoring_type": "DataQuality"}]},
                "after_unknown": {"monitoring_schedule_config": [{"monitoring_job_definition_name": true}]}}
        }));
        calls.insert(
            format!("m{i}"),
            json!({"module": {
                "outputs": {"name": {"expression": {"references": [
                    "aws_sagemaker_data_quality_job_definition.jd.name",
                    "aws_sagemaker_data_quality_job_definition.jd"
                ]}}},
                "resources": [{"address": "aws_sagemaker_data_quality_job_definition.jd",
                               "type": "aws_sagemaker_data_quality_job_definition", "name": "jd"}]
            }}),
        );
        text_size += 2_400;
        i += 1;
    }
    let resources: Vec<Value> = (0..i)
        .map(|i| {
            json!({
                "address": format!("aws_sagemaker_monitoring_schedule.s{i}"),
                "type": "aws_sagemaker_monitoring_schedule", "name": format!("s{i}"),
                "expressions": {"monitoring_schedule_config": [{"monitoring_job_definition_name":
                    {"references": [format!("module.m{i}.name"), format!("module.m{i}")]}}]}
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "format_version": "1.2",
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": resources, "module_calls": calls}}
    }))
    .unwrap()
}

/// Sixteen nested modules, each output `o` and `p` referring to both of the next module's, and
/// schedules naming the outermost `o`: 2^15 paths to the one job definition at the bottom, as
/// deep as references are followed.
fn module_fan_out() -> String {
    let depth = 15;
    let mut module = json!({
        "outputs": {
            "o": {"expression": {"references": ["aws_sagemaker_data_quality_job_definition.jd.name"]}},
            "p": {"expression": {"references": ["aws_sagemaker_data_quality_job_definition.jd.name"]}}
        }
    });
    for _ in 0..depth {
        let both = json!({"references": ["module.next.o", "module.next.p"]});
        module = json!({
            "outputs": {"o": {"expression": both.clone()}, "p": {"expression": both}},
            "module_calls": {"next": {"module": module}}
        });
    }
    let inner = format!("module.outer.{}", "module.next.".repeat(depth));
    let mut changes = vec![json!({
        "address": format!("{inner}aws_sagemaker_data_quality_job_definition.jd"),
        "module_address": inner.trim_end_matches('.'), "mode": "managed",
        "type": "aws_sagemaker_data_quality_job_definition", "name": "jd",
        "change": {"actions": ["create"],
            "after": {"network_config": [{"enable_network_isolation": true}]},
            "after_unknown": {"name": true}}
    })];
    let mut resources = Vec::new();
    let mut i = 0;
    while changes.len() * 330 + resources.len() * 250 < SIZE {
        changes.push(json!({
            "address": format!("aws_sagemaker_monitoring_schedule.s{i}"),
            "mode": "managed", "type": "aws_sagemaker_monitoring_schedule", "name": format!("s{i}"),
            "change": {"actions": ["create"],
                "after": {"monitoring_schedule_config": [{"monitoring_type": "DataQuality"}]},
                "after_unknown": {"monitoring_schedule_config": [{"monitoring_job_definition_name": true}]}}
        }));
        resources.push(json!({
            "address": format!("aws_sagemaker_monitoring_schedule.s{i}"),
            "type": "aws_sagemaker_monitoring_schedule", "name": format!("s{i}"),
            "expressions": {"monitoring_schedule_config": [{"monitoring_job_definition_name":
                {"references": ["module.outer.o"]}}]}
        }));
        i += 1;
    }
    serde_json::to_string(&json!({
        "format_version": "1.2",
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": resources,
            "module_calls": {"outer": {"module": module}}}}
    }))
    .unwrap()
}

/// The statuses of everything `check` reports for `text`, or the error it gives.
fn judged(text: &str) -> Result<Vec<CheckStatus>, String> {
    let options = CheckOptions::default();
    let input = check_read(text).map_err(|e| e.to_string())?;
    let assessments = check_assess(&input, &options).map_err(|e| e.to_string())?;
    Ok(assessments
        .iter()
        .map(|assessment| assessment.finding("bench").status)
        .collect())
}

fn median(text: &str, runs: usize) -> Duration {
    let _ = judged(text);
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(judged(std::hint::black_box(text)).ok());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

/// What each input must come to: every status one, or an error containing the text.
enum Expect {
    All(CheckStatus),
    Error(&'static str),
}

fn main() {
    let runs: usize = std::env::var("BENCH_CHECK_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5)
        .max(1);
    let inputs: [(&str, String, Expect); 8] = [
        (
            "ordinary resources (baseline)",
            ordinary(),
            Expect::All(CheckStatus::Compliant),
        ),
        (
            "deep reference chain",
            deep_chain(),
            Expect::All(CheckStatus::Compliant),
        ),
        (
            "fan-out: 16 hops x 4, repeated",
            fan_out(),
            Expect::All(CheckStatus::Unresolved),
        ),
        (
            "wide Fn::Sub",
            wide_sub(),
            Expect::All(CheckStatus::Compliant),
        ),
        (
            "many resources",
            many_resources(),
            Expect::All(CheckStatus::Compliant),
        ),
        (
            "alias-heavy YAML",
            aliases(),
            Expect::Error("YAML aliases are not allowed"),
        ),
        (
            "Terraform plan through modules",
            plan(),
            Expect::All(CheckStatus::Compliant),
        ),
        (
            "Terraform module fan-out",
            module_fan_out(),
            Expect::All(CheckStatus::Compliant),
        ),
    ];
    let mut report = String::new();
    let mut baseline = None;
    for (name, text, expect) in &inputs {
        let found = judged(text);
        let counted = match (&found, expect) {
            (Ok(statuses), Expect::All(status)) => {
                let other = statuses.iter().filter(|s| *s != status).count();
                assert!(
                    !statuses.is_empty() && other == 0,
                    "{name}: {other} of {} not {status}",
                    statuses.len()
                );
                format!("{} {status}", statuses.len())
            }
            (Err(error), Expect::Error(wanted)) if error.contains(wanted) => "refused".to_owned(),
            (other, _) => panic!("{name}: {other:?}"),
        };
        let time = median(text, runs);
        let base = *baseline.get_or_insert(time);
        let _ = writeln!(
            report,
            "{name:34} {:>5} KB {:>9.1} ms {:>6.2}x  ({counted})",
            text.len() / 1024,
            time.as_secs_f64() * 1e3,
            time.as_secs_f64() / base.as_secs_f64(),
        );
    }
    println!("check, median of {runs} run(s) per input, ratio to the baseline of the same run:");
    print!("{report}");
}
