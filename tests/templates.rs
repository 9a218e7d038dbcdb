//! The organization templates rendered as CloudFormation would render them: the once-per-
//! organization template in the administrator account, the regional one in three regions. Names
//! must be valid for every allowed parameter value and must not collide (IAM is global, the rest
//! regional); each region's function role must be one the member roles trust, and nothing else
//! may be, as IAM evaluates their trust; the audit role may make every call `audit` makes; the
//! rule parameters must fit Config's 1,024 characters and parse; and no rule name a template
//! admits may be longer than Config reads results back by.

mod support;

use monitoring_schedule_isolation::{RuleParams, Template};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use support::policy::{
    Principal, Request, Vars, actions, allowed, condition, parameters, render, role_statements,
    with_conditions,
};
use support::{root, run, sample_seed, start};

const ADMIN: &str = "111111111111";
const MEMBER: &str = "222222222222";
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

fn template(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    Template::parse(&text)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .root
}

/// The once-per-organization template's parameters in the administrator account, deployed for
/// the three regions (as `make deploy-org REGIONS=...` passes them), then `overrides`.
fn global_context(global: &Value, overrides: &BTreeMap<String, String>) -> Vars {
    let mut with_regions = BTreeMap::from([("Regions".to_owned(), REGIONS.join(","))]);
    with_regions.extend(overrides.clone());
    parameters(global, &with_regions, ADMIN, REGIONS[0])
}

/// A named resource: where its name must be unique, what it is, and the name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Named {
    /// `iam <account>` for IAM (global), `<account> <region>` for the rest.
    scope: String,
    kind: &'static str,
    name: String,
}

/// The properties that name a resource, by type.
const NAME_PROPERTIES: [(&str, &str, &str); 6] = [
    ("AWS::IAM::Role", "RoleName", "iam"),
    ("AWS::Logs::LogGroup", "LogGroupName", "regional"),
    (
        "AWS::Config::OrganizationConfigRule",
        "OrganizationConfigRuleName",
        "regional",
    ),
    ("AWS::CloudFormation::StackSet", "StackSetName", "regional"),
    (
        "AWS::Config::ConfigurationAggregator",
        "ConfigurationAggregatorName",
        "regional",
    ),
    ("AWS::Lambda::Function", "FunctionName", "regional"),
];

fn names(template: &Value, vars: &Vars) -> Vec<Named> {
    let account = &vars["AWS::AccountId"];
    let region = &vars["AWS::Region"];
    let mut found = Vec::new();
    for resource in template["Resources"].as_object().unwrap().values() {
        let Some(resource_type) = resource["Type"].as_str() else {
            continue; // A Fn::ForEach, whose resources are permissions, named by nobody.
        };
        for (kind, property, scope) in NAME_PROPERTIES {
            if resource_type != kind {
                continue;
            }
            if let Some(value) = resource["Properties"].get(property) {
                found.push(Named {
                    scope: if scope == "iam" {
                        format!("iam {account}")
                    } else {
                        format!("{account} {region}")
                    },
                    kind,
                    name: render(value, vars),
                });
            }
        }
    }
    found
}

/// The template body the StackSet deploys, as the administrator stack renders it.
fn member_body(global: &Value, vars: &Vars) -> String {
    render(
        &global["Resources"]["MemberRoleStackSet"]["Properties"]["TemplateBody"],
        vars,
    )
}

/// What the StackSet puts in every member account: its template body, rendered with the
/// parameters the StackSet passes.
fn member_stack(global: &Value, vars: &Vars) -> (Value, Vars) {
    let stack_set = &global["Resources"]["MemberRoleStackSet"]["Properties"];
    let body = Template::parse(&member_body(global, vars)).unwrap().root;
    let passed: BTreeMap<String, String> = stack_set["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["ParameterKey"].as_str().unwrap().to_owned(),
                render(&p["ParameterValue"], vars),
            )
        })
        .collect();
    let member_vars = parameters(&body, &passed, MEMBER, &vars["AWS::Region"]);
    (body, member_vars)
}

/// Each name, checked against the rule of the service that holds it.
fn valid(named: &Named) -> Result<(), String> {
    let name = named.name.as_str();
    let chars_ok = |allowed: &str| {
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || allowed.contains(c))
    };
    let ok = match named.kind {
        "AWS::IAM::Role" => (1..=64).contains(&name.len()) && chars_ok("+=,.@_-"),
        "AWS::Logs::LogGroup" => (1..=512).contains(&name.len()) && chars_ok("._-/#"),
        "AWS::Config::OrganizationConfigRule" => {
            (1..=64).contains(&name.len()) && !name.trim().is_empty()
        }
        "AWS::CloudFormation::StackSet" => {
            name.len() <= 128
                && name.starts_with(|c: char| c.is_ascii_alphabetic())
                && chars_ok("-")
        }
        "AWS::Config::ConfigurationAggregator" => (1..=256).contains(&name.len()) && chars_ok("_-"),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{named:?} is not a valid name"))
    }
}

/// Everything a three-region organization deployment names, in the administrator account and
/// one member account.
fn deployment(
    global_overrides: &BTreeMap<String, String>,
    regional_overrides: &BTreeMap<String, String>,
) -> Vec<Named> {
    let global = template("template-org-global.yaml");
    let regional = template("template-org.yaml");
    let mut everything = Vec::new();
    let mut global_vars = global_context(&global, global_overrides);
    global_vars.insert("DeployAggregator".into(), "true".into());
    everything.extend(names(&global, &global_vars));
    let (member, member_vars) = member_stack(&global, &global_vars);
    everything.extend(names(&member, &member_vars));
    for region in REGIONS {
        let vars = parameters(&regional, regional_overrides, ADMIN, region);
        everything.extend(names(&regional, &vars));
    }
    everything
}

fn assert_no_collisions(everything: &[Named]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for named in everything {
        valid(named)?;
        if !seen.insert((named.scope.clone(), named.kind, named.name.clone())) {
            return Err(format!("{named:?} is named twice"));
        }
    }
    Ok(())
}

#[test]
fn three_regions_and_the_organization_template_name_nothing_twice() {
    let everything = deployment(&BTreeMap::new(), &BTreeMap::new());
    assert_no_collisions(&everything).unwrap();
    let roles: BTreeSet<&str> = everything
        .iter()
        .filter(|n| n.scope == format!("iam {ADMIN}"))
        .map(|n| n.name.as_str())
        .collect();
    // One function role per region: deploying a fourth region adds a fourth name.
    for region in REGIONS {
        assert!(
            roles.contains(format!("sagemaker14-rule-function-{region}").as_str()),
            "{roles:?}"
        );
    }
    // Everything regional is in each region once.
    for region in REGIONS {
        let rules = everything
            .iter()
            .filter(|n| {
                n.scope == format!("{ADMIN} {region}")
                    && n.kind == "AWS::Config::OrganizationConfigRule"
            })
            .count();
        assert_eq!(rules, 1, "{region}");
    }
    // The once-per-organization resources exist once, in the home region only.
    let once: Vec<&Named> = everything
        .iter()
        .filter(|n| n.kind == "AWS::CloudFormation::StackSet")
        .collect();
    assert_eq!(once.len(), 1, "{once:?}");
}

/// The statements of a role's trust policy.
fn trust(stack: &Value, role: &str) -> Vec<Value> {
    stack["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        .as_array()
        .unwrap_or_else(|| panic!("{role} has a trust policy"))
        .clone()
}

/// Whether `statements` let the principal `arn` assume the role (`aws:PrincipalArn` is the
/// role's ARN, path included, whatever the session).
fn may_assume(statements: &[Value], arn: &str, vars: &Vars) -> bool {
    let request = Request::new("sts:AssumeRole")
        .by(Principal::Arn(arn))
        .with("aws:PrincipalArn", &[arn]);
    allowed(statements, &request, vars)
}

#[test]
fn member_roles_trust_every_regions_function_role_and_no_other_role() {
    let global = template("template-org-global.yaml");
    let regional = template("template-org.yaml");
    let global_vars = global_context(&global, &BTreeMap::new());
    let (member, member_vars) = member_stack(&global, &global_vars);
    let statements = trust(&member, "MemberRole");
    let role_arn = |account: &str, name: &str| format!("arn:aws:iam::{account}:role/{name}");
    for region in REGIONS {
        let vars = parameters(&regional, &BTreeMap::new(), ADMIN, region);
        let name = render(
            &regional["Resources"]["RuleFunctionRole"]["Properties"]["RoleName"],
            &vars,
        );
        assert!(
            may_assume(&statements, &role_arn(ADMIN, &name), &member_vars),
            "{name}"
        );
        // The function acts as the member role its rule names.
        let input = &regional["Resources"]["OrganizationRule"]["Properties"]["OrganizationCustomRuleMetadata"]
            ["InputParameters"]["Fn::ToJsonString"];
        assert_eq!(
            render(&input["ExecutionRoleName"], &vars),
            render(
                &member["Resources"]["MemberRole"]["Properties"]["RoleName"],
                &member_vars
            )
        );
    }
    // Whoever may create a role in the administrator account must not be able to name one
    // that the member roles trust, by name, by path, or by a region not deployed; nor may
    // the roles these templates create (should the administrator account be a member too).
    let prefix = &global_vars["FunctionRolePrefix"];
    let mut impostors = vec![
        role_arn(ADMIN, &format!("{prefix}-anything")),
        role_arn(ADMIN, &format!("{prefix}-us-east-1-copy")),
        role_arn(ADMIN, &format!("{prefix}-x/anything")),
        role_arn(ADMIN, &format!("{prefix}-x/{prefix}-us-east-1")),
        role_arn(ADMIN, &format!("service-role/{prefix}-us-east-1")),
        role_arn(ADMIN, &format!("{prefix}-ap-northeast-3")),
        role_arn(MEMBER, &format!("{prefix}-us-east-1")),
    ];
    let mut with_audit = global_vars.clone();
    with_audit.insert(
        "AuditPrincipalArns".into(),
        role_arn(ADMIN, "SecurityAudit"),
    );
    let (audited, audited_vars) = member_stack(&global, &with_audit);
    impostors.extend(
        names(&audited, &audited_vars)
            .into_iter()
            .chain(names(&global, &with_audit))
            .map(|named| role_arn(ADMIN, &named.name)),
    );
    for impostor in impostors {
        assert!(
            !may_assume(&statements, &impostor, &member_vars),
            "{impostor} is trusted"
        );
    }
}

#[test]
fn the_audit_role_trusts_exactly_the_audit_principals() {
    let global = template("template-org-global.yaml");
    let principals = [
        format!("arn:aws:iam::{ADMIN}:role/SecurityAudit"),
        format!(
            "arn:aws:iam::{ADMIN}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Audit_0123456789abcdef"
        ),
    ];
    let vars = global_context(
        &global,
        &BTreeMap::from([("AuditPrincipalArns".to_owned(), principals.join(","))]),
    );
    let (member, member_vars) = member_stack(&global, &vars);
    let prefix = &vars["FunctionRolePrefix"];
    // The audit role in every member, and the aggregator's in the administrator account.
    for (stack, role, vars) in [
        (&member, "AuditRole", &member_vars),
        (&global, "AggregatorAuditRole", &vars),
    ] {
        let statements = trust(stack, role);
        for principal in &principals {
            assert!(
                may_assume(&statements, principal, vars),
                "{role}: {principal}"
            );
        }
        for other in [
            format!("arn:aws:iam::{ADMIN}:role/SecurityAudit-copy"),
            format!("arn:aws:iam::{ADMIN}:role/{prefix}-us-east-1"),
            format!("arn:aws:iam::{ADMIN}:role/{prefix}-anything"),
            format!("arn:aws:iam::{MEMBER}:role/SecurityAudit"),
        ] {
            assert!(
                !may_assume(&statements, &other, vars),
                "{role}: {other} is trusted"
            );
        }
    }
}

/// The longest `ConfigRuleName` Config's `GetComplianceDetailsByConfigRule` accepts
/// (`StringWithCharLimit64` in the API model), the call that reads a rule's held results back.
const READABLE_RULE_NAME: usize = 64;
/// What Config appends to an organization rule's name in each member account, where the rule
/// is `OrgConfigRule-<name>-<suffix>`: eight characters in the names AWS shows
/// (`OrgConfigRule-s3-bucket-versioning-enabled-dbgzf8ba`, the Audit Manager API reference).
const MEMBER_RULE_SUFFIX: &str = "dbgzf8ba";

/// Whether a parameter's AllowedPattern (matched whole, as CloudFormation does) and MaxLength
/// admit `value`.
fn admits(spec: &Value, value: &str) -> bool {
    let pattern = spec["AllowedPattern"].as_str().unwrap_or(".*");
    let whole = Regex::new(&format!("^(?:{pattern})$")).unwrap();
    let max = spec["MaxLength"]
        .as_u64()
        .map_or(usize::MAX, |max| max as usize);
    value.chars().count() <= max && whole.is_match(value)
}

/// The rule names a template's RuleName becomes where Config reads results back: the account
/// template's rule and its job-definition rule, or the organization rule in a member account.
fn rule_names(path: &str, rule_name: &str) -> Vec<String> {
    let template = template(path);
    let overrides = BTreeMap::from([("RuleName".to_owned(), rule_name.to_owned())]);
    let vars = parameters(&template, &overrides, MEMBER, REGIONS[0]);
    let resources = &template["Resources"];
    if path == "template-org.yaml" {
        let name = render(
            &resources["OrganizationRule"]["Properties"]["OrganizationConfigRuleName"],
            &vars,
        );
        vec![format!("OrgConfigRule-{name}-{MEMBER_RULE_SUFFIX}")]
    } else {
        ["Rule", "JobDefinitionRule"]
            .iter()
            .map(|rule| render(&resources[rule]["Properties"]["ConfigRuleName"], &vars))
            .collect()
    }
}

fn longest_rule_name(path: &str) -> usize {
    rule_names(path, "r").iter().map(String::len).max().unwrap()
}

#[test]
fn the_longest_rule_name_a_template_admits_is_one_config_can_read_back() {
    for path in ["template.yaml", "template-org.yaml"] {
        let spec = &template(path)["Parameters"]["RuleName"];
        let longest = (1..=256)
            .rev()
            .find(|&n| admits(spec, &"r".repeat(n)))
            .unwrap_or_else(|| panic!("{path} admits no RuleName"));
        for rule in rule_names(path, &"r".repeat(longest)) {
            assert!(
                rule.len() <= READABLE_RULE_NAME,
                "{path}: RuleName of {longest} characters makes {rule} ({} characters)",
                rule.len()
            );
        }
        let why = spec["ConstraintDescription"].as_str().unwrap_or_default();
        assert!(why.contains("64"), "{path}: the refusal says why: {why:?}");
    }
}

#[test]
fn a_rule_name_config_could_not_read_back_is_refused() {
    for path in ["template.yaml", "template-org.yaml"] {
        let spec = &template(path)["Parameters"]["RuleName"];
        // The RuleName whose longest effective name is one character too long for Config.
        let overhead = longest_rule_name(path) - 1;
        let name = "r".repeat(READABLE_RULE_NAME + 1 - overhead);
        let longest = rule_names(path, &name)
            .into_iter()
            .max_by_key(String::len)
            .unwrap();
        assert_eq!(longest.len(), READABLE_RULE_NAME + 1, "{longest}");
        assert!(
            !admits(spec, &name),
            "{path} admits a RuleName of {} characters, which makes {longest}",
            name.len()
        );
    }
}

/// The IAM action behind an operation the fake answered; `None` for what the caller's own
/// credentials do (AssumeRole) or what needs no permission (GetCallerIdentity).
fn iam_action(operation: &str) -> Option<String> {
    let service = match operation {
        "AssumeRole" | "GetCallerIdentity" => return None,
        "ListRegions" => "account",
        "ListAccounts" => "organizations",
        "ListDiscoveredResources"
        | "GetResourceConfigHistory"
        | "GetComplianceDetailsByConfigRule"
        | "PutEvaluations"
        | "ListAggregateDiscoveredResources"
        | "BatchGetAggregateResourceConfig"
        | "GetAggregateComplianceDetailsByConfigRule" => "config",
        sagemaker
            if sagemaker.contains("MonitoringSchedule")
                || sagemaker.contains("JobDefinition")
                || sagemaker == "ListTags" =>
        {
            "sagemaker"
        }
        other => panic!("which service answers {other}?"),
    };
    Some(format!("{service}:{operation}"))
}

/// The IAM actions behind the calls the fake answered in `account`.
fn actions_called(fake: &fake_aws::FakeAws, account: &str) -> BTreeSet<String> {
    fake.calls()
        .into_iter()
        .filter(|call| call.account == account)
        .filter_map(|call| iam_action(&call.operation))
        .collect()
}

#[test]
fn the_audit_role_may_make_every_call_audit_makes() {
    let global = template("template-org-global.yaml");
    let overrides = BTreeMap::from([(
        "AuditPrincipalArns".to_owned(),
        format!("arn:aws:iam::{ADMIN}:role/SecurityAudit"),
    )]);
    let (member, member_vars) = member_stack(&global, &global_context(&global, &overrides));
    let audit_role = &member["Resources"]["AuditRole"];
    let granted = actions(&role_statements(audit_role), &member_vars);
    let role = render(&audit_role["Properties"]["RoleName"], &member_vars);

    // A member account holding what the sample account holds, audited both ways.
    let mut seed = sample_seed();
    seed.accounts
        .insert(MEMBER.to_owned(), seed.account.clone());
    let fake = start(seed);
    for control in [None, Some("--job-definitions")] {
        let mut args = vec![
            "audit",
            "--json",
            "--accounts",
            MEMBER,
            "--role",
            &role,
            "--regions",
            "all",
        ];
        args.extend(control);
        let audited = run(&fake, &args, None, &[]);
        assert!(
            matches!(audited.code, 0 | 3),
            "{args:?} read everything: {}",
            audited.stderr
        );
    }
    let called = actions_called(&fake, MEMBER);
    assert!(
        called.contains("sagemaker:ListModelBiasJobDefinitions"),
        "the job-definition audit listed job definitions: {called:?}"
    );
    let missing: Vec<&String> = called
        .iter()
        .filter(|action| !granted.iter().any(|g| g.eq_ignore_ascii_case(action)))
        .collect();
    assert!(missing.is_empty(), "the audit role cannot call {missing:?}");
}

#[test]
fn the_aggregator_audit_role_may_make_every_call_audit_aggregator_makes_on_that_aggregator_only() {
    let global = template("template-org-global.yaml");
    let aggregator = |id: &str| {
        format!(
            "arn:aws:config:{}:{ADMIN}:config-aggregator/config-aggregator-{id}",
            REGIONS[0]
        )
    };
    let principals = (
        "AuditPrincipalArns".to_owned(),
        format!("arn:aws:iam::{ADMIN}:role/SecurityAudit"),
    );
    let context = |overrides: &[(String, String)]| {
        let mut vars = global_context(&global, &overrides.iter().cloned().collect());
        // Known once CloudFormation has created it.
        vars.insert(
            "OrganizationAggregator.ConfigurationAggregatorArn".into(),
            aggregator("deployed1"),
        );
        with_conditions(&global, vars)
    };
    // The role exists only for audit principals and an aggregator to read.
    let deploy = ("DeployAggregator".to_owned(), "true".to_owned());
    let existing = ("AuditAggregatorArn".to_owned(), aggregator("existing1"));
    for alone in [&principals, &deploy] {
        let vars = context(std::slice::from_ref(alone));
        assert!(!condition(&vars, "HasAggregatorAudit"), "{alone:?}");
    }

    // Every call `audit --aggregator --rule` makes, as the fake saw them.
    let fake = start(sample_seed());
    fake.with_state(|state| {
        state
            .aggregators
            .owners
            .insert("org".into(), support::ACCOUNT.into())
    });
    let audited = run(
        &fake,
        &["audit", "--aggregator", "org", "--rule", "r", "--json"],
        None,
        &[],
    );
    assert!(
        matches!(audited.code, 0 | 3),
        "read everything: {}",
        audited.stderr
    );
    let called = actions_called(&fake, support::ACCOUNT);
    assert_eq!(called.len(), 3, "{called:?}");

    let role = &global["Resources"]["AggregatorAuditRole"];
    assert_eq!(role["Condition"], "HasAggregatorAudit");
    for (overrides, arn) in [
        (vec![principals.clone(), deploy], aggregator("deployed1")),
        (vec![principals.clone(), existing], aggregator("existing1")),
    ] {
        let vars = context(&overrides);
        assert!(condition(&vars, "HasAggregatorAudit"), "{overrides:?}");
        let statements = role_statements(role);
        for action in &called {
            let on =
                |resource: &str| allowed(&statements, &Request::new(action).on(resource), &vars);
            assert!(on(&arn), "{action} on {arn}");
            assert!(
                !on(&aggregator("another1")),
                "{action} on another aggregator"
            );
        }
        for action in [
            "config:PutEvaluations",
            "config:SelectAggregateResourceConfig",
        ] {
            assert!(
                !allowed(&statements, &Request::new(action).on(&arn), &vars),
                "{action}"
            );
        }
    }
}

/// Values each parameter admits: from its AllowedPattern (anchors dropped: CloudFormation
/// matches the whole value anyway), cut to its MaxLength, or one of its AllowedValues.
fn admitted(spec: &Value) -> BoxedStrategy<String> {
    if let Some(values) = spec["AllowedValues"].as_array() {
        let values: Vec<String> = values
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        return proptest::sample::select(values).boxed();
    }
    if spec["Type"] == "Number" {
        let (min, max) = (
            spec["MinValue"].as_i64().unwrap(),
            spec["MaxValue"].as_i64().unwrap(),
        );
        return (min..=max).prop_map(|n| n.to_string()).boxed();
    }
    let pattern = spec["AllowedPattern"]
        .as_str()
        .unwrap_or(".*")
        .trim_start_matches('^')
        .trim_end_matches('$')
        .to_owned();
    let max = spec["MaxLength"].as_u64().map(|n| n as usize);
    proptest::string::string_regex(&pattern)
        .unwrap_or_else(|e| panic!("{pattern}: {e}"))
        .prop_filter("within MaxLength", move |value| {
            max.is_none_or(|max| value.chars().count() <= max)
        })
        .boxed()
}

fn strategy(template: &Value, names: &[&str]) -> BoxedStrategy<BTreeMap<String, String>> {
    let parameters = &template["Parameters"];
    names
        .iter()
        .map(|name| {
            let name = (*name).to_owned();
            admitted(&parameters[&name])
                .prop_map(move |value| (name.clone(), value))
                .boxed()
        })
        .collect::<Vec<_>>()
        .prop_map(|pairs| pairs.into_iter().collect())
        .boxed()
}

#[test]
fn every_allowed_name_renders_valid_names_that_do_not_collide() {
    let global = template("template-org-global.yaml");
    let regional = template("template-org.yaml");
    let global_names = strategy(
        &global,
        &[
            "StackSetName",
            "MemberRoleName",
            "FunctionRolePrefix",
            "AuditRoleName",
            "AggregatorName",
            "AggregatorAuditRoleName",
        ],
    );
    let regional_names = strategy(&regional, &["RuleName", "FunctionRolePrefix"]);
    let mut runner = TestRunner::new(ProptestConfig::with_cases(256));
    runner
        .run(&(global_names, regional_names), |(global, mut regional)| {
            // The two templates are deployed with the same prefix, as the README says.
            regional.insert(
                "FunctionRolePrefix".into(),
                global["FunctionRolePrefix"].clone(),
            );
            // The member and audit roles are one stack's: equal names are the one collision a
            // user can type, and CloudFormation refuses it.
            prop_assume!(global["MemberRoleName"] != global["AuditRoleName"]);
            assert_no_collisions(&deployment(&global, &regional)).map_err(TestCaseError::fail)
        })
        .unwrap();
}

#[test]
fn input_parameters_fit_config_and_parse_for_every_allowed_value() {
    let regional = template("template-org.yaml");
    let input = &regional["Resources"]["OrganizationRule"]["Properties"]["OrganizationCustomRuleMetadata"]
        ["InputParameters"]["Fn::ToJsonString"];
    let references: Vec<String> = input
        .as_object()
        .unwrap()
        .values()
        .map(|value| value["Ref"].as_str().unwrap().to_owned())
        .collect();
    let names: Vec<&str> = references.iter().map(String::as_str).collect();
    let render_with = |overrides: &BTreeMap<String, String>| {
        let vars = parameters(&regional, overrides, ADMIN, REGIONS[0]);
        let object: serde_json::Map<String, Value> = input
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(render(value, &vars))))
            .collect();
        // What Fn::ToJsonString produces: compact JSON, every parameter a string.
        Value::Object(object).to_string()
    };
    // The longest value of each free-text parameter at once: its MaxLength (the role name's
    // pattern allows 64), in the shape it must have.
    let max_length = |name: &str| {
        regional["Parameters"][name]["MaxLength"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} has no MaxLength")) as usize
    };
    let tag = max_length("ExemptTag");
    let patterns = max_length("ExemptNamePatterns");
    let longest: BTreeMap<String, String> = [
        ("MemberRoleName", "r".repeat(64)),
        (
            "ExemptTag",
            format!("{}={}", "k".repeat(tag / 2), "v".repeat(tag - tag / 2 - 1)),
        ),
        (
            "ExemptNamePatterns",
            "p*,".repeat(patterns / 3) + &"p".repeat(patterns % 3),
        ),
        ("MaxCallsPerSecond", "1000".into()),
        ("DescribeConcurrency", "50".into()),
        ("ResultRefreshDays", "365".into()),
        ("StrictReading", "false".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(longest["ExemptTag"].len(), tag);
    assert_eq!(longest["ExemptNamePatterns"].len(), patterns);
    let json = render_with(&longest);
    assert!(json.len() <= 1024, "{} characters", json.len());
    RuleParams::parse(Some(&json)).unwrap_or_else(|e| panic!("{e}: {json}"));
    let mut runner = TestRunner::new(ProptestConfig::with_cases(256));
    runner
        .run(&strategy(&regional, &names), |values| {
            let json = render_with(&values);
            prop_assert!(json.len() <= 1024, "{} characters: {json}", json.len());
            prop_assert!(RuleParams::parse(Some(&json)).is_ok(), "{json}");
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_rule_waits_for_the_invoke_permissions_and_the_transforms_are_in_order() {
    let regional = template("template-org.yaml");
    assert_eq!(
        regional["Transform"],
        serde_json::json!(["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"])
    );
    let resources = &regional["Resources"];
    assert_eq!(
        resources["OrganizationRule"]["DependsOn"],
        "InvokePermissionsReady"
    );
    let waits_for = &resources["InvokePermissionsReady"]["Metadata"]["Permissions"]["Fn::If"];
    assert_eq!(waits_for[1]["Ref"], "ConfigInvokeFromThisAccount");
    assert_eq!(waits_for[2]["Ref"], "ConfigInvokePermission");
    // With a list of accounts, one permission per account, each for that account only.
    let each = &resources["Fn::ForEach::MemberInvokePermissions"];
    assert_eq!(each[1]["Ref"], "MemberAccountIds");
    let permission = &each[2]["ConfigInvokeFrom${AccountId}"]["Properties"];
    assert_eq!(permission["Principal"], "config.amazonaws.com");
    assert_eq!(permission["SourceAccount"]["Ref"], "AccountId");
}

#[test]
#[ignore = "needs cfn-lint in .venv; `make test` installs it and runs this test"]
fn the_member_stack_inside_the_stack_set_passes_cfn_lint() {
    // cfn-lint reads the StackSet's template body as a string; lint it as the template it is.
    let cfn_lint = root().join(".venv/bin/cfn-lint");
    assert!(
        cfn_lint.exists(),
        "cfn-lint is not installed: `scripts/tools`"
    );
    let global = template("template-org-global.yaml");
    let body = member_body(&global, &global_context(&global, &BTreeMap::new()));
    let path = std::env::temp_dir().join(format!("member-stack-{}.yaml", std::process::id()));
    std::fs::write(&path, body).unwrap();
    let output = std::process::Command::new(cfn_lint)
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
