//! The organization templates rendered as CloudFormation would render them: the once-per-
//! organization template in the administrator account, the regional one in three regions. Names
//! must be valid for every allowed parameter value and must not collide (IAM is global, the rest
//! regional); each region's function role must be one the member roles trust, and nothing else
//! may be, as IAM evaluates their trust; the audit role may make every call `audit` makes; the
//! rule parameters must fit Config's 1,024 characters and parse; and no rule name a template
//! admits may be longer than Config reads results back by. At scale: the member account lists
//! the regional template admits are exactly those whose function policy, resources and
//! parameter fit what Lambda and CloudFormation take; and the organization conformance pack is
//! the organization rule, within Config's limits for a pack.

use crate::foreach::expand_resources;
use crate::lambda_policy::{
    self, FUNCTION_ARN_CHARS, FUNCTION_NAME_CHARS, POLICY_BYTES, STATEMENT_ID_CHARS,
    service_statement,
};
use crate::policy::{
    Principal, Request, Vars, actions, allowed, condition, deployed_statements, parameters, render,
    role_statements, with_conditions,
};
use crate::support::{root, run, sample_seed, start};
use monitoring_schedule_isolation::{RuleParams, Template};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use regex::Regex;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const ADMIN: &str = "111111111111";
/// The organization conformance pack's template.
const CONFORMANCE_PACK: &str = "conformance-pack.yaml";
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
        // Any other role or principal: unrelated names, the account itself, another account.
        role_arn(ADMIN, "Admin"),
        role_arn(ADMIN, "OrganizationAccountAccessRole"),
        format!("arn:aws:iam::{ADMIN}:root"),
        format!("arn:aws:iam::{ADMIN}:user/{prefix}-us-east-1"),
        role_arn("999999999999", &format!("{prefix}-us-east-1")),
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
/// What Config appends to a conformance pack's rule in each account, where the rule is
/// `<name>-conformance-pack-<suffix>`: nine characters in every such name published
/// (`vpc-flow-logs-enabled-conformance-pack-8bzjqtjiy`,
/// `cmk-backing-key-rotation-enabled-conformance-pack-j3wepwlkw`); not documented.
const CONFORMANCE_PACK_RULE_SUFFIX: &str = "-conformance-pack-hbmlt5imw";

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
/// template's rule and its job-definition rule, the organization rule in a member account, or
/// the conformance pack's rule there.
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
    } else if path == CONFORMANCE_PACK {
        let name = render(&resources["Rule"]["Properties"]["ConfigRuleName"], &vars);
        vec![format!("{name}{CONFORMANCE_PACK_RULE_SUFFIX}")]
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
    for path in ["template.yaml", "template-org.yaml", CONFORMANCE_PACK] {
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
    for path in ["template.yaml", "template-org.yaml", CONFORMANCE_PACK] {
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
        assert!(
            !condition(&global, "HasAggregatorAudit", &vars),
            "{alone:?}"
        );
    }

    // Every call `audit --aggregator --rule` makes, as the fake saw them.
    let fake = start(sample_seed());
    fake.with_state(|state| {
        state
            .aggregators
            .owners
            .insert("org".into(), crate::support::ACCOUNT.into())
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
    let called = actions_called(&fake, crate::support::ACCOUNT);
    assert_eq!(called.len(), 3, "{called:?}");

    let role = &global["Resources"]["AggregatorAuditRole"];
    assert_eq!(role["Condition"], "HasAggregatorAudit");
    for (overrides, arn) in [
        (vec![principals.clone(), deploy], aggregator("deployed1")),
        (vec![principals.clone(), existing], aggregator("existing1")),
    ] {
        let vars = context(&overrides);
        assert!(
            condition(&global, "HasAggregatorAudit", &vars),
            "{overrides:?}"
        );
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

/// The rule's InputParameters in each template that passes them as a member role's rule: the
/// organization rule's (built with Fn::ToJsonString) and the conformance pack's rule's.
fn input_parameters(path: &str) -> Value {
    let resources = &template(path)["Resources"];
    if path == CONFORMANCE_PACK {
        resources["Rule"]["Properties"]["InputParameters"].clone()
    } else {
        resources["OrganizationRule"]["Properties"]["OrganizationCustomRuleMetadata"]
            ["InputParameters"]["Fn::ToJsonString"]
            .clone()
    }
}

#[test]
fn input_parameters_fit_config_and_parse_for_every_allowed_value() {
    for path in ["template-org.yaml", CONFORMANCE_PACK] {
        input_parameters_fit_and_parse(path);
    }
}

fn input_parameters_fit_and_parse(path: &str) {
    let regional = template(path);
    let input = input_parameters(path);
    let references: Vec<String> = input
        .as_object()
        .unwrap()
        .values()
        .map(|value| value["Ref"].as_str().unwrap().to_owned())
        .collect();
    let names: Vec<&str> = references.iter().map(String::as_str).collect();
    // What Fn::ToJsonString produces: compact JSON, every parameter a string. CloudFormation
    // turns the conformance pack's InputParameters object into a string too, in a form it does
    // not document: a space after every colon and comma must still fit.
    let spacing = match path {
        CONFORMANCE_PACK => input.as_object().unwrap().len() * 2,
        _ => 0,
    };
    let render_with = |overrides: &BTreeMap<String, String>| {
        let vars = parameters(&regional, overrides, ADMIN, REGIONS[0]);
        let object: serde_json::Map<String, Value> = input
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(render(value, &vars))))
            .collect();
        Value::Object(object).to_string()
    };
    // The longest value of each free-text parameter at once: its MaxLength (the role name's
    // pattern allows 64), in the shape it must have.
    let max_length = |name: &str| {
        regional["Parameters"][name]["MaxLength"]
            .as_u64()
            .unwrap_or_else(|| panic!("{path}: {name} has no MaxLength")) as usize
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
        ("SecurityHub", "suppress".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(longest["ExemptTag"].len(), tag);
    assert_eq!(longest["ExemptNamePatterns"].len(), patterns);
    for (name, value) in &longest {
        assert!(
            admits_value(&regional["Parameters"][name], value),
            "{path} admits {name}={value}"
        );
    }
    let json = render_with(&longest);
    assert!(
        json.len() + spacing <= 1024,
        "{path}: {} characters",
        json.len()
    );
    RuleParams::parse(Some(&json)).unwrap_or_else(|e| panic!("{path}: {e}: {json}"));
    let mut runner = TestRunner::new(ProptestConfig::with_cases(256));
    runner
        .run(&strategy(&regional, &names), |values| {
            let json = render_with(&values);
            prop_assert!(
                json.len() + spacing <= 1024,
                "{} characters: {json}",
                json.len()
            );
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

/// The `Note.UpdatedBy` the rule signs its notes with (`core/security_hub.rs`).
const MARKER: &str = "sagemaker-monitoring-schedule-isolation";

/// The role that reconciles Security Hub's findings, as deployed with `SecurityHub=mode`: the
/// account template's function role, the organization's regional one (for the administrator
/// account) and the member role, each with the hub it may act on (its account's, in a region
/// it judges) and one it must not (another account's).
fn reconciling_roles(mode: &str) -> Vec<(String, Vec<Value>, Vars, String, String)> {
    let with = BTreeMap::from([("SecurityHub".to_owned(), mode.to_owned())]);
    let hub =
        |account: &str, region: &str| format!("arn:aws:securityhub:{region}:{account}:hub/default");
    let mut roles = Vec::new();
    for path in ["template.yaml", "template-org.yaml"] {
        let template = template(path);
        let vars = with_conditions(&template, parameters(&template, &with, ADMIN, REGIONS[1]));
        let role = &template["Resources"]["RuleFunctionRole"];
        roles.push((
            path.to_owned(),
            deployed_statements(role, &vars),
            vars,
            hub(ADMIN, REGIONS[1]),
            hub(MEMBER, REGIONS[1]),
        ));
    }
    let global = template("template-org-global.yaml");
    let (member, member_vars) = member_stack(&global, &global_context(&global, &with));
    let member_vars = with_conditions(&member, member_vars);
    roles.push((
        "the member role".to_owned(),
        deployed_statements(&member["Resources"]["MemberRole"], &member_vars),
        member_vars,
        hub(MEMBER, REGIONS[2]),
        hub(ADMIN, REGIONS[2]),
    ));
    roles
}

const NOTE_TEXT: &str = "securityhub:ASFFSyntaxPath/Note.Text";
const NOTE_BY: &str = "securityhub:ASFFSyntaxPath/Note.UpdatedBy";
const STATUS: &str = "securityhub:ASFFSyntaxPath/Workflow.Status";

/// A BatchUpdateFindings request on `hub` that sets a note signed with the rule's marker.
fn signed(hub: &str) -> Request<'_> {
    Request::new("securityhub:BatchUpdateFindings")
        .on(hub)
        .with(NOTE_TEXT, &["Network isolation is on: ..."])
        .with(NOTE_BY, &[MARKER])
}

#[test]
fn security_hub_rights_come_with_the_parameter_and_cover_only_the_rules_note_and_status() {
    for mode in ["off", "annotate", "suppress"] {
        for (role, statements, vars, hub, other_hub) in reconciling_roles(mode) {
            let may = |request: Request<'_>| allowed(&statements, &request, &vars);
            let on = mode != "off";
            let what = format!("{role}, SecurityHub={mode}");
            assert_eq!(
                may(Request::new("securityhub:GetFindings").on(&hub)),
                on,
                "{what}"
            );
            assert_eq!(may(signed(&hub)), on, "{what}: a note");
            assert_eq!(
                may(signed(&hub).with(STATUS, &["NOTIFIED"])),
                on,
                "{what}: reopen"
            );
            assert_eq!(
                may(signed(&hub).with(STATUS, &["SUPPRESSED"])),
                mode == "suppress",
                "{what}: suppress"
            );
            for (field, value) in [
                (STATUS, "RESOLVED"),
                (STATUS, "NEW"),
                ("securityhub:ASFFSyntaxPath/Severity.Label", "INFORMATIONAL"),
                (
                    "securityhub:ASFFSyntaxPath/VerificationState",
                    "BENIGN_POSITIVE",
                ),
                ("securityhub:ASFFSyntaxPath/UserDefinedFields.key", "k"),
                ("securityhub:ASFFSyntaxPath/Types", "x"),
            ] {
                assert!(
                    !may(signed(&hub).with(field, &[value])),
                    "{what}: {field}={value}"
                );
            }
            assert!(
                !may(signed(&hub).with(NOTE_BY, &["someone-else"])),
                "{what}: another's note"
            );
            let unsigned = Request::new("securityhub:BatchUpdateFindings")
                .on(&hub)
                .with(STATUS, &["SUPPRESSED"]);
            assert!(!may(unsigned), "{what}: a status with no note");
            assert!(!may(signed(&other_hub)), "{what}: another account's hub");
            assert!(
                !may(Request::new("securityhub:GetFindings").on(&other_hub)),
                "{what}: another account's findings"
            );
        }
    }
}

#[test]
fn the_audit_role_reads_findings_only_when_security_hub_is_on() {
    let global = template("template-org-global.yaml");
    for mode in ["off", "annotate"] {
        let overrides = BTreeMap::from([
            ("SecurityHub".to_owned(), mode.to_owned()),
            (
                "AuditPrincipalArns".to_owned(),
                format!("arn:aws:iam::{ADMIN}:role/SecurityAudit"),
            ),
        ]);
        let (member, vars) = member_stack(&global, &global_context(&global, &overrides));
        let vars = with_conditions(&member, vars);
        let statements = deployed_statements(&member["Resources"]["AuditRole"], &vars);
        let hub = format!("arn:aws:securityhub:{}:{MEMBER}:hub/default", REGIONS[0]);
        let read = Request::new("securityhub:GetFindings").on(&hub);
        assert_eq!(allowed(&statements, &read, &vars), mode != "off", "{mode}");
        let write = Request::new("securityhub:BatchUpdateFindings").on(&hub);
        assert!(!allowed(&statements, &write, &vars), "{mode}");
    }
}

/// cfn-lint (from .venv) on one template file; its findings on failure.
fn cfn_lint(path: &std::path::Path) {
    let cfn_lint = root().join(".venv/bin/cfn-lint");
    assert!(
        cfn_lint.exists(),
        "cfn-lint is not installed: `scripts/tools`"
    );
    let output = std::process::Command::new(cfn_lint)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}: {}{}",
        path.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "needs cfn-lint in .venv; `make test` installs it and runs this test"]
fn the_member_stack_inside_the_stack_set_passes_cfn_lint() {
    // cfn-lint reads the StackSet's template body as a string; lint it as the template it is.
    let global = template("template-org-global.yaml");
    let body = member_body(&global, &global_context(&global, &BTreeMap::new()));
    let path = std::env::temp_dir().join(format!("member-stack-{}.yaml", std::process::id()));
    std::fs::write(&path, body).unwrap();
    let linted = std::panic::catch_unwind(|| cfn_lint(&path));
    let _ = std::fs::remove_file(&path);
    linted.unwrap();
}

/// Whether a parameter admits `value` as CloudFormation checks it: AllowedValues, a Number's
/// MinValue and MaxValue, or a string's AllowedPattern (matched whole) and MaxLength.
fn admits_value(spec: &Value, value: &str) -> bool {
    if let Some(values) = spec["AllowedValues"].as_array() {
        return values
            .iter()
            .any(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned) == value);
    }
    if spec["Type"] == "Number" {
        let Ok(number) = value.parse::<i64>() else {
            return false;
        };
        return spec["MinValue"].as_i64().is_none_or(|min| number >= min)
            && spec["MaxValue"].as_i64().is_none_or(|max| number <= max);
    }
    admits(spec, value)
}

/// Whether a CommaDelimitedList parameter admits `value`: AllowedPattern matched against each
/// item (CloudFormation's documented rule for lists), MaxLength against the value as passed
/// (documented for strings; how CloudFormation applies it to a list is not verified without
/// AWS).
fn admits_list(spec: &Value, value: &str) -> bool {
    let max = spec["MaxLength"]
        .as_u64()
        .map_or(usize::MAX, |max| max as usize);
    let pattern = spec["AllowedPattern"].as_str().unwrap_or(".*");
    let item = Regex::new(&format!("^(?:{pattern})$")).unwrap();
    value.chars().count() <= max && value.split(',').all(|each| item.is_match(each))
}

// Deployments that scale: what template-org.yaml makes for a list of member accounts, against
// the limits a deployment meets.

/// CloudFormation's quotas (the CloudFormation User Guide, "Understand CloudFormation quotas"),
/// met before anything is created; `Fn::ForEach` changes none, they apply to the processed
/// template: its resources, a parameter's value, the template body in a request and in S3.
const STACK_RESOURCES: usize = 500;
const PARAMETER_VALUE_BYTES: usize = 4_096;
const TEMPLATE_BODY_BYTES: usize = 51_200;
const TEMPLATE_IN_S3_BYTES: usize = 1_048_576;
/// The regional stack's name as `make deploy-org` names it (ORG_STACK).
const ORG_STACK: &str = "sagemaker14-organization";

/// A name CloudFormation gives a resource it names itself, `<stack>-<logical id>-<12
/// characters>` (a Lambda permission's statement id is one: `MythicalMisfitsStack-<logical
/// id>-z6K0tP6e6kbE` in a deployment LocalStack recorded against AWS), cut to what the service
/// takes.
fn generated_name(stack: &str, logical_id: &str, limit: usize) -> String {
    let mut name = format!("{stack}-{logical_id}-z6K0tP6e6kbE");
    name.truncate(limit);
    name
}

/// `n` distinct member account ids.
fn member_ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{:012}", 200_000_000_000 + i))
        .collect()
}

/// What template-org.yaml asks of CloudFormation and Lambda for a list of member accounts, in
/// one region.
#[derive(Debug)]
struct Scale {
    /// MemberAccountIds as passed: the ids and their commas.
    parameter_bytes: usize,
    /// Whether the template's constraints admit the list.
    admitted: bool,
    /// Resources in the processed template (the SAM function becomes one function).
    resources: usize,
    /// The processed template, compact JSON, before the SAM transform.
    processed_bytes: usize,
    /// The function's policy with the statements the stack adds, the stack named ORG_STACK.
    policy_bytes: usize,
    /// The same with the longest statement id and function ARN Lambda takes: a bound for any
    /// stack name, region and partition.
    policy_bound_bytes: usize,
}

impl Scale {
    fn of(regional: &Value, accounts: usize, region: &str) -> Scale {
        let ids = member_ids(accounts).join(",");
        let overrides = BTreeMap::from([("MemberAccountIds".to_owned(), ids.clone())]);
        let vars = parameters(regional, &overrides, ADMIN, region);
        let resources = expand_resources(&regional["Resources"], &vars);
        // The SAM transform makes exactly one AWS::Lambda::Function of a function with a role,
        // no events, no alias and no URL: nothing else to count.
        let function = &resources["RuleFunction"]["Properties"];
        assert!(function.get("Role").is_some());
        for adds in [
            "Events",
            "AutoPublishAlias",
            "DeploymentPreference",
            "FunctionUrlConfig",
        ] {
            assert!(function.get(adds).is_none(), "RuleFunction has {adds}");
        }
        let function_name = generated_name(ORG_STACK, "RuleFunction", FUNCTION_NAME_CHARS);
        let function_arn = format!("arn:aws:lambda:{region}:{ADMIN}:function:{function_name}");
        let (mut statements, mut bound) = (Vec::new(), Vec::new());
        let mut holds = BTreeMap::new();
        for (logical_id, resource) in &resources {
            if resource["Type"] != "AWS::Lambda::Permission" {
                continue;
            }
            if let Some(name) = resource["Condition"].as_str()
                && !*holds
                    .entry(name)
                    .or_insert_with(|| condition(regional, name, &vars))
            {
                continue;
            }
            let properties = &resource["Properties"];
            assert_eq!(
                properties["FunctionName"],
                json!({"Fn::GetAtt": ["RuleFunction", "Arn"]}),
                "{logical_id}"
            );
            let service = render(&properties["Principal"], &vars);
            let account = properties.get("SourceAccount").map(|a| render(a, &vars));
            let sid = generated_name(ORG_STACK, logical_id, STATEMENT_ID_CHARS);
            let longest_sid = "s".repeat(STATEMENT_ID_CHARS);
            let longest_arn = "a".repeat(FUNCTION_ARN_CHARS);
            statements.push(service_statement(
                &sid,
                &service,
                &function_arn,
                account.as_deref(),
            ));
            bound.push(service_statement(
                &longest_sid,
                &service,
                &longest_arn,
                account.as_deref(),
            ));
        }
        let mut processed = regional.clone();
        processed["Resources"] = Value::Object(resources.clone());
        Scale {
            parameter_bytes: ids.len(),
            admitted: admits_list(&regional["Parameters"]["MemberAccountIds"], &ids),
            resources: resources.len(),
            processed_bytes: processed.to_string().len(),
            policy_bytes: lambda_policy::document(&statements).len(),
            policy_bound_bytes: lambda_policy::document(&bound).len(),
        }
    }

    /// Whether CloudFormation and Lambda take it whatever the stack's name.
    fn deploys(&self) -> bool {
        self.policy_bound_bytes <= POLICY_BYTES
            && self.resources <= STACK_RESOURCES
            && self.parameter_bytes <= PARAMETER_VALUE_BYTES
            && self.processed_bytes <= TEMPLATE_IN_S3_BYTES
    }
}

/// The most member accounts template-org.yaml admits.
fn most_member_accounts() -> usize {
    let spec = &template("template-org.yaml")["Parameters"]["MemberAccountIds"];
    (1..=1_000)
        .rev()
        .find(|&n| admits_list(spec, &member_ids(n).join(",")))
        .expect("some list is admitted")
}

/// The fewest member accounts at which `breaks` holds (it holds for every larger count).
fn first_breaking(breaks: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (1, 4_096);
    assert!(
        breaks(high) && !breaks(0),
        "the limit breaks between 1 and {high}"
    );
    while low < high {
        let middle = (low + high) / 2;
        if breaks(middle) {
            high = middle
        } else {
            low = middle + 1
        }
    }
    low
}

#[test]
fn member_account_lists_that_cannot_deploy_are_refused_before_cloudformation_starts() {
    let regional = template("template-org.yaml");
    let most = most_member_accounts();
    for accounts in [most, most + 1, 50, 100, 500, 1_000] {
        for region in REGIONS {
            let scale = Scale::of(&regional, accounts, region);
            eprintln!("{region}: {scale:?}");
            assert_eq!(scale.admitted, scale.deploys(), "{region}: {scale:?}");
        }
    }
    // The most the template admits fits whatever the stack's name; one more may not, at the
    // AddPermission that overflows the function's policy, half-way through the stack.
    let edge = Scale::of(&regional, most + 1, REGIONS[0]);
    assert!(edge.policy_bound_bytes > POLICY_BYTES, "{edge:?}");
    assert!(edge.resources <= STACK_RESOURCES && edge.parameter_bytes <= PARAMETER_VALUE_BYTES);
    // 50 accounts fit a stack named as make deploy-org names it, not every name: refused.
    let fifty = Scale::of(&regional, 50, REGIONS[0]);
    assert!(!fifty.admitted);
    assert!(fifty.policy_bytes <= POLICY_BYTES && fifty.policy_bound_bytes > POLICY_BYTES);
    // 100 overflow the policy whatever the name.
    let hundred = Scale::of(&regional, 100, REGIONS[0]);
    assert!(
        !hundred.admitted && hundred.policy_bytes > POLICY_BYTES,
        "{hundred:?}"
    );
    // 500 and 1,000 are past every limit: CloudFormation refuses the parameter and the
    // resource count itself, up front.
    for accounts in [500, 1_000] {
        let scale = Scale::of(&regional, accounts, REGIONS[0]);
        assert!(!scale.admitted);
        assert!(scale.parameter_bytes > PARAMETER_VALUE_BYTES, "{scale:?}");
        assert!(scale.resources > STACK_RESOURCES, "{scale:?}");
    }
    // The template as submitted stays small: the loop is expanded by CloudFormation.
    let body = std::fs::read_to_string(root().join("template-org.yaml")).unwrap();
    assert!(body.len() <= TEMPLATE_BODY_BYTES, "{} bytes", body.len());
}

#[test]
fn the_function_policy_is_the_limit_that_binds_first() {
    let regional = template("template-org.yaml");
    let region = "ap-southeast-2"; // the longest of REGIONS: the largest policy of the three
    let policy_bound =
        first_breaking(|n| Scale::of(&regional, n, region).policy_bound_bytes > POLICY_BYTES);
    let policy = first_breaking(|n| Scale::of(&regional, n, region).policy_bytes > POLICY_BYTES);
    let parameter =
        first_breaking(|n| Scale::of(&regional, n, region).parameter_bytes > PARAMETER_VALUE_BYTES);
    let resources = first_breaking(|n| Scale::of(&regional, n, region).resources > STACK_RESOURCES);
    let body =
        first_breaking(|n| Scale::of(&regional, n, region).processed_bytes > TEMPLATE_BODY_BYTES);
    let in_s3 =
        first_breaking(|n| Scale::of(&regional, n, region).processed_bytes > TEMPLATE_IN_S3_BYTES);
    eprintln!(
        "first count that breaks: policy (any stack name) {policy_bound}, policy ({ORG_STACK}) \
         {policy}, parameter {parameter}, processed body 51,200 B {body}, resources \
         {resources}, processed template 1 MB {in_s3}"
    );
    assert!(
        policy_bound <= policy && policy < parameter,
        "{policy} {parameter}"
    );
    assert!(policy < body && parameter < resources && resources < in_s3);
    // 12-digit ids and commas: 4,096 bytes hold 315.
    assert_eq!(parameter, 316);
    assert_eq!(most_member_accounts(), policy_bound - 1);
}

#[test]
fn a_refused_member_account_list_is_told_the_limit_and_the_alternatives() {
    let spec = &template("template-org.yaml")["Parameters"]["MemberAccountIds"];
    let most = most_member_accounts();
    let why = spec["ConstraintDescription"].as_str().unwrap();
    for needed in [
        &format!("at most {most}"),
        "20,480 bytes",
        "leave MemberAccountIds empty",
        "template.yaml to every account as a StackSet",
    ] {
        assert!(why.contains(needed), "{why:?} says {needed:?}");
    }
    let description = spec["Description"].as_str().unwrap();
    assert!(
        description.contains(&format!("at most {most}")),
        "{description}"
    );
    // Each item must still be an account id.
    assert!(!admits_list(spec, "222222222222,33333333333"));
    assert!(admits_list(spec, "222222222222,333333333333"));
}

#[test]
fn the_function_deploys_without_the_organization_rule() {
    let regional = template("template-org.yaml");
    let with = |deploy: &str| {
        let overrides = BTreeMap::from([("DeployOrganizationRule".to_owned(), deploy.to_owned())]);
        parameters(&regional, &overrides, ADMIN, REGIONS[0])
    };
    let wanted = |vars: &Vars, resource: &Value| {
        resource["Condition"]
            .as_str()
            .is_none_or(|name| condition(&regional, name, vars))
    };
    let defaults = parameters(&regional, &BTreeMap::new(), ADMIN, REGIONS[0]);
    let resources = regional["Resources"].as_object().unwrap();
    assert!(
        wanted(&defaults, &resources["OrganizationRule"]),
        "the rule by default"
    );
    let without = with("false");
    assert!(!wanted(&without, &resources["OrganizationRule"]));
    // Everything else stays: the function, its permissions, its alarms.
    for (id, resource) in resources {
        if id != "OrganizationRule" && !id.starts_with("Fn::ForEach::") {
            assert_eq!(
                wanted(&defaults, resource),
                wanted(&without, resource),
                "{id}"
            );
        }
    }
    // Nothing that stays names the rule, or CloudFormation refuses the template.
    for (section, entries) in [
        ("Resources", &regional["Resources"]),
        ("Outputs", &regional["Outputs"]),
    ] {
        for (id, entry) in entries.as_object().unwrap() {
            if id != "OrganizationRule" && refers_to(entry, "OrganizationRule") {
                assert_eq!(
                    entry["Condition"], "OrganizationRuleWanted",
                    "{section}/{id}"
                );
            }
        }
    }
    assert!(
        regional["Outputs"]["FunctionArn"]
            .get("Condition")
            .is_none()
    );
}

/// Whether `value` refers to the resource `logical_id` (Ref, Fn::GetAtt or DependsOn).
fn refers_to(value: &Value, logical_id: &str) -> bool {
    match value {
        Value::Object(object) => object.iter().any(|(key, inner)| {
            (key == "Ref" && inner == logical_id)
                || (key == "Fn::GetAtt" && inner[0] == logical_id)
                || (key == "DependsOn"
                    && (inner == logical_id
                        || inner
                            .as_array()
                            .is_some_and(|ids| ids.iter().any(|i| i == logical_id))))
                || refers_to(inner, logical_id)
        }),
        Value::Array(items) => items.iter().any(|inner| refers_to(inner, logical_id)),
        _ => false,
    }
}

// The organization conformance pack.

/// Config's limits on an organization conformance pack (botocore's config model,
/// `PutOrganizationConformancePack`; the Config Developer Guide's service limits): the template
/// body, the input parameters, one parameter's value.
const PACK_BODY_BYTES: usize = 51_200;
const PACK_PARAMETERS: usize = 60;
const PACK_PARAMETER_VALUE_CHARS: usize = 4_096;
/// What a conformance pack template holds: Config rules and remediation configurations.
const PACK_RESOURCE_TYPES: [&str; 2] = [
    "AWS::Config::ConfigRule",
    "AWS::Config::RemediationConfiguration",
];
/// `Source.SourceIdentifier` (the function's ARN) and `ConfigRuleName`, in the config model.
const SOURCE_IDENTIFIER_CHARS: usize = 256;
const CONFIG_RULE_NAME_CHARS: usize = 128;

/// The FunctionArn output of template-org.yaml's stack named `stack` in `region`.
fn function_arn(partition: &str, region: &str, stack: &str) -> String {
    let name = generated_name(stack, "RuleFunction", FUNCTION_NAME_CHARS);
    format!("arn:{partition}:lambda:{region}:{ADMIN}:function:{name}")
}

#[test]
fn the_conformance_pack_is_within_configs_limits() {
    let body = std::fs::read_to_string(root().join(CONFORMANCE_PACK)).unwrap();
    assert!(body.len() <= PACK_BODY_BYTES, "{} bytes", body.len());
    let pack = template(CONFORMANCE_PACK);
    assert!(pack.get("Transform").is_none(), "Config transforms nothing");
    let declared = pack["Parameters"].as_object().unwrap();
    assert!(
        declared.len() <= PACK_PARAMETERS,
        "{} parameters",
        declared.len()
    );
    for (name, spec) in declared {
        // Every input parameter arrives as a string of at most 4,096 characters.
        assert_eq!(spec["Type"], "String", "{name}");
        if let Some(max) = spec["MaxLength"].as_u64() {
            assert!(max as usize <= PACK_PARAMETER_VALUE_CHARS, "{name}");
        }
    }
    for (id, resource) in pack["Resources"].as_object().unwrap() {
        let kind = resource["Type"].as_str().unwrap_or_default();
        assert!(PACK_RESOURCE_TYPES.contains(&kind), "{id} is a {kind}");
    }
    // Rendered for the function of the longest stack name and a long region and partition.
    let arn = function_arn("aws-us-gov", "us-gov-west-1", &"s".repeat(128));
    let overrides = BTreeMap::from([
        ("FunctionArn".to_owned(), arn.clone()),
        ("RuleName".to_owned(), "r".repeat(37)),
    ]);
    assert!(
        admits_value(&pack["Parameters"]["FunctionArn"], &arn),
        "{arn}"
    );
    let vars = parameters(&pack, &overrides, MEMBER, REGIONS[0]);
    let rule = &pack["Resources"]["Rule"]["Properties"];
    assert_eq!(rule["Source"]["Owner"], "CUSTOM_LAMBDA");
    let source = render(&rule["Source"]["SourceIdentifier"], &vars);
    assert_eq!(source, arn);
    assert!(source.len() <= SOURCE_IDENTIFIER_CHARS);
    assert!(render(&rule["ConfigRuleName"], &vars).len() <= CONFIG_RULE_NAME_CHARS);
    // An alias, a version or something else is not the function's ARN.
    for wrong in [
        format!("{arn}:live"),
        "arn:aws:lambda:us-east-1:111111111111:function:".to_owned(),
        "sagemaker14-organization-RuleFunction-z6K0tP6e6kbE".to_owned(),
        String::new(),
    ] {
        assert!(
            !admits_value(&pack["Parameters"]["FunctionArn"], &wrong),
            "{wrong}"
        );
    }
}

#[test]
fn the_conformance_pack_rule_is_the_organization_rule() {
    let org = template("template-org.yaml");
    let pack = template(CONFORMANCE_PACK);
    let metadata =
        &org["Resources"]["OrganizationRule"]["Properties"]["OrganizationCustomRuleMetadata"];
    let rule = &pack["Resources"]["Rule"]["Properties"];
    // The same rule parameters, each from a parameter of the same name that admits the same
    // values and defaults to the same one.
    let (org_input, pack_input) = (
        input_parameters("template-org.yaml"),
        input_parameters(CONFORMANCE_PACK),
    );
    let keys = |input: &Value| {
        input
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&org_input), keys(&pack_input));
    let mut shared: Vec<String> = org_input
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, value)| {
            assert_eq!(value, &pack_input[key], "{key}");
            value["Ref"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        metadata["MaximumExecutionFrequency"],
        rule["MaximumExecutionFrequency"]
    );
    shared.push("MaximumExecutionFrequency".to_owned());
    let mut runner = TestRunner::new(ProptestConfig::with_cases(64));
    for name in &shared {
        let (ours, theirs) = (&org["Parameters"][name], &pack["Parameters"][name]);
        let default = |spec: &Value| {
            spec["Default"]
                .as_str()
                .map_or_else(|| spec["Default"].to_string(), str::to_owned)
        };
        assert_eq!(default(ours), default(theirs), "{name}'s default");
        if ours["Type"] == "String" {
            for constraint in ["AllowedPattern", "MaxLength", "AllowedValues"] {
                assert_eq!(
                    ours[constraint], theirs[constraint],
                    "{name}'s {constraint}"
                );
            }
            continue;
        }
        // A Number here is a pattern there: the same whole numbers, and nothing else.
        let agree = |value: &str| admits_value(ours, value) == admits_value(theirs, value);
        for number in -1..=1_001 {
            assert!(agree(&number.to_string()), "{name}={number}");
        }
        runner
            .run(&prop_oneof![admitted(ours), admitted(theirs)], |value| {
                prop_assert!(agree(&value), "{}={:?}", name, value);
                Ok(())
            })
            .unwrap();
    }
    // The same resources judged, on the same triggers.
    assert_eq!(
        rule["Scope"]["ComplianceResourceTypes"],
        metadata["ResourceTypesScope"]
    );
    let triggers: Vec<&Value> = rule["Source"]["SourceDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|detail| &detail["MessageType"])
        .collect();
    let org_triggers: Vec<&Value> = metadata["OrganizationConfigRuleTriggerTypes"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(triggers, org_triggers);
    // And the member role it names is the one the organization template creates.
    let global = template("template-org-global.yaml");
    assert_eq!(
        global["Parameters"]["MemberRoleName"]["Default"],
        pack["Parameters"]["MemberRoleName"]["Default"]
    );
}

#[test]
#[ignore = "needs cfn-lint in .venv; `make test` installs it and runs this test"]
fn the_conformance_pack_passes_cfn_lint() {
    cfn_lint(&root().join(CONFORMANCE_PACK));
}

#[test]
fn make_test_lints_the_conformance_pack() {
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    assert!(
        makefile
            .lines()
            .any(|line| line.starts_with("TEMPLATES :=") && line.contains(CONFORMANCE_PACK)),
        "the Makefile's TEMPLATES (cfn-lint and sam validate) list {CONFORMANCE_PACK}"
    );
}

/// scripts/deploy-conformance-pack with `args` and `environment`, and no AWS credentials.
fn deploy_conformance_pack(args: &[&str], environment: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(root().join("scripts/deploy-conformance-pack"));
    command.args(args).env_remove("AWS_PROFILE");
    for variable in [
        "REGIONS",
        "PACK_PARAMS",
        "EXCLUDED_ACCOUNTS",
        "PACK_NAME",
        "ORG_STACK",
    ] {
        command.env_remove(variable);
    }
    command.envs(environment.iter().copied());
    command.output().expect("the script runs")
}

#[test]
#[ignore = "needs .venv (boto3, PyYAML); `make test` installs it and runs this test"]
fn the_deploy_script_sends_the_pack_with_its_parameters_in_every_region() {
    let output = deploy_conformance_pack(
        &["--check"],
        &[
            ("REGIONS", "us-east-1 eu-west-1"),
            ("PACK_PARAMS", "ExemptTag=sm14-exempt ResultRefreshDays=7"),
            ("EXCLUDED_ACCOUNTS", "333333333333,444444444444"),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let body = std::fs::read_to_string(root().join(CONFORMANCE_PACK)).unwrap();
    let pack = template(CONFORMANCE_PACK);
    let requests: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let regions: Vec<&str> = requests
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["us-east-1", "eu-west-1"]);
    for request in &requests {
        assert_eq!(request["TemplateBody"], body.as_str());
        assert!(admits(
            &json!({"AllowedPattern": "^[a-zA-Z][-a-zA-Z0-9]{0,127}$"}),
            request["OrganizationConformancePackName"].as_str().unwrap()
        ));
        assert_eq!(
            request["ExcludedAccounts"],
            json!(["333333333333", "444444444444"])
        );
        let given: BTreeMap<&str, &str> = request["ConformancePackInputParameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["ParameterName"].as_str().unwrap(),
                    p["ParameterValue"].as_str().unwrap(),
                )
            })
            .collect();
        assert!(given.len() <= PACK_PARAMETERS);
        for (name, value) in &given {
            assert!(
                admits_value(&pack["Parameters"][*name], value),
                "{name}={value}"
            );
        }
        assert_eq!(given["ExemptTag"], "sm14-exempt");
        assert_eq!(given["ResultRefreshDays"], "7");
        let region = request["region"].as_str().unwrap();
        assert!(given["FunctionArn"].contains(&format!(":lambda:{region}:")));
    }
}

#[test]
#[ignore = "needs .venv (boto3, PyYAML); `make test` installs it and runs this test"]
fn the_deploy_script_refuses_what_the_pack_would_refuse_before_sending_anything() {
    for (environment, says) in [
        (
            vec![
                ("REGIONS", "us-east-1"),
                ("PACK_PARAMS", "ResultRefreshDays=400"),
            ],
            "ResultRefreshDays='400' is refused by conformance-pack.yaml: A whole number from 0 to 365",
        ),
        (
            vec![("REGIONS", "us-east-1"), ("PACK_PARAMS", "Retries=3")],
            "PACK_PARAMS names ['Retries'], which conformance-pack.yaml does not declare",
        ),
        (
            vec![("REGIONS", "us-east-1"), ("EXCLUDED_ACCOUNTS", "12345")],
            "EXCLUDED_ACCOUNTS holds ['12345']",
        ),
        (vec![], "set REGIONS="),
    ] {
        let output = deploy_conformance_pack(&["--check"], &environment);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{environment:?}: {stderr}");
        assert!(stderr.contains(says), "{environment:?}: {stderr}");
        assert!(output.stdout.is_empty(), "nothing to send: {environment:?}");
    }
}
