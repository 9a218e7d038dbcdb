//! What the repository promises about itself: IAM that enforces what the code intends, and a
//! toolchain that cannot drift. Read from the files themselves, as a reviewer would.

mod support;

use monitoring_schedule_isolation::Template;
use serde_json::{Value, json};
use support::root;

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn template(path: &str) -> Template {
    Template::parse(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every statement of every inline policy of the function's role, conditional ones included.
fn statements(template: &Value, role: &str) -> Vec<Value> {
    let mut found = Vec::new();
    let policies = template["Resources"][role]["Properties"]["Policies"]
        .as_array()
        .unwrap_or_else(|| panic!("{role} has inline policies"));
    for policy in policies {
        // `!If [Condition, policy, !Ref AWS::NoValue]` holds the policy in its second item.
        let policy = policy.get("Fn::If").map_or(policy, |branches| &branches[1]);
        if let Some(list) = policy["PolicyDocument"]["Statement"].as_array() {
            found.extend(list.iter().cloned());
        }
    }
    found
}

fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(action) => vec![action.clone()],
        Value::Array(list) => list
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn statement_for<'a>(statements: &'a [Value], action: &str) -> &'a Value {
    let matching: Vec<&Value> = statements
        .iter()
        .filter(|s| actions(s).iter().any(|a| a == action))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "{action} is granted by exactly one statement"
    );
    matching[0]
}

#[test]
fn remediation_may_only_create_isolated_copies_and_update_towards_isolation() {
    let template = template("template.yaml").root;
    let statements = statements(&template, "RuleFunctionRole");
    for kind in [
        "DataQuality",
        "ModelQuality",
        "ModelBias",
        "ModelExplainability",
    ] {
        let create = statement_for(&statements, &format!("sagemaker:Create{kind}JobDefinition"));
        assert_eq!(
            create["Condition"],
            json!({"Bool": {"sagemaker:NetworkIsolation": "true"}}),
            "{kind}: SageMaker must refuse a copy that is not isolated"
        );
        let resources = create["Resource"].as_array().expect("a list of ARNs");
        for resource in resources {
            let arn = resource["Fn::Sub"]
                .as_str()
                .expect("an ARN built with !Sub");
            assert!(
                arn.ends_with("-job-definition/*-isolated*"),
                "{kind}: only the names remediation makes: {arn}"
            );
        }
    }
    let update = statement_for(&statements, "sagemaker:UpdateMonitoringSchedule");
    assert_eq!(
        update["Condition"],
        json!({"BoolIfExists": {"sagemaker:NetworkIsolation": "true"}})
    );
    let pass = statement_for(&statements, "iam:PassRole");
    assert_eq!(
        pass["Condition"],
        json!({"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})
    );
    let choice = &pass["Resource"]["Fn::If"];
    assert_eq!(choice[0], "AnyMonitoringRole");
    assert_eq!(choice[2], json!({"Ref": "RemediationRoleArns"}));
    assert_eq!(
        template["Parameters"]["RemediationRoleArns"]["Type"],
        "CommaDelimitedList"
    );
}

#[test]
fn no_statement_grants_a_wildcard_action() {
    for path in ["template.yaml", "template-org.yaml"] {
        let template = template(path).root;
        for statement in statements(&template, "RuleFunctionRole") {
            for action in actions(&statement) {
                assert!(!action.contains('*'), "{path}: {action}");
            }
        }
    }
}

#[test]
fn the_toolchain_is_pinned() {
    let toolchain = read("rust-toolchain.toml");
    let channel = toolchain
        .lines()
        .find_map(|line| line.strip_prefix("channel = "))
        .expect("rust-toolchain.toml names a channel")
        .trim_matches('"');
    assert_eq!(
        channel
            .split('.')
            .filter(|p| p.parse::<u32>().is_ok())
            .count(),
        3,
        "an exact release, not {channel}"
    );

    // Every Python tool pinned to one version, every file of it to a hash.
    let pins = read("tools/requirements.in");
    for tool in ["cfn-lint", "cargo-lambda", "aws-sam-cli", "pre-commit"] {
        assert!(
            pins.lines()
                .any(|line| line.starts_with(&format!("{tool}=="))),
            "{tool} is pinned"
        );
    }
    let lock = read("tools/requirements.txt");
    let mut requirement = None;
    let mut hashed = 0;
    for line in lock.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if !line.starts_with("--hash=") {
            if let Some(name) = requirement.take() {
                panic!("{name} has no hash");
            }
            assert!(line.contains("=="), "exact versions only: {line}");
            requirement = Some(line.to_owned());
        } else if requirement.take().is_some() {
            hashed += 1;
        }
    }
    assert!(
        requirement.is_none() && hashed > 10,
        "{hashed} pinned packages"
    );
    let installer = read("scripts/tools");
    assert!(installer.contains("--require-hashes"));

    // cargo builds with the lock file as it is, and installs tools at a version.
    for path in ["Makefile", ".ci/run", "scripts/release"] {
        for line in read(path).lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            for command in [
                "cargo build",
                "cargo test",
                "cargo install",
                "cargo clippy",
                "cargo bench",
                "lambda build",
            ] {
                if line.contains(command) {
                    assert!(line.contains("--locked"), "{path}: {line}");
                }
            }
            if line.contains("cargo install") {
                assert!(line.contains("--version"), "{path}: {line}");
            }
        }
    }
    let samconfig = read("samconfig.toml");
    assert!(
        samconfig.contains("confirm_changeset = true"),
        "deploys show the change set first"
    );
}

/// Resources of one type in a template, by logical id.
fn resources_of<'a>(template: &'a Value, resource_type: &str) -> Vec<(&'a String, &'a Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, resource)| resource["Type"] == resource_type)
        .collect()
}

#[test]
fn failures_are_never_silent_in_either_template() {
    for path in ["template.yaml", "template-org.yaml"] {
        let template = template(path).root;
        // Lambda, not Config, retries an asynchronous invocation: decided, not defaulted.
        let invoke = resources_of(&template, "AWS::Lambda::EventInvokeConfig");
        assert_eq!(invoke.len(), 1, "{path}");
        let properties = &invoke[0].1["Properties"];
        assert_eq!(
            properties["MaximumRetryAttempts"],
            json!({"Ref": "RetryAttempts"}),
            "{path}"
        );
        assert_eq!(
            template["Parameters"]["RetryAttempts"]["Default"], 1,
            "{path}"
        );
        assert_eq!(
            properties["DestinationConfig"]["Fn::If"][1]["OnFailure"]["Destination"],
            json!({"Ref": "FailureDestinationArn"}),
            "{path}"
        );
        // Alarms on the function's errors and on the metrics the function writes.
        let alarms: Vec<(String, String)> = resources_of(&template, "AWS::CloudWatch::Alarm")
            .into_iter()
            .map(|(_, alarm)| {
                let p = &alarm["Properties"];
                assert_eq!(p["Dimensions"][0]["Name"], "FunctionName", "{path}");
                assert!(
                    p["AlarmActions"].as_array().is_some_and(|a| a.len() == 2),
                    "{path}"
                );
                (
                    p["Namespace"].as_str().unwrap().to_owned(),
                    p["MetricName"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for (namespace, metric) in [
            ("AWS/Lambda", "Errors"),
            ("AWS/Lambda", "Invocations"),
            ("SageMakerMonitoringScheduleIsolation", "Unjudged"),
            ("SageMakerMonitoringScheduleIsolation", "Undelivered"),
        ] {
            assert!(
                alarms.contains(&(namespace.to_owned(), metric.to_owned())),
                "{path}: no alarm on {namespace} {metric}: {alarms:?}"
            );
        }
        for parameter in ["AlarmEmail", "AlarmTopicArn", "FailureDestinationArn"] {
            assert_eq!(
                template["Parameters"][parameter]["Default"], "",
                "{path}: {parameter}"
            );
        }
    }
}
