//! Remediation, after the verdicts: the schedules recorded NON_COMPLIANT are fixed one after
//! another (or, with a fixer that only plans, their fixes described), inside the deadline.

use crate::core::remediation::FixError;
use crate::rule::deadline::{Abandoned, Deadline, within};
use crate::rule::ports::Fixer;

/// What remediation did after the verdicts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fixes {
    pub remediated: Vec<String>,
    /// Fixes a dry run worked out and did not make: `name: step; step`.
    pub planned: Vec<String>,
    /// Schedules whose fix failed, and why.
    pub failures: Vec<(String, FixError)>,
    /// Schedules whose fix was not started for lack of time before the Lambda deadline.
    pub not_started: Vec<String>,
}

/// Turns isolation on for every schedule judged NON_COMPLIANT (only with `Remediate=true`),
/// or, with a fixer that only plans, says how it would. No fix is started after the
/// deadline's `stop_starting`, and none is waited for past `abandon`: what was left is named.
pub async fn fix<F: Fixer>(fixer: &F, schedules: &[String], deadline: Option<Deadline>) -> Fixes {
    let mut fixes = Fixes::default();
    for (index, name) in schedules.iter().enumerate() {
        let fix = fixer.fix(name);
        let fixed = match deadline {
            Some(deadline) if deadline.passed(deadline.stop_starting) => {
                fixes.not_started.extend(schedules[index..].iter().cloned());
                tracing::warn!(
                    left = schedules.len() - index,
                    "remediation stopped before the Lambda deadline"
                );
                break;
            }
            _ => within(deadline, fix).await.unwrap_or_else(|Abandoned| {
                Err(FixError::Cannot(
                    "not finished before the Lambda deadline; run remediate for it again".into(),
                ))
            }),
        };
        match fixed {
            Ok(remediation) => {
                tracing::info!(schedule = %name, steps = %remediation.describe(), applied = remediation.applied, "remediation");
                if remediation.applied {
                    fixes.remediated.push(name.clone());
                } else if remediation.changes_anything() {
                    fixes
                        .planned
                        .push(format!("{name}: {}", remediation.describe()));
                }
            }
            Err(failure) => {
                tracing::error!(schedule = %name, %failure, "remediation failed");
                fixes.failures.push((name.clone(), failure));
            }
        }
    }
    fixes
}
