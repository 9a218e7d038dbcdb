//! `make run`: the rule's main job end to end with nothing from AWS. Starts the fake seeded with
//! the sample account, runs the real binary under a Lambda runtime (cargo-lambda's emulator when
//! it is installed, else the fake's own Runtime API), sends it the periodic event and every
//! change event in `events/`, and prints what the AWS Config console would show, and Security
//! Hub's SageMaker.14 findings before and after (`periodic-security-hub.json` reconciles them).

use fake_aws::FakeAws;
use fake_aws::cargo_lambda::Emulator;
use fake_aws::seed::Seed;
use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const FUNCTION: &str = "monitoring-schedule-isolation";

struct Options {
    binary: PathBuf,
    seed: PathBuf,
    events: PathBuf,
    /// Only this event, instead of every event in `events`.
    event: Option<PathBuf>,
    logs: PathBuf,
    mode: String,
}

fn options() -> Options {
    let mut options = Options {
        binary: PathBuf::from("target/debug/monitoring-schedule-isolation"),
        seed: PathBuf::from("fake/sample-account.json"),
        events: PathBuf::from("events"),
        event: None,
        logs: PathBuf::from("target/local-run"),
        mode: "auto".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| fail(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--binary" => options.binary = value().into(),
            "--seed" => options.seed = value().into(),
            "--events" => options.events = value().into(),
            "--event" => options.event = Some(value().into()),
            "--logs" => options.logs = value().into(),
            "--mode" => options.mode = value(),
            _ => fail(&format!(
                "unknown argument {arg}; usage: local-run [--binary PATH] [--seed FILE] [--events DIR | --event FILE] [--logs DIR] [--mode auto|cargo-lambda|runtime-api]"
            )),
        }
    }
    options
}

fn fail(message: &str) -> ! {
    eprintln!("local-run: {message}");
    std::process::exit(2);
}

/// The function, running under one of the two Lambda runtimes.
enum Function {
    RuntimeApi(Child),
    CargoLambda(Emulator),
}

impl Function {
    fn start(mode: &str, fake: &FakeAws, options: &Options) -> Function {
        std::fs::create_dir_all(&options.logs).unwrap_or_else(|e| fail(&e.to_string()));
        let log = |name: &str| {
            File::create(options.logs.join(name)).unwrap_or_else(|e| fail(&e.to_string()))
        };
        if mode == "cargo-lambda" {
            let log_file = options.logs.join("lambda.log");
            drop(log("lambda.log")); // Start the log afresh; both streams append to it.
            let output = || {
                Stdio::from(
                    File::options()
                        .create(true)
                        .append(true)
                        .open(&log_file)
                        .unwrap_or_else(|e| fail(&e.to_string())),
                )
            };
            let emulator = Emulator::start(
                Path::new("."),
                FUNCTION,
                &fake.client_env(),
                output,
                Duration::from_secs(600),
            )
            .unwrap_or_else(|error| fail(&error));
            Function::CargoLambda(emulator)
        } else {
            if !options.binary.exists() {
                fail(&format!(
                    "{} does not exist: build it first (`cargo build`)",
                    options.binary.display()
                ));
            }
            let child = Command::new(&options.binary)
                .envs(fake.lambda_env(FUNCTION))
                .stdout(log("lambda.log"))
                .stderr(log("lambda.log"))
                .spawn()
                .unwrap_or_else(|e| {
                    fail(&format!("cannot start {}: {e}", options.binary.display()))
                });
            Function::RuntimeApi(child)
        }
    }

    /// `Ok(response)` or `Err(error)` as the Lambda service would return them.
    fn invoke(&self, fake: &FakeAws, path: &Path) -> Result<Value, Value> {
        match self {
            Function::RuntimeApi(_) => {
                let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(&e.to_string()));
                let event: Value =
                    serde_json::from_str(&text).unwrap_or_else(|e| fail(&e.to_string()));
                fake.invoke(&event, Duration::from_secs(300), Duration::from_secs(360))
            }
            Function::CargoLambda(emulator) => {
                let output = emulator
                    .invoke(FUNCTION, &[OsStr::new("--data-file"), path.as_os_str()])
                    .unwrap_or_else(|e| fail(&format!("cannot run cargo lambda invoke: {e}")));
                let stdout = String::from_utf8_lossy(&output.stdout);
                if output.status.success() {
                    Ok(serde_json::from_str(&stdout).unwrap_or(Value::from(stdout.trim())))
                } else {
                    let stderr = String::from_utf8_lossy(&output.stderr);
                    Err(Value::from(format!("{}{}", stdout.trim(), stderr.trim())))
                }
            }
        }
    }

    fn stop(self) {
        // The emulator stops with its process group when dropped.
        if let Function::RuntimeApi(mut child) = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn main() {
    let options = options();
    let seed_text = std::fs::read_to_string(&options.seed)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", options.seed.display())));
    let seed = Seed::from_json(&seed_text).unwrap_or_else(|e| fail(&e));
    let names: BTreeMap<String, String> = seed
        .account
        .schedules
        .iter()
        .filter_map(|s| {
            Some((
                s["MonitoringScheduleArn"].as_str()?.to_owned(),
                s["MonitoringScheduleName"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let fake = FakeAws::start(seed).unwrap_or_else(|e| fail(&e));
    let mode = match options.mode.as_str() {
        "auto" if Emulator::installed() => "cargo-lambda",
        "auto" => "runtime-api",
        other @ ("cargo-lambda" | "runtime-api") => other,
        other => fail(&format!("unknown mode {other}")),
    };
    println!(
        "Local AWS (SageMaker + Config fake): {}  seeded from {}",
        fake.url(),
        options.seed.display()
    );
    println!(
        "Lambda runtime: {}  (function logs: {})\n",
        if mode == "cargo-lambda" {
            "cargo lambda watch"
        } else {
            "the fake's Lambda Runtime API"
        },
        options.logs.join("lambda.log").display()
    );
    let findings_before = findings(&fake);
    if !findings_before.is_empty() {
        println!("Security Hub findings before:\n");
        print_findings(&findings_before, &[]);
        println!();
    }
    let function = Function::start(mode, &fake, &options);

    let mut events: Vec<PathBuf> = match &options.event {
        Some(event) => vec![event.clone()],
        None => std::fs::read_dir(&options.events)
            .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", options.events.display())))
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect(),
    };
    // The sweep first, as after a deployment, then the sweep that reconciles Security Hub's
    // findings; then each change as Config would send it.
    events.sort_by_key(|path| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        (
            name != "periodic.json",
            !name.starts_with("periodic"),
            path.clone(),
        )
    });
    let mut failures = 0;
    for path in &events {
        let before = fake.evaluations().len();
        let result = function.invoke(&fake, path);
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        match result {
            Ok(response) => println!("{file:48} ok     {response}"),
            Err(error) => {
                failures += 1;
                println!("{file:48} FAILED {error}");
            }
        }
        if file.starts_with("periodic") {
            continue; // A sweep's results are in the table below.
        }
        for recorded in fake.evaluations().iter().skip(before) {
            let evaluation = &recorded.evaluation;
            let id = evaluation["ComplianceResourceId"].as_str().unwrap_or("");
            let compliance = evaluation["ComplianceType"].as_str().unwrap_or("");
            println!(
                "{:48}   -> {compliance} {}",
                "",
                names.get(id).map_or(id, String::as_str)
            );
        }
    }
    function.stop();

    println!("\nWhat AWS Config shows for the rule (latest result per resource):\n");
    let mut rows: Vec<(String, String, String, String)> = fake.with_state(|state| {
        state
            .accounts
            .values()
            .flat_map(|account| account.results.values())
            .map(|result| {
                let field = |name: &str| result[name].as_str().unwrap_or("").to_owned();
                let id = field("ResourceId");
                // Schedules by name; anything else by the last part of its ARN.
                let resource = names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| id.rsplit('/').next().unwrap_or(&id).to_owned());
                let kind = field("ResourceType")
                    .trim_start_matches("AWS::SageMaker::")
                    .to_owned();
                (resource, kind, field("ComplianceType"), field("Annotation"))
            })
            .collect()
    });
    rows.sort();
    let width = rows.iter().map(|row| row.0.len()).max().unwrap_or(8).max(8);
    println!(
        "{:width$}  {:25}  {:14}  ANNOTATION",
        "RESOURCE", "TYPE", "COMPLIANCE"
    );
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (resource, kind, compliance, annotation) in &rows {
        println!("{resource:width$}  {kind:25}  {compliance:14}  {annotation}");
        *counts.entry(compliance.clone()).or_default() += 1;
    }
    let calls = fake.calls().len();
    println!(
        "\n{} resources: {} COMPLIANT, {} NON_COMPLIANT, {} NOT_APPLICABLE; {} invocations ({} failed); {} AWS API calls answered by the fake",
        rows.len(),
        counts.get("COMPLIANT").unwrap_or(&0),
        counts.get("NON_COMPLIANT").unwrap_or(&0),
        counts.get("NOT_APPLICABLE").unwrap_or(&0),
        events.len(),
        failures,
        calls
    );
    let findings_after = findings(&fake);
    if !findings_after.is_empty() {
        println!("\nSecurity Hub findings after (* changed by the rule):\n");
        print_findings(&findings_after, &findings_before);
    }
    if failures > 0 {
        std::process::exit(1);
    }
}

/// One finding as the console lists it: the resource, the control, its result, whether it is
/// active, its workflow status, and its note and who wrote it.
struct Finding {
    resource: String,
    control: String,
    status: String,
    record: String,
    workflow: String,
    note: Option<(String, String)>,
}

fn findings(fake: &FakeAws) -> Vec<Finding> {
    fake.with_state(|state| state.findings())
        .iter()
        .map(|finding| {
            let text = |pointer: &str| {
                finding
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let arn = text("/Resources/0/Id");
            // This account and region's resources by name, others by their whole ARN.
            let resource = match arn.strip_prefix("arn:aws:sagemaker:us-east-1:123456789012:") {
                Some(local) => local.rsplit('/').next().unwrap_or(local).to_owned(),
                None => arn,
            };
            Finding {
                resource,
                control: text("/Compliance/SecurityControlId"),
                status: text("/Compliance/Status"),
                record: text("/RecordState"),
                workflow: text("/Workflow/Status"),
                note: finding
                    .get("Note")
                    .map(|_| (text("/Note/UpdatedBy"), text("/Note/Text"))),
            }
        })
        .collect()
}

/// The findings, the rule's notes written out under those it changed since `before`.
fn print_findings(findings: &[Finding], before: &[Finding]) {
    let width = findings
        .iter()
        .map(|f| f.resource.len())
        .max()
        .unwrap_or(8)
        .max(8);
    println!(
        "  {:width$}  {:12}  {:7}  {:8}  {:10}  NOTE BY",
        "RESOURCE", "CONTROL", "RESULT", "RECORD", "WORKFLOW"
    );
    for (index, finding) in findings.iter().enumerate() {
        let changed = before
            .get(index)
            .is_some_and(|was| was.workflow != finding.workflow || was.note != finding.note);
        let by = finding.note.as_ref().map_or("", |(by, _)| by.as_str());
        println!(
            "{} {:width$}  {:12}  {:7}  {:8}  {:10}  {by}",
            if changed { "*" } else { " " },
            finding.resource,
            finding.control,
            finding.status,
            finding.record,
            finding.workflow,
        );
        if changed && let Some((_, text)) = &finding.note {
            println!("  {:width$}  note: {text}", "");
        }
    }
}
