//! What one invocation did, as one log line, one CloudWatch EMF record and, when work was left
//! undone, one error that names it.

use crate::core::calls::CallCounts;
use crate::core::verdict::Compliance;
use crate::error::{ApiFailure, Error};
use crate::rule::delivery::Undelivered;
use crate::rule::fix::Fixes;
use crate::rule::outcome::Unjudged;
use crate::rule::recorder::Recorded;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a sweep adds to a report beyond its verdicts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepFacts {
    /// Listed but not started for lack of time before the Lambda deadline.
    pub not_started: usize,
    /// More pages were left unlisted at the deadline.
    pub unlisted_pages: bool,
    /// Distinct job definitions described.
    pub job_definitions: usize,
    /// Results of resources that no longer exist, reported NOT_APPLICABLE.
    pub stale: usize,
    /// Why the listing stopped before its end, if it did.
    pub list_failure: Option<ApiFailure>,
    /// Reads given up at the Lambda deadline, each named by its operation and what it read.
    pub abandoned: Vec<String>,
}

impl SweepFacts {
    /// Whether the sweep left nothing unlisted or unjudged: only then does it say what no
    /// longer exists.
    pub fn complete(&self) -> bool {
        self.list_failure.is_none()
            && self.not_started == 0
            && !self.unlisted_pages
            && self.abandoned.is_empty()
    }
}

/// The verdicts of each kind, and the resources left without one: what a summary line counts,
/// and what adds up across accounts and regions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub compliant: usize,
    pub non_compliant: usize,
    pub not_applicable: usize,
    pub unjudged: usize,
}

impl Tally {
    pub fn judged(&self) -> usize {
        self.compliant + self.non_compliant + self.not_applicable
    }
}

impl std::ops::Add for Tally {
    type Output = Tally;

    fn add(self, other: Tally) -> Tally {
        Tally {
            compliant: self.compliant + other.compliant,
            non_compliant: self.non_compliant + other.non_compliant,
            not_applicable: self.not_applicable + other.not_applicable,
            unjudged: self.unjudged + other.unjudged,
        }
    }
}

impl std::iter::Sum for Tally {
    fn sum<I: Iterator<Item = Tally>>(tallies: I) -> Tally {
        tallies.fold(Tally::default(), |total, tally| total + tally)
    }
}

/// `15 judged (10 COMPLIANT, 3 NON_COMPLIANT, 2 NOT_APPLICABLE), 0 unjudged`.
impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} judged ({} COMPLIANT, {} NON_COMPLIANT, {} NOT_APPLICABLE), {} unjudged",
            self.judged(),
            self.compliant,
            self.non_compliant,
            self.not_applicable,
            self.unjudged
        )
    }
}

/// What one invocation did. Only a report: it is built once the work is done.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub trigger: &'static str,
    pub counts: BTreeMap<Compliance, usize>,
    pub delivered: usize,
    /// Verdicts Config already held, unchanged and recent, so not reported again; and of
    /// those, the ones a cut-short sweep re-stated anyway, and the ones it had no time to.
    pub unchanged: usize,
    pub restated: usize,
    pub not_restated: usize,
    pub vanished: usize,
    pub unjudged: Vec<Unjudged>,
    pub undelivered: Vec<Undelivered>,
    /// Resource types Config refused: `(type, Config's message)`.
    pub refused_types: Vec<(String, String)>,
    pub sweep: SweepFacts,
    pub fixes: Fixes,
    /// The assumed role the invocation acted as, named in its error.
    pub acting_as: Option<String>,
    pub calls: CallCounts,
    pub elapsed: Duration,
}

/// How many names an error message lists before it only counts the rest.
const NAMES_IN_ERROR: usize = 20;

impl Report {
    pub fn new(trigger: &'static str, recorded: Recorded, sweep: SweepFacts, fixes: Fixes) -> Self {
        Report {
            trigger,
            counts: recorded.counts,
            delivered: recorded.delivered.delivered,
            unchanged: recorded.unchanged,
            restated: recorded.delivered.restated,
            not_restated: recorded.delivered.not_restated,
            vanished: recorded.vanished,
            unjudged: recorded.unjudged,
            undelivered: recorded.delivered.undelivered,
            refused_types: recorded.delivered.refused_types,
            sweep,
            fixes,
            ..Report::default()
        }
    }

    /// How many evaluations of this compliance type were computed.
    pub fn of(&self, compliance: Compliance) -> usize {
        self.counts.get(&compliance).copied().unwrap_or(0)
    }

    /// The verdicts, and the resources left unjudged (listed but not started included).
    pub fn tally(&self) -> Tally {
        Tally {
            compliant: self.of(Compliance::Compliant),
            non_compliant: self.of(Compliance::NonCompliant),
            not_applicable: self.of(Compliance::NotApplicable),
            unjudged: self.unjudged.len() + self.sweep.not_started,
        }
    }

    pub fn judged(&self) -> usize {
        self.counts.values().sum()
    }

    pub fn is_complete(&self) -> bool {
        self.unjudged.is_empty()
            && self.undelivered.is_empty()
            && self.refused_types.is_empty()
            && self.sweep.not_started == 0
            && !self.sweep.unlisted_pages
            && self.sweep.abandoned.is_empty()
            && self.fixes.failures.is_empty()
            && self.fixes.not_started.is_empty()
    }

    /// `Ok` when every resource was judged and delivered; otherwise an error naming what was not.
    pub fn outcome(&self) -> Result<(), Error> {
        if let Some((_, message)) = self.refused_types.first() {
            let types: Vec<&str> = self.refused_types.iter().map(|(t, _)| t.as_str()).collect();
            return Err(Error::TypeRefused {
                resource_type: types.join(", "),
                message: message.clone(),
            });
        }
        if self.is_complete() {
            return Ok(());
        }
        let unjudged = self
            .unjudged
            .iter()
            .map(|u| format!("{} ({})", u.resource, u.reason));
        let undelivered = self
            .undelivered
            .iter()
            .map(|u| format!("{} {} ({})", u.resource_type, u.resource_id, u.reason));
        let failed_fixes = self
            .fixes
            .failures
            .iter()
            .map(|(schedule, error)| format!("{schedule} ({error})"));
        let mut parts: Vec<String> = [
            listing(
                "resource(s) could not be judged and got no evaluation",
                unjudged.collect(),
            ),
            listing(
                "evaluation(s) were computed but not delivered",
                undelivered.collect(),
            ),
            listing(
                "read(s) given up at the Lambda deadline",
                self.sweep.abandoned.clone(),
            ),
            listing("remediation(s) failed", failed_fixes.collect()),
            listing(
                "remediation(s) not started before the Lambda deadline",
                self.fixes.not_started.clone(),
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        if self.sweep.not_started > 0 || self.sweep.unlisted_pages {
            parts.push(format!(
                "stopped before the Lambda deadline with {} listed schedule(s) unjudged{}; everything judged was delivered. Raise the function's Timeout or the DescribeConcurrency rule parameter",
                self.sweep.not_started,
                if self.sweep.unlisted_pages {
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
            format!(
                "{} reported, {} unchanged (not reported again)",
                self.delivered,
                self.unchanged - self.restated
            )
        };
        format!(
            "{}: {}, {} vanished; {}; {} API calls ({} attempts) in {} ms",
            self.trigger,
            self.tally(),
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
            judged = self.judged(),
            reported = self.delivered,
            unchanged = self.unchanged - self.restated,
            restated = self.restated,
            not_restated = self.not_restated,
            delivered = self.delivered,
            unjudged = self.unjudged.len(),
            undelivered = self.undelivered.len(),
            vanished = self.vanished,
            not_started = self.sweep.not_started,
            job_definitions = self.sweep.job_definitions,
            stale = self.sweep.stale,
            remediated = self.fixes.remediated.len(),
            api_calls = self.calls.total_operations(),
            api_attempts = self.calls.total_attempts(),
            calls = ?self.calls.operations,
            duration_ms = self.elapsed.as_millis() as u64,
            "summary"
        );
    }

    /// A CloudWatch Embedded Metric Format record, so operators can alarm on NON_COMPLIANT
    /// growth or on failures without extra API calls.
    /// Dimensions: the rule, the rule and trigger, and the function (one organization function
    /// serves rules named differently in every member account; its alarms use this one).
    pub fn emf(&self, rule_name: &str, function_name: &str) -> String {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as u64)
            .unwrap_or(0);
        let metrics = [
            ("Compliant", "Count"),
            ("NonCompliant", "Count"),
            ("NotApplicable", "Count"),
            ("Judged", "Count"),
            ("Reported", "Count"),
            ("Unchanged", "Count"),
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
                    "Dimensions": [["RuleName"], ["RuleName", "Trigger"], ["FunctionName"]],
                    "Metrics": metrics.iter().map(|(name, unit)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
                }],
            },
            "level": "INFO",
            "message": "metrics",
            "RuleName": rule_name,
            "Trigger": self.trigger,
            "FunctionName": function_name,
            "Version": crate::version::VERSION,
            "Compliant": self.of(Compliance::Compliant),
            "NonCompliant": self.of(Compliance::NonCompliant),
            "NotApplicable": self.of(Compliance::NotApplicable),
            "Judged": self.judged(),
            "Reported": self.delivered,
            "Unchanged": self.unchanged - self.restated,
            "Unjudged": self.unjudged.len() + self.sweep.not_started,
            "Undelivered": self.undelivered.len(),
            "ApiCalls": self.calls.total_operations(),
            "DurationMs": self.elapsed.as_millis() as u64,
        })
        .to_string()
    }
}

/// `N what: a, b, c, and M more`, or nothing when there is nothing to list.
fn listing(what: &str, items: Vec<String>) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    let total = items.len();
    let mut shown: Vec<String> = items.into_iter().take(NAMES_IN_ERROR).collect();
    if total > NAMES_IN_ERROR {
        shown.push(format!("and {} more", total - NAMES_IN_ERROR));
    }
    Some(format!("{total} {what}: {}", shown.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::error::{ApiFailure, FailureKind};
    use crate::rule::outcome::Reason;

    fn with_counts(counts: &[(Compliance, usize)]) -> Report {
        Report {
            counts: counts.iter().copied().collect(),
            ..Report::default()
        }
    }

    #[test]
    fn a_complete_report_is_ok() {
        let report = with_counts(&[(Compliance::Compliant, 1)]);
        assert_eq!(report.judged(), 1);
        assert!(report.outcome().is_ok());
    }

    #[test]
    fn the_error_names_each_resource_up_to_a_limit() {
        let report = Report {
            unjudged: (0..25)
                .map(|i| Unjudged {
                    resource: format!("schedule-{i}"),
                    reason: Reason::Api(ApiFailure {
                        operation: "DescribeMonitoringSchedule",
                        kind: FailureKind::AccessDenied,
                        code: None,
                        message: String::new(),
                        request_id: None,
                    }),
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
            sweep: SweepFacts {
                not_started: 7,
                unlisted_pages: true,
                ..SweepFacts::default()
            },
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
        let report = Report {
            trigger: "ScheduledNotification",
            ..with_counts(&[(Compliance::NonCompliant, 2)])
        };
        let record: serde_json::Value = serde_json::from_str(&report.emf("r", "f")).unwrap();
        assert_eq!(record["FunctionName"], "f");
        assert_eq!(record["NonCompliant"], 2);
        assert_eq!(record["Compliant"], 0);
        assert_eq!(record["RuleName"], "r");
        assert_eq!(
            record["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Name"],
            "NonCompliant"
        );
    }
}
