//! The `check` command: templates and plans judged before deployment, reported as a table,
//! JSON lines or SARIF 2.1.0, with an exit code a pipeline can gate on. The judging is pure
//! (`check/`); this door reads the files, optionally describes unresolved job definitions in
//! the account (read-only), and reports, every text from the input through `escaping`. What
//! it prints on stdout, in each format, is `output`.

mod output;

use super::exit::{self, Stop};
use crate::aws::sagemaker::AwsSageMaker;
use crate::aws::sdk;
use crate::check::finding::{Assessment, Finding, Outcome, Status};
use crate::check::{self, InputError, Options};
use crate::core::resource::JobDefinitionRef;
use crate::core::verdict::{JobDefinitionState, fit, judge_job_definition};
use crate::error::ApiFailure;
use crate::escaping;
use crate::rule::ports::SageMakerReads;
use clap::Args;
use output::Format;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// Judge monitoring schedules in CloudFormation/SAM templates and Terraform plans before
/// they are deployed.
///
/// Exit codes: 0 nothing NON_COMPLIANT, 1 something NON_COMPLIANT (or UNRESOLVED with
/// --fail-on-unresolved), 2 input that cannot be read.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Templates (YAML or JSON), plans (`terraform show -json PLANFILE`), or directories of
    /// them (their .yaml, .yml, .json and .template files, recursively)
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Judge the job definitions themselves too (SageMaker.11, .12 and their twins)
    #[arg(long)]
    job_definitions: bool,
    /// A template parameter's value, over its Default (also AWS::Region, AWS::AccountId, ...)
    #[arg(long = "parameter", value_name = "KEY=VALUE", value_parser = key_value)]
    parameters: Vec<(String, String)>,
    /// Output: a table, JSON lines, or SARIF 2.1.0 for code scanning
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Describe job definitions the input names but does not define in the account (read-only;
    /// AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL and the credential chain as for `audit`)
    #[arg(long)]
    resolve_live: bool,
    /// Exit 1 when something is UNRESOLVED, as when something is NON_COMPLIANT
    #[arg(long)]
    fail_on_unresolved: bool,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got '{text}'")),
    }
}

/// A file to check, with its path as the findings show it.
struct Source {
    path: PathBuf,
    shown: String,
    /// Found in a directory: a file there that is not a template or a plan is skipped.
    found: bool,
}

/// Runs `check` and returns the exit code; a write to standard output that fails stops it (a
/// closed pipe is a normal end, `exit`).
pub async fn run(args: CheckArgs) -> Result<i32, Stop> {
    let options = Options {
        job_definitions: args.job_definitions,
        parameters: args.parameters.iter().cloned().collect(),
    };
    let mut errors = Vec::new();
    let mut walk = Walk::default();
    for path in &args.paths {
        walk.named(path, &mut errors);
    }
    let sources = walk.sources;
    let mut checked: Vec<(String, Vec<Assessment>)> = Vec::new();
    for source in &sources {
        let text = match std::fs::read_to_string(&source.path) {
            Ok(text) => text,
            Err(error) => {
                errors.push(format!("cannot read {}: {error}", source.shown));
                continue;
            }
        };
        match check::read(&text).and_then(|input| check::assess(&input, &options)) {
            Ok(assessments) => checked.push((source.shown.clone(), assessments)),
            Err(InputError::NotAnInput(reason)) if source.found => {
                exit::note(&format!(
                    "skipped {}: {}",
                    escaping::text(&source.shown),
                    escaping::text(&reason)
                ));
            }
            Err(error) => errors.push(format!("{}: {error}", source.shown)),
        }
    }
    if !errors.is_empty() {
        for error in &errors {
            exit::note(&format!("error: {}", escaping::text(error)));
        }
        return Ok(2);
    }
    if args.resolve_live && has_lookups(&checked) {
        let clients = match sdk::load().await {
            Ok(clients) => clients,
            Err(error) => {
                exit::note(&format!(
                    "error: --resolve-live: {}",
                    escaping::text(&error.to_string())
                ));
                return Ok(2);
            }
        };
        resolve_live(&AwsSageMaker::of(&clients), &mut checked).await;
    }
    let findings: Vec<Finding> = checked
        .iter()
        .flat_map(|(file, assessments)| assessments.iter().map(|a| a.finding(file)))
        .collect();
    output::write(&mut std::io::stdout().lock(), args.format, &findings)?;
    let count = |status: Status| findings.iter().filter(|f| f.status == status).count();
    exit::note(&format!(
        "{} resource(s) in {} file(s): {} COMPLIANT, {} NON_COMPLIANT, {} UNRESOLVED",
        findings.len(),
        checked.len(),
        count(Status::Compliant),
        count(Status::NonCompliant),
        count(Status::Unresolved)
    ));
    if count(Status::Unresolved) > 0 {
        exit::note(&format!(
            "UNRESOLVED is not an AWS Config result: the verdict depends on what the input does not say{}.",
            if args.resolve_live {
                ""
            } else {
                " (--resolve-live judges named job definitions by the account's)"
            }
        ));
    }
    if count(Status::NonCompliant) > 0 || (args.fail_on_unresolved && count(Status::Unresolved) > 0)
    {
        Ok(1)
    } else {
        Ok(0)
    }
}

/// The files to check. A path named on the command line is followed wherever it leads; in a
/// directory, links are not followed (a link to `.` makes the walk endless, one to a device
/// the read) and only regular files are read. Each file is checked once, under the first path
/// it is reached by.
#[derive(Default)]
struct Walk {
    sources: Vec<Source>,
    /// Files and directories already taken, by canonical path.
    seen: HashSet<PathBuf>,
}

impl Walk {
    fn named(&mut self, path: &Path, errors: &mut Vec<String>) {
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => self.directory(path, errors),
            Ok(_) => self.file(path, false),
            Err(error) => errors.push(format!("cannot read {}: {error}", shown(path))),
        }
    }

    fn file(&mut self, path: &Path, found: bool) {
        if self.first_visit(path) {
            self.sources.push(Source {
                path: path.to_owned(),
                shown: shown(path),
                found,
            });
        }
    }

    fn first_visit(&mut self, path: &Path) -> bool {
        self.seen
            .insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()))
    }

    fn directory(&mut self, path: &Path, errors: &mut Vec<String>) {
        if !self.first_visit(path) {
            return;
        }
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(error) => {
                errors.push(format!(
                    "cannot read the directory {}: {error}",
                    shown(path)
                ));
                return;
            }
        };
        let mut children: Vec<(PathBuf, std::fs::FileType)> = entries
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| Some((entry.path(), entry.file_type().ok()?)))
            .collect();
        children.sort_by(|a, b| a.0.cmp(&b.0));
        for (child, kind) in children {
            let name = child.file_name().map(|n| n.to_string_lossy().into_owned());
            if name.as_deref().is_none_or(|name| name.starts_with('.')) {
                continue;
            }
            let wanted = child
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json" | "template"));
            if kind.is_symlink() {
                // Said only of a link that would have been read: to a directory, or by its name.
                if wanted || child.is_dir() {
                    exit::note(&format!(
                        "skipped {}: a symbolic link (links are followed only when named on the command line)",
                        escaping::text(&shown(&child))
                    ));
                }
            } else if kind.is_dir() {
                self.directory(&child, errors);
            } else if kind.is_file() && wanted {
                self.file(&child, true);
            }
        }
    }
}

/// A path as the findings show it: as given, with `/` separators and no leading `./`.
fn shown(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut text = text.as_str();
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    text.to_owned()
}

fn has_lookups(checked: &[(String, Vec<Assessment>)]) -> bool {
    checked.iter().any(|(_, assessments)| {
        assessments.iter().any(|a| {
            a.outcomes.iter().any(|o| {
                matches!(
                    o,
                    Outcome::Unresolved {
                        lookup: Some(_),
                        ..
                    }
                )
            })
        })
    })
}

/// Describes each job definition an unresolved outcome names, once, and judges the outcome by
/// it; a describe that fails leaves the outcome unresolved, with the failure as the reason.
async fn resolve_live<S: SageMakerReads>(reads: &S, checked: &mut [(String, Vec<Assessment>)]) {
    let wanted: BTreeSet<JobDefinitionRef> = checked
        .iter()
        .flat_map(|(_, assessments)| assessments.iter().flat_map(|a| &a.outcomes))
        .filter_map(|outcome| match outcome {
            Outcome::Unresolved {
                lookup: Some(reference),
                ..
            } => Some(reference.clone()),
            _ => None,
        })
        .collect();
    let mut described: BTreeMap<JobDefinitionRef, Result<JobDefinitionState, ApiFailure>> =
        BTreeMap::new();
    for reference in wanted {
        let state = reads.describe_job_definition(&reference).await;
        described.insert(reference, state);
    }
    for (_, assessments) in checked.iter_mut() {
        for outcome in assessments.iter_mut().flat_map(|a| a.outcomes.iter_mut()) {
            let Outcome::Unresolved {
                lookup: Some(reference),
                ..
            } = outcome
            else {
                continue;
            };
            *outcome = match &described[reference] {
                Ok(state) => Outcome::Judged(judge_job_definition(reference, state)),
                Err(failure) => Outcome::Unresolved {
                    reason: fit(format!(
                        "Names {} job definition '{}', which this input does not define, and describing it in the account failed: {failure}",
                        reference.kind, reference.name
                    )),
                    lookup: None,
                },
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_show_as_given_with_forward_slashes() {
        assert_eq!(
            shown(Path::new("./events/check/a.yaml")),
            "events/check/a.yaml"
        );
        assert_eq!(shown(Path::new("a\\b.json")), "a/b.json");
    }

    #[test]
    fn parameters_need_a_key_and_an_equals_sign() {
        assert_eq!(key_value("A=b=c"), Ok(("A".into(), "b=c".into())));
        assert!(key_value("=x").is_err());
        assert!(key_value("novalue").is_err());
    }
}
