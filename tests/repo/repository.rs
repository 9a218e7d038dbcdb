//! What the repository promises about itself: IAM that enforces what the code intends, and a
//! toolchain that cannot drift. Read from the files themselves, as a reviewer would.

use crate::policy::{Principal, Request, Vars, allowed, parameters, render_list, role_statements};
use crate::support::{ACCOUNT, root};
use monitoring_schedule_isolation::Template;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn template(path: &str) -> Template {
    Template::parse(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every statement of every inline policy of a role, conditional ones included.
fn statements(template: &Value, role: &str) -> Vec<Value> {
    role_statements(&template["Resources"][role])
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

const REGION: &str = "us-east-1";
const ISOLATION: &str = "sagemaker:NetworkIsolation";
const INSTANCE_TYPES: &str = "sagemaker:InstanceTypes";

/// template.yaml deployed with remediation on, passing `roles`.
fn remediating(roles: &str) -> (Value, Vars) {
    let template = template("template.yaml").root;
    let overrides = BTreeMap::from([
        ("Remediate".to_owned(), "true".to_owned()),
        ("RemediationRoleArns".to_owned(), roles.to_owned()),
    ]);
    let vars = parameters(&template, &overrides, ACCOUNT, REGION);
    (template, vars)
}

#[test]
fn remediation_may_only_create_isolated_copies_and_update_towards_isolation() {
    let monitoring_role = format!("arn:aws:iam::{ACCOUNT}:role/monitoring-jobs");
    let (template, vars) = remediating(&monitoring_role);
    let statements = statements(&template, "RuleFunctionRole");
    let allowed = |request: &Request<'_>| allowed(&statements, request, &vars);

    let schedule = format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/churn");
    let update = || Request::new("sagemaker:UpdateMonitoringSchedule").on(&schedule);
    // Repointing a schedule at a copy embeds no job definition: neither key is present.
    assert!(allowed(&update()), "a pure repoint");
    // An embedded job definition always names an instance type: it may only turn isolation
    // on, never leave NetworkConfig out or turn it off.
    for instances in [&["ml.m5.xlarge"][..], &["ml.m5.xlarge", "ml.c5.2xlarge"]] {
        let embedded = || update().with(INSTANCE_TYPES, instances);
        assert!(allowed(&embedded().with(ISOLATION, &["true"])), "isolated");
        assert!(
            !allowed(&embedded()),
            "an embedded definition without NetworkConfig"
        );
        for open in ["false", "False"] {
            assert!(!allowed(&embedded().with(ISOLATION, &[open])), "{open}");
        }
    }
    // Copies: isolated, under the names remediation gives them, and nothing else.
    for (kind, resource) in [
        ("DataQuality", "data-quality-job-definition"),
        ("ModelQuality", "model-quality-job-definition"),
        ("ModelBias", "model-bias-job-definition"),
        ("ModelExplainability", "model-explainability-job-definition"),
    ] {
        let action = format!("sagemaker:Create{kind}JobDefinition");
        let arn = |name: &str| format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:{resource}/{name}");
        let (copy, other) = (arn("churn-isolated"), arn("churn-open"));
        let ask = |target: &str, isolation: Option<&str>| {
            let mut request = Request::new(&action)
                .on(target)
                .with(INSTANCE_TYPES, &["ml.m5.xlarge"]);
            if let Some(isolation) = isolation {
                request = request.with(ISOLATION, &[isolation]);
            }
            allowed(&request)
        };
        assert!(ask(&copy, Some("true")), "{kind}: an isolated copy");
        assert!(!ask(&copy, None), "{kind}: a copy without NetworkConfig");
        assert!(!ask(&copy, Some("false")), "{kind}: an open copy");
        assert!(
            !ask(&other, Some("true")),
            "{kind}: a name remediation never gives"
        );
    }
    // Nothing else is written: every SageMaker action the role names that is not a read is
    // one of these, and no other schedule action (delete, stop, create) is allowed.
    let writes = [
        "sagemaker:UpdateMonitoringSchedule",
        "sagemaker:CreateDataQualityJobDefinition",
        "sagemaker:CreateModelQualityJobDefinition",
        "sagemaker:CreateModelBiasJobDefinition",
        "sagemaker:CreateModelExplainabilityJobDefinition",
    ];
    for action in statements.iter().flat_map(actions) {
        let verb = action.strip_prefix("sagemaker:").unwrap_or("Describe");
        assert!(
            ["Describe", "List", "Get"]
                .iter()
                .any(|read| verb.starts_with(read))
                || writes.contains(&action.as_str()),
            "{action}"
        );
    }
    for action in [
        "sagemaker:DeleteMonitoringSchedule",
        "sagemaker:StopMonitoringSchedule",
        "sagemaker:CreateMonitoringSchedule",
        "sagemaker:DeleteDataQualityJobDefinition",
    ] {
        assert!(!allowed(&Request::new(action).on(&schedule)), "{action}");
    }
    // The schedules' own execution roles, to SageMaker only.
    let pass = |role: &str, service: &str| {
        allowed(
            &Request::new("iam:PassRole")
                .on(role)
                .with("iam:PassedToService", &[service]),
        )
    };
    assert!(pass(&monitoring_role, "sagemaker.amazonaws.com"));
    assert!(!pass(&monitoring_role, "ec2.amazonaws.com"));
    assert!(!pass(
        &format!("arn:aws:iam::{ACCOUNT}:role/admin"),
        "sagemaker.amazonaws.com"
    ));
}

/// A `Rules` value: a parameter's string or list, a literal, or the outcome of a rule
/// function (only the ones the templates use; any other panics).
fn rule_value(value: &Value, vars: &Vars) -> Value {
    let args = |name: &str| {
        value[name]
            .as_array()
            .unwrap_or_else(|| panic!("{name} takes a list"))
            .iter()
            .map(|arg| rule_value(arg, vars))
            .collect::<Vec<Value>>()
    };
    match value {
        Value::String(_) | Value::Bool(_) => value.clone(),
        _ if value.get("Ref").is_some() => json!(render_list(value, vars)),
        _ if value.get("Fn::Equals").is_some() => {
            let [a, b] = <[Value; 2]>::try_from(args("Fn::Equals")).unwrap();
            let scalar = |v: Value| match v {
                Value::Array(mut items) if items.len() == 1 => items.remove(0),
                other => other,
            };
            json!(scalar(a) == scalar(b))
        }
        _ if value.get("Fn::Not").is_some() => json!(args("Fn::Not")[0] == json!(false)),
        _ if value.get("Fn::Contains").is_some() => {
            let [list, item] = <[Value; 2]>::try_from(args("Fn::Contains")).unwrap();
            json!(list.as_array().unwrap().contains(&item))
        }
        other => panic!("rule function {other} is not modelled"),
    }
}

/// Whether CloudFormation would accept the parameters: every rule whose condition holds has
/// every assertion true.
fn rules_accept(template: &Value, vars: &Vars) -> bool {
    template["Rules"]
        .as_object()
        .expect("the template has Rules")
        .values()
        .all(|rule| {
            let applies = rule
                .get("RuleCondition")
                .is_none_or(|condition| rule_value(condition, vars) == json!(true));
            !applies
                || rule["Assertions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|assertion| rule_value(&assertion["Assert"], vars) == json!(true))
        })
}

#[test]
fn remediation_cannot_be_deployed_without_the_roles_it_may_pass() {
    let (template, vars) = remediating("");
    assert!(
        !rules_accept(&template, &vars),
        "Remediate=true with no RemediationRoleArns"
    );
    let (_, vars) = remediating(&format!("arn:aws:iam::{ACCOUNT}:role/monitoring-jobs"));
    assert!(rules_accept(&template, &vars));
    let without = parameters(&template, &BTreeMap::new(), ACCOUNT, REGION);
    assert!(
        rules_accept(&template, &without),
        "no remediation, no roles"
    );
    // And no role parameter can mean "any role".
    let spec = &template["Parameters"]["RemediationRoleArns"];
    let pattern = regex::Regex::new(&format!(
        "^(?:{})$",
        spec["AllowedPattern"].as_str().unwrap()
    ))
    .unwrap();
    assert!(pattern.is_match(&format!(
        "arn:aws:iam::{ACCOUNT}:role/service-role/monitoring-jobs"
    )));
    for wide in [
        format!("arn:aws:iam::{ACCOUNT}:role/*"),
        format!("arn:aws:iam::{ACCOUNT}:role/monitoring-*"),
        "*".to_owned(),
    ] {
        assert!(!pattern.is_match(&wide), "{wide}");
    }
}

#[test]
fn the_hooks_service_may_use_the_hook_role_only_for_this_account() {
    let template = template("template-hook.yaml").root;
    let vars = parameters(&template, &BTreeMap::new(), ACCOUNT, REGION);
    let trust = template["Resources"]["HookExecutionRole"]["Properties"]["AssumeRolePolicyDocument"]
        ["Statement"]
        .as_array()
        .unwrap()
        .clone();
    let hooks = Principal::Service("hooks.cloudformation.amazonaws.com");
    let hook = format!(
        "arn:aws:cloudformation:{REGION}:{ACCOUNT}:type/hook/Private-SageMaker-MonitoringIsolation"
    );
    let may_assume = |account: &str, source: &str| {
        let request = Request::new("sts:AssumeRole")
            .by(hooks)
            .with("aws:SourceAccount", &[account])
            .with("aws:SourceArn", &[source]);
        allowed(&trust, &request, &vars)
    };
    assert!(may_assume(ACCOUNT, &hook));
    let elsewhere = "999999999999";
    let their_hook = hook.replace(ACCOUNT, elsewhere);
    assert!(!may_assume(elsewhere, &their_hook));
    assert!(!may_assume(ACCOUNT, &their_hook));
    assert!(
        !allowed(&trust, &Request::new("sts:AssumeRole").by(hooks), &vars),
        "on behalf of nobody named"
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
            // Invocations Lambda discarded unrun: older than MaximumEventAgeInSeconds (queued
            // behind reserved concurrency), or out of retries.
            ("AWS/Lambda", "AsyncEventsDropped"),
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

/// Copies what `sam build` reads of the project into `to`: the manifests, the lock file, the
/// toolchain file and the sources cargo needs to resolve the workspace, and the template.
fn copy_project(to: &std::path::Path, template: &str) {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        if from.is_dir() {
            std::fs::create_dir_all(to).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let entry = entry.unwrap();
                copy(&entry.path(), &to.join(entry.file_name()));
            }
        } else {
            std::fs::copy(from, to).unwrap();
        }
    }
    for path in [
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain.toml",
        "samconfig.toml",
        "src",
        "benches",
        "fake/Cargo.toml",
        "fake/src",
        template,
    ] {
        let target = to.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        copy(&root().join(path), &target);
    }
}

#[test]
#[ignore = "needs sam and cargo-lambda in .venv; `make test` installs them and runs this test"]
fn sam_build_takes_the_lock_file_as_it_is() {
    let sam = root().join(".venv/bin/sam");
    assert!(sam.exists(), "sam is not installed: `scripts/tools`");
    let path = format!(
        "{}:{}",
        root().join(".venv/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for template in ["template.yaml", "template-org.yaml", "template-hook.yaml"] {
        let project = std::env::temp_dir().join(format!(
            "sam-build-locked-{}-{template}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&project);
        copy_project(&project, template);
        // A manifest the lock file no longer matches (a bumped version, as a dependency
        // change would be): built without --locked, cargo rewrites the lock and builds.
        let manifest = project.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(
            &manifest,
            text.replacen("version = \"0.1.0\"", "version = \"0.1.1\"", 1),
        )
        .unwrap();
        let lock = std::fs::read_to_string(project.join("Cargo.lock")).unwrap();
        // A target directory that cannot be created: if cargo gets past the lock file, it
        // fails at once instead of compiling the SDK for minutes.
        let blocked = project.join("not-a-directory");
        std::fs::write(&blocked, "").unwrap();
        let output = std::process::Command::new(&sam)
            .args(["build", "--template", template, "--language-extensions"])
            .args(["--build-dir", ".aws-sam/locked"])
            .current_dir(&project)
            .env("PATH", &path)
            .env("SAM_CLI_TELEMETRY", "0")
            .env("CARGO_TARGET_DIR", blocked.join("target"))
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let lock_after = std::fs::read_to_string(project.join("Cargo.lock")).unwrap();
        let _ = std::fs::remove_dir_all(&project);
        assert!(!output.status.success(), "{template}: {said}");
        assert!(
            said.contains("because --locked was passed"),
            "{template}: sam build did not pass --locked: {said}"
        );
        assert!(
            lock_after == lock,
            "{template}: sam build rewrote Cargo.lock"
        );
    }
}

#[test]
fn deploy_org_gives_the_member_roles_every_region_it_deploys() {
    let output = std::process::Command::new("make")
        .args(["-n", "deploy-org", "ORG_ID=o-abc123def4", "OUS=r-ab12"])
        .arg("REGIONS=us-east-1  eu-west-1 ap-southeast-2")
        .current_dir(root())
        .output()
        .expect("make runs");
    assert!(output.status.success());
    let commands = String::from_utf8(output.stdout)
        .unwrap()
        .replace("\\\n", " ");
    let global = commands
        .lines()
        .find(|line| line.contains("--template-file template-org-global.yaml"))
        .expect("deploy-org deploys the global stack");
    let overrides: BTreeMap<&str, &str> = global
        .split_once("--parameter-overrides")
        .unwrap()
        .1
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .collect();
    assert_eq!(
        overrides.get("Regions"),
        Some(&"us-east-1,eu-west-1,ap-southeast-2")
    );
    let looped: Vec<&str> = commands
        .lines()
        .filter(|line| line.contains("--template-file .aws-sam/build-org/template.yaml"))
        .map(|line| {
            let (_, rest) = line
                .split_once(" --region ")
                .expect("each deploy names its region");
            rest.split_whitespace().next().unwrap()
        })
        .collect();
    assert_eq!(looped.join(","), overrides["Regions"]);
    // Every parameter without a default is given, and every one given exists.
    let parameters = template("template-org-global.yaml").root["Parameters"].clone();
    for (name, spec) in parameters.as_object().unwrap() {
        if spec.get("Default").is_none() {
            assert!(
                overrides.contains_key(name.as_str()),
                "{name} is not passed"
            );
        }
    }
    for name in overrides.keys() {
        assert!(parameters.get(*name).is_some(), "{name} is no parameter");
    }
}

/// `make -n deploy-org` with extra settings: its exit status and what it prints.
fn deploy_org_dry_run(settings: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new("make")
        .args(["-n", "deploy-org", "ORG_ID=o-abc123def4", "OUS=r-ab12"])
        .arg("REGIONS=us-east-1 eu-west-1")
        .args(settings)
        .current_dir(root())
        .output()
        .expect("make runs");
    (
        output.status.success(),
        String::from_utf8(output.stdout)
            .unwrap()
            .replace("\\\n", " "),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn deploy_org_can_deploy_the_conformance_pack_instead_of_the_organization_rule() {
    let (ok, commands, _) = deploy_org_dry_run(&["RULE_VIA=conformance-pack"]);
    assert!(ok, "{commands}");
    let regional: Vec<&str> = commands
        .lines()
        .filter(|line| line.contains("--template-file .aws-sam/build-org/template.yaml"))
        .collect();
    assert_eq!(regional.len(), 2, "{commands}");
    for line in &regional {
        assert!(line.contains("DeployOrganizationRule=false"), "{line}");
    }
    let pack = commands
        .lines()
        .position(|line| line.contains("scripts/deploy-conformance-pack"))
        .expect("the pack is deployed");
    let lines: Vec<&str> = commands.lines().collect();
    let last_region = lines
        .iter()
        .rposition(|line| line.contains("--template-file .aws-sam/build-org/template.yaml"))
        .unwrap();
    assert!(
        pack > last_region,
        "the pack needs every region's function first"
    );

    // By default the organization rule, and no pack.
    let (ok, commands, _) = deploy_org_dry_run(&[]);
    assert!(ok);
    assert!(!commands.contains("DeployOrganizationRule=false"));
    assert!(!commands.contains("deploy-conformance-pack"));

    let (ok, _, said) = deploy_org_dry_run(&["RULE_VIA=both"]);
    assert!(!ok);
    assert!(
        said.contains("organization-rule or conformance-pack"),
        "{said}"
    );
}

#[test]
fn deploy_org_refuses_more_member_accounts_than_the_function_policy_holds() {
    let ids = |n: u64| -> String {
        (0..n)
            .map(|i| format!("{:012}", 222_222_222_222 + i))
            .collect::<Vec<_>>()
            .join(",")
    };
    let fits = format!("REGION_PARAMS=MemberAccountIds={}", ids(46));
    let (ok, commands, said) = deploy_org_dry_run(&[&fits]);
    assert!(ok, "{said}");
    assert!(commands.contains("MemberAccountIds="));

    let too_many = format!(
        "REGION_PARAMS=ReservedConcurrency=20 MemberAccountIds={}",
        ids(47)
    );
    let (ok, commands, said) = deploy_org_dry_run(&[&too_many]);
    assert!(!ok);
    assert!(
        !commands.contains("sam deploy") && !commands.contains("/sam deploy"),
        "nothing is deployed: {commands}"
    );
    assert!(said.contains("47 member accounts"), "{said}");
    assert!(said.contains("at most 46"), "{said}");
    assert!(said.contains("docs/large-organizations.md"), "{said}");
}
