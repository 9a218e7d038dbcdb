//! What one invocation did, as one log line, one CloudWatch EMF record and, when work was left
//! undone, one error that names it.

use crate::calls::CallCounts;
use crate::deliver::Undelivered;
use crate::error::Error;
use crate::evaluation::Judged;
use crate::verdict::Compliance;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A resource the rule could not judge, and why. It got no evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unjudged {
    pub resource: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub trigger: &'static str,
    pub counts: BTreeMap<Compliance, usize>,
    pub delivered: usize,
    /// Listed, then gone before they could be described: skipped, not judged.
    pub vanished: usize,
    pub unjudged: Vec<Unjudged>,
    pub undelivered: Vec<Undelivered>,
    /// Config refused the resource type: `(type, Config's message)`.
    pub refused_type: Option<(String, String)>,
    /// Left for lack of time before the Lambda deadline (and whether more pages were unread).
    pub not_started: usize,
    pub unlisted_pages: bool,
    pub job_definitions: usize,
    /// Results of resources that no longer exist, reported NOT_APPLICABLE.
    pub stale: usize,
    /// Schedules judged NON_COMPLIANT (for remediation, when it is turned on).
    pub non_compliant_names: Vec<String>,
    /// Schedules remediated, and those whose remediation failed (with why).
    pub remediated: Vec<String>,
    /// Fixes a dry run worked out and did not make: `name: step; step`.
    pub planned_remediations: Vec<String>,
    pub remediation_failures: Vec<Unjudged>,
    /// Every evaluation with its schedule name, kept only when the caller asks (command line).
    pub judged_items: Vec<Judged>,
    /// The assumed role the invocation acted as, named in its error.
    pub acting_as: Option<String>,
    pub calls: CallCounts,
    pub elapsed: Duration,
}

/// How many names an error message lists before it only counts the rest.
const NAMES_IN_ERROR: usize = 20;

impl Report {
    pub fn count(&mut self, compliance: Compliance) {
        *self.counts.entry(compliance).or_default() += 1;
    }

    /// How many evaluations of this compliance type were computed.
    pub fn of(&self, compliance: Compliance) -> usize {
        self.counts.get(&compliance).copied().unwrap_or(0)
    }

    pub fn judged(&self) -> usize {
        self.counts.values().sum()
    }

    pub fn is_complete(&self) -> bool {
        self.unjudged.is_empty()
            && self.undelivered.is_empty()
            && self.refused_type.is_none()
            && self.not_started == 0
            && !self.unlisted_pages
            && self.remediation_failures.is_empty()
    }

    /// `Ok` when every resource was judged and delivered; otherwise an error naming what was not.
    pub fn outcome(&self) -> Result<(), Error> {
        if let Some((resource_type, message)) = &self.refused_type {
            return Err(Error::TypeRefused {
                resource_type: resource_type.clone(),
                message: message.clone(),
            });
        }
        if self.is_complete() {
            return Ok(());
        }
        let mut parts = Vec::new();
        if !self.unjudged.is_empty() {
            parts.push(format!(
                "{} resource(s) could not be judged and got no evaluation: {}",
                self.unjudged.len(),
                listing(
                    self.unjudged
                        .iter()
                        .map(|u| format!("{} ({})", u.resource, u.reason))
                )
            ));
        }
        if !self.undelivered.is_empty() {
            parts.push(format!(
                "{} evaluation(s) were computed but not delivered: {}",
                self.undelivered.len(),
                listing(
                    self.undelivered
                        .iter()
                        .map(|u| format!("{} {} ({})", u.resource_type, u.resource_id, u.reason))
                )
            ));
        }
        if !self.remediation_failures.is_empty() {
            parts.push(format!(
                "{} remediation(s) failed: {}",
                self.remediation_failures.len(),
                listing(
                    self.remediation_failures
                        .iter()
                        .map(|u| format!("{} ({})", u.resource, u.reason))
                )
            ));
        }
        if self.not_started > 0 || self.unlisted_pages {
            parts.push(format!(
                "stopped before the Lambda deadline with {} listed schedule(s) unjudged{}; everything judged was delivered. Raise the function's Timeout or the DescribeConcurrency rule parameter",
                self.not_started,
                if self.unlisted_pages {
                    " and more pages of schedules not yet listed"
                } else {
                    ""
                }
            ));
        }
        let message = parts.join("; ");
        Err(Error::Incomplete(match &self.acting_as {
            Some(role) => format!("acting as {role}: {message}"),
            None => message,
        }))
    }

    /// One line for a person at a terminal.
    pub fn human_line(&self, dry_run: bool) -> String {
        let delivery = if dry_run {
            "nothing sent (dry run)".to_owned()
        } else {
            format!("{} delivered", self.delivered)
        };
        format!(
            "{}: {} judged ({} COMPLIANT, {} NON_COMPLIANT, {} NOT_APPLICABLE), {} unjudged, {} vanished; {}; {} API calls ({} attempts) in {} ms",
            self.trigger,
            self.judged(),
            self.of(Compliance::Compliant),
            self.of(Compliance::NonCompliant),
            self.of(Compliance::NotApplicable),
            self.unjudged.len() + self.not_started,
            self.vanished,
            delivery,
            self.calls.total_operations(),
            self.calls.total_attempts(),
            self.elapsed.as_millis()
        )
    }

    /// The invocation's one summary log line.
    pub fn log(&self, rule_name: &str) {
        tracing::info!(
            rule = rule_name,
            trigger = self.trigger,
            compliant = self.of(Compliance::Compliant),
            non_compliant = self.of(Compliance::NonCompliant),
            not_applicable = self.of(Compliance::NotApplicable),
            delivered = self.delivered,
            unjudged = self.unjudged.len(),
            undelivered = self.undelivered.len(),
            vanished = self.vanished,
            not_started = self.not_started,
            job_definitions = self.job_definitions,
            stale = self.stale,
            remediated = self.remediated.len(),
            api_calls = self.calls.total_operations(),
            api_attempts = self.calls.total_attempts(),
            calls = ?self.calls.operations,
            duration_ms = self.elapsed.as_millis() as u64,
            "summary"
        );
    }

    /// A CloudWatch Embedded Metric Format record, so operators can alarm on NON_COMPLIANT
    /// growth or on failures without extra API calls.
    pub fn emf(&self, rule_name: &str) -> String {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as u64)
            .unwrap_or(0);
        let metrics = [
            ("Compliant", "Count"),
            ("NonCompliant", "Count"),
            ("NotApplicable", "Count"),
            ("Unjudged", "Count"),
            ("Undelivered", "Count"),
            ("ApiCalls", "Count"),
            ("DurationMs", "Milliseconds"),
        ];
        json!({
            "_aws": {
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{
                    "Namespace": "SageMakerMonitoringScheduleIsolation",
                    "Dimensions": [["RuleName"], ["RuleName", "Trigger"]],
                    "Metrics": metrics.iter().map(|(name, unit)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
                }],
            },
            "level": "INFO",
            "message": "metrics",
            "RuleName": rule_name,
            "Trigger": self.trigger,
            "Compliant": self.of(Compliance::Compliant),
            "NonCompliant": self.of(Compliance::NonCompliant),
            "NotApplicable": self.of(Compliance::NotApplicable),
            "Unjudged": self.unjudged.len() + self.not_started,
            "Undelivered": self.undelivered.len(),
            "ApiCalls": self.calls.total_operations(),
            "DurationMs": self.elapsed.as_millis() as u64,
        })
        .to_string()
    }
}

fn listing(items: impl ExactSizeIterator<Item = String>) -> String {
    let total = items.len();
    let mut shown: Vec<String> = items.take(NAMES_IN_ERROR).collect();
    if total > NAMES_IN_ERROR {
        shown.push(format!("and {} more", total - NAMES_IN_ERROR));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_report_is_ok() {
        let mut report = Report::default();
        report.count(Compliance::Compliant);
        assert_eq!(report.judged(), 1);
        assert!(report.outcome().is_ok());
    }

    #[test]
    fn the_error_names_each_resource_up_to_a_limit() {
        let report = Report {
            unjudged: (0..25)
                .map(|i| Unjudged {
                    resource: format!("schedule-{i}"),
                    reason: "DescribeMonitoringSchedule: access denied".into(),
                })
                .collect(),
            ..Report::default()
        };
        let message = report.outcome().unwrap_err().to_string();
        assert!(
            message.starts_with("25 resource(s) could not be judged"),
            "{message}"
        );
        assert!(message.contains("schedule-19 (DescribeMonitoringSchedule: access denied)"));
        assert!(!message.contains("schedule-20 "));
        assert!(message.ends_with("and 5 more"), "{message}");
    }

    #[test]
    fn the_deadline_error_says_what_to_raise() {
        let report = Report {
            not_started: 7,
            unlisted_pages: true,
            ..Report::default()
        };
        let message = report.outcome().unwrap_err().to_string();
        assert!(
            message.contains("7 listed schedule(s) unjudged"),
            "{message}"
        );
        assert!(message.contains("Timeout"), "{message}");
    }

    #[test]
    fn emf_carries_the_counts() {
        let mut report = Report {
            trigger: "ScheduledNotification",
            ..Report::default()
        };
        report.count(Compliance::NonCompliant);
        report.count(Compliance::NonCompliant);
        let record: serde_json::Value = serde_json::from_str(&report.emf("r")).unwrap();
        assert_eq!(record["NonCompliant"], 2);
        assert_eq!(record["Compliant"], 0);
        assert_eq!(record["RuleName"], "r");
        assert_eq!(
            record["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Name"],
            "NonCompliant"
        );
    }
}
