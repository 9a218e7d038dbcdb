//! The CloudFormation Lambda hook: the real binary under the fake's Lambda Runtime API,
//! answering hook requests of the documented shape (`events/hook/`), and `template-hook.yaml`
//! granting exactly what the hook needs.

use crate::support::*;
use fake_aws::FakeAws;
use fake_aws::faults::Faults;
use monitoring_schedule_isolation::Template;
use serde_json::{Value, json};
use std::process::Child;
use std::time::Duration;

/// The function, running as Lambda runs it; stopped when dropped.
struct Function(Child);

impl Function {
    fn start(fake: &FakeAws) -> Function {
        Function(lambda_command(fake).spawn().expect("the function starts"))
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn request(name: &str) -> Value {
    let path = root().join("events/hook").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Sends one hook request; a hook's answer is never a Lambda error.
fn hook(fake: &FakeAws, name: &str) -> Value {
    fake.invoke(
        &request(name),
        Duration::from_secs(25),
        Duration::from_secs(60),
    )
    .unwrap_or_else(|error| panic!("{name}: the function failed: {error}"))
}

fn operations(fake: &FakeAws) -> Vec<String> {
    fake.calls()
        .into_iter()
        .map(|call| call.operation)
        .collect()
}

#[test]
fn an_embedded_job_definition_is_judged_from_the_properties_alone() {
    let fake = start(sample_seed());
    let _function = Function::start(&fake);
    // The flag arrives as the string "true", as hook input carries booleans.
    let answer = hook(&fake, "create-schedule-embedded-isolated.json");
    assert_eq!(
        answer,
        json!({
            "hookStatus": "SUCCESS",
            "message": "Embedded MonitoringJobDefinition has NetworkConfig.EnableNetworkIsolation=true.",
            "clientRequestToken": "3f1c9f4e-0000-4000-8000-000000000001"
        })
    );
    // An update is judged by the properties it would set, not the previous ones.
    let answer = hook(&fake, "update-schedule-embedded-open.json");
    assert_eq!(answer["hookStatus"], "FAILED");
    assert_eq!(answer["errorCode"], "NonCompliant");
    assert_eq!(
        answer["message"],
        "Embedded MonitoringJobDefinition sets EnableNetworkIsolation=false. A VpcConfig is not isolation. Update the schedule's MonitoringJobDefinition.NetworkConfig with EnableNetworkIsolation=true."
    );
    assert_eq!(
        answer["clientRequestToken"],
        "3f1c9f4e-0000-4000-8000-000000000002"
    );
    assert!(operations(&fake).is_empty(), "nothing to describe");
}

#[test]
fn a_named_job_definition_is_described_in_the_account() {
    let fake = start(sample_seed());
    let _function = Function::start(&fake);
    let answer = hook(&fake, "create-schedule-named-isolated.json");
    assert_eq!(answer["hookStatus"], "SUCCESS", "{answer}");
    assert_eq!(
        answer["message"],
        "ModelQuality job definition 'recsys-model-quality-isolated' has NetworkConfig.EnableNetworkIsolation=true."
    );
    assert!(answer.get("errorCode").is_none());
    // The answer always carries the token; a request without one gets an empty one.
    assert_eq!(answer["clientRequestToken"], "", "{answer}");
    assert_eq!(operations(&fake), ["DescribeModelQualityJobDefinition"]);

    let answer = hook(&fake, "create-schedule-named-open.json");
    assert_eq!(answer["hookStatus"], "FAILED");
    assert_eq!(answer["errorCode"], "NonCompliant");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("DataQuality job definition 'recsys-data-quality-open' sets EnableNetworkIsolation=false."),
        "{answer}"
    );
    assert_eq!(
        operations(&fake),
        [
            "DescribeModelQualityJobDefinition",
            "DescribeDataQualityJobDefinition"
        ]
    );
}

wire_test!(
    a_job_definition_that_cannot_be_described_fails_closed,
    sample_seed(),
    Faults {
        deny: vec!["DescribeModelQualityJobDefinition".into()],
        ..Faults::default()
    },
    |fake, bin| {
        let _function = Function::start(&fake);
        let answer = hook(&fake, "create-schedule-named-isolated.json");
        assert_eq!(answer["hookStatus"], "FAILED");
        assert_eq!(answer["errorCode"], "InternalFailure");
        let message = answer["message"].as_str().unwrap();
        assert!(
        message.starts_with("Could not describe ModelQuality job definition 'recsys-model-quality-isolated' to judge this schedule, so the hook fails closed: DescribeModelQualityJobDefinition: access denied"),
        "{message}"
    );
        assert!(message.chars().count() <= 256, "hooks cut long messages");
    }
);

#[test]
fn job_definitions_deletions_and_other_types() {
    let fake = start(sample_seed());
    let _function = Function::start(&fake);
    let answer = hook(&fake, "create-job-definition-open.json");
    assert_eq!(answer["hookStatus"], "FAILED");
    assert_eq!(answer["errorCode"], "NonCompliant");
    assert_eq!(
        answer["message"],
        "ModelBias job definition 'churn-bias' sets EnableNetworkIsolation=false. Job definitions are immutable: use a copy with EnableNetworkIsolation=true."
    );

    // The previous properties were not isolated; a deletion is not judged.
    let answer = hook(&fake, "delete-schedule.json");
    assert_eq!(
        answer,
        json!({
            "hookStatus": "SUCCESS",
            "message": "Deletion is not judged.",
            "clientRequestToken": "3f1c9f4e-0000-4000-8000-000000000006"
        })
    );
    let answer = hook(&fake, "create-other-type.json");
    assert_eq!(answer["hookStatus"], "SUCCESS");
    assert_eq!(
        answer["message"],
        "AWS::S3::Bucket is not a SageMaker monitoring schedule or job definition: not judged."
    );
    assert!(operations(&fake).is_empty());
}

#[test]
fn what_the_hook_cannot_read_fails_closed_and_cloud_control_is_judged() {
    let fake = start(sample_seed());
    let _function = Function::start(&fake);
    // (sample, token, error code, what the message says)
    let cases = [
        (
            "create-schedule-without-target-name.json",
            "11",
            "InternalFailure",
            "names no resource type",
        ),
        (
            "create-schedule-without-target-model.json",
            "12",
            "InternalFailure",
            "no targetModel.resourceProperties",
        ),
        (
            "schedule-unknown-invocation-point.json",
            "13",
            "InternalFailure",
            "actionInvocationPoint 'DELETE_PRE_PROVISION_X'",
        ),
        (
            "update-stack.json",
            "14",
            "InternalFailure",
            "A STACK request: this hook reads resource requests only",
        ),
        (
            "create-schedule-cloud-control.json",
            "10",
            "NonCompliant",
            "Embedded MonitoringJobDefinition sets EnableNetworkIsolation=false",
        ),
    ];
    for (sample, token, code, said) in cases {
        let answer = hook(&fake, sample);
        assert_eq!(answer["hookStatus"], "FAILED", "{sample}: {answer}");
        assert_eq!(answer["errorCode"], code, "{sample}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(said), "{sample}: {message}");
        assert_eq!(
            answer["clientRequestToken"],
            format!("3f1c9f4e-0000-4000-8000-0000000000{token}"),
            "{sample}"
        );
    }
    assert!(operations(&fake).is_empty(), "nothing was described");
}

#[test]
fn the_same_function_serves_hooks_and_config_events() {
    let fake = start(sample_seed());
    let _function = Function::start(&fake);
    assert_eq!(
        hook(&fake, "create-other-type.json")["hookStatus"],
        "SUCCESS"
    );
    let response = fake
        .invoke(
            &event_file("change-deleted.json"),
            Duration::from_secs(30),
            Duration::from_secs(60),
        )
        .expect("a Config event is still a Config event");
    assert_eq!(response["notApplicable"], 1);
    assert_eq!(
        hook(&fake, "create-schedule-named-open.json")["errorCode"],
        "NonCompliant"
    );
}

#[test]
fn every_sample_in_events_hook_is_used_here() {
    let mut samples: Vec<String> = std::fs::read_dir(root().join("events/hook"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    samples.sort();
    assert_eq!(
        samples,
        [
            "create-job-definition-open.json",
            "create-other-type.json",
            "create-schedule-cloud-control.json",
            "create-schedule-embedded-isolated.json",
            "create-schedule-named-isolated.json",
            "create-schedule-named-open.json",
            "create-schedule-without-target-model.json",
            "create-schedule-without-target-name.json",
            "delete-schedule.json",
            "schedule-unknown-invocation-point.json",
            "update-schedule-embedded-open.json",
            "update-stack.json",
        ]
    );
}

fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(action) => vec![action.clone()],
        Value::Array(list) => list
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

fn granted(template: &Value, role: &str) -> Vec<String> {
    let mut all = Vec::new();
    for policy in template["Resources"][role]["Properties"]["Policies"]
        .as_array()
        .unwrap()
    {
        for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow");
            all.extend(actions(statement));
        }
    }
    all.sort();
    all
}

#[test]
fn the_hook_template_grants_only_what_the_hook_needs() {
    let text = std::fs::read_to_string(root().join("template-hook.yaml")).unwrap();
    let template = Template::parse(&text).unwrap().root;
    let resources = &template["Resources"];

    // The function describes job definitions and writes its logs: nothing else.
    assert_eq!(
        granted(&template, "HookFunctionRole"),
        [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "sagemaker:DescribeDataQualityJobDefinition",
            "sagemaker:DescribeModelBiasJobDefinition",
            "sagemaker:DescribeModelExplainabilityJobDefinition",
            "sagemaker:DescribeModelQualityJobDefinition",
        ]
    );
    let function = &resources["HookFunction"];
    assert_eq!(function["Type"], "AWS::Serverless::Function");
    assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
    assert_eq!(function["Properties"]["Runtime"], "provided.al2023");
    assert_eq!(function["Properties"]["Architectures"], json!(["arm64"]));
    assert!(function["Properties"]["Timeout"].as_u64().unwrap() < 30);

    // CloudFormation Hooks may invoke that one function.
    let execution = &resources["HookExecutionRole"]["Properties"];
    assert_eq!(
        execution["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "hooks.cloudformation.amazonaws.com"
    );
    assert_eq!(
        granted(&template, "HookExecutionRole"),
        ["lambda:InvokeFunction"]
    );
    assert_eq!(
        execution["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"],
        json!({"Fn::GetAtt": ["HookFunction", "Arn"]})
    );

    let hook = &resources["MonitoringIsolationHook"];
    assert_eq!(hook["Type"], "AWS::CloudFormation::LambdaHook");
    let properties = &hook["Properties"];
    assert_eq!(properties["HookStatus"], "ENABLED");
    assert_eq!(properties["TargetOperations"], json!(["RESOURCE"]));
    assert_eq!(properties["FailureMode"], json!({"Ref": "FailureMode"}));
    assert_eq!(
        template["Parameters"]["FailureMode"]["AllowedValues"],
        json!(["FAIL", "WARN"])
    );
    let filters = &properties["TargetFilters"];
    assert_eq!(filters["Actions"], json!(["CREATE", "UPDATE"]));
    let mut targets: Vec<&str> = filters["TargetNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        [
            "AWS::SageMaker::DataQualityJobDefinition",
            "AWS::SageMaker::ModelBiasJobDefinition",
            "AWS::SageMaker::ModelExplainabilityJobDefinition",
            "AWS::SageMaker::ModelQualityJobDefinition",
            "AWS::SageMaker::MonitoringSchedule",
        ]
    );
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    assert!(
        makefile
            .lines()
            .any(|l| l.starts_with("TEMPLATES :=") && l.contains("template-hook.yaml")),
        "make lint and make test run cfn-lint on the hook template"
    );
}
