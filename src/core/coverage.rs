//! Coverage and drift, as data: what a Config rule reported beside what the aggregator holds.
//! Each schedule's line says what the rule holds for it and whether that agrees with the
//! verdict (a stale result, a missed one); each account and region gets one row that says how
//! much there was, how much was judged, whether the rule has reported there, which types the
//! recorder there does not record, and how old the rule's results are.
//!
//! No aggregator API lists the rules of a source account, so a rule that has not reported
//! looks like a rule that is not deployed: `rule_deployed` is whether it has reported.

use crate::core::aggregate::{Finding, Line, Place, Read};
use crate::core::resource::SCHEDULE_TYPE;
use crate::core::verdict::Compliance;
use crate::error::ApiFailure;
use crate::rule::report::Tally;
use aws_smithy_types::DateTime;
use std::collections::{BTreeMap, BTreeSet};

/// One result a rule holds, as the aggregator returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    pub resource_type: String,
    pub resource_id: String,
    pub compliance: Compliance,
    pub recorded_at: Option<DateTime>,
}

/// What a rule reported in each account and region asked, or why it could not be read.
pub type RuleResults = BTreeMap<Place, Result<Vec<RuleResult>, ApiFailure>>;

/// A schedule's line beside the rule's result for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drift {
    /// What the rule holds; `None` when it holds nothing (or its results could not be read).
    pub rule_result: Option<Compliance>,
    /// Whether that is the verdict; `None` when either side is unknown.
    pub agrees: Option<bool>,
}

/// One account and region.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    pub place: Place,
    /// Schedules the aggregator holds there.
    pub schedules: usize,
    /// Of those, judged COMPLIANT or NON_COMPLIANT.
    pub judged: usize,
    pub tally: Tally,
    /// With a rule: its results there; `None` without one, or when they could not be read.
    pub rule_results: Option<usize>,
    pub oldest_result_age_hours: Option<f64>,
    /// Types the recorder there does not record, as far as what was read shows.
    pub missing_types: Vec<&'static str>,
    /// With a rule: whether it has reported there.
    pub rule_deployed: Option<bool>,
    /// Why the rule's results there could not be read.
    pub rule_unread: Option<String>,
}

impl Coverage {
    /// Whether something is missing here: a type not recorded, a schedule unresolved, or the
    /// rule's results absent or unreadable.
    pub fn is_missing(&self) -> bool {
        !self.missing_types.is_empty()
            || self.tally.unjudged > 0
            || self.rule_deployed == Some(false)
            || self.rule_unread.is_some()
    }
}

/// The lines, each with its drift when a rule was given, and a coverage row per place.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub lines: Vec<(Line, Option<Drift>)>,
    pub coverage: Vec<Coverage>,
}

impl Assessment {
    pub fn tally(&self) -> Tally {
        self.coverage.iter().map(|row| row.tally).sum()
    }

    /// Whether every rule result asked for was read.
    pub fn rule_read(&self) -> bool {
        self.coverage.iter().all(|row| row.rule_unread.is_none())
    }
}

fn tally(lines: &[&Line]) -> Tally {
    let of = |compliance| {
        lines
            .iter()
            .filter(|l| l.finding.compliance() == Some(compliance))
            .count()
    };
    Tally {
        compliant: of(Compliance::Compliant),
        non_compliant: of(Compliance::NonCompliant),
        not_applicable: of(Compliance::NotApplicable),
        unjudged: lines
            .iter()
            .filter(|l| l.finding.compliance().is_none())
            .count(),
    }
}

fn drift(line: &Line, results: &Result<Vec<RuleResult>, ApiFailure>) -> Drift {
    let Ok(results) = results else {
        return Drift {
            rule_result: None,
            agrees: None,
        };
    };
    let rule_result = results
        .iter()
        .find(|r| r.resource_type == SCHEDULE_TYPE && r.resource_id == line.resource_id)
        .map(|r| r.compliance);
    let agrees = line
        .finding
        .compliance()
        .map(|ours| rule_result == Some(ours));
    Drift {
        rule_result,
        agrees,
    }
}

/// `now - oldest`, in hours to a tenth.
fn age_hours(results: &[RuleResult], now: DateTime) -> Option<f64> {
    let oldest = results
        .iter()
        .filter_map(|r| r.recorded_at)
        .map(|t| t.as_secs_f64())
        .reduce(f64::min)?;
    let hours = (now.as_secs_f64() - oldest).max(0.0) / 3600.0;
    Some((hours * 10.0).round() / 10.0)
}

/// Lines, drift and coverage for `places`; `rule`: what the rule reported in each of them.
pub fn assess(
    read: &Read,
    lines: Vec<Line>,
    places: &[Place],
    rule: Option<&RuleResults>,
    now: DateTime,
) -> Assessment {
    let listed_schedules: BTreeSet<&Place> = read
        .listed(SCHEDULE_TYPE)
        .into_iter()
        .map(|listed| &listed.place)
        .collect();
    let coverage = places
        .iter()
        .map(|place| {
            let here: Vec<&Line> = lines.iter().filter(|l| l.place == *place).collect();
            let tally = tally(&here);
            let mut missing: BTreeSet<&'static str> = here
                .iter()
                .filter_map(|l| match &l.finding {
                    Finding::Unresolved {
                        unrecorded: Some(kind),
                        ..
                    } => Some(kind.resource_type()),
                    _ => None,
                })
                .collect();
            let results = rule.and_then(|rule| rule.get(place));
            let reported = results.and_then(|r| r.as_ref().ok());
            // The rule judged schedules here that the aggregator does not hold: the recorder
            // does not record the type.
            if reported
                .is_some_and(|r| r.iter().any(|result| result.resource_type == SCHEDULE_TYPE))
                && !listed_schedules.contains(place)
            {
                missing.insert(SCHEDULE_TYPE);
            }
            Coverage {
                place: place.clone(),
                schedules: here.len(),
                judged: tally.compliant + tally.non_compliant,
                tally,
                rule_results: reported.map(Vec::len),
                oldest_result_age_hours: reported.and_then(|r| age_hours(r, now)),
                missing_types: missing.into_iter().collect(),
                rule_deployed: reported.map(|r| !r.is_empty()),
                rule_unread: match (rule, results) {
                    (Some(_), None) => Some("not asked".to_owned()),
                    (_, Some(Err(failure))) => Some(failure.to_string()),
                    _ => None,
                },
            }
        })
        .collect();
    let lines = lines
        .into_iter()
        .map(|line| {
            let drift = rule.map(|rule| match rule.get(&line.place) {
                Some(results) => drift(&line, results),
                None => Drift {
                    rule_result: None,
                    agrees: None,
                },
            });
            (line, drift)
        })
        .collect();
    Assessment { lines, coverage }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::aggregate::{Filter, Listed, Listing, resource_types};
    use crate::core::resource::MonitoringKind;
    use crate::core::verdict::Verdict;

    const A: &str = "111111111111";

    fn place(region: &str) -> Place {
        Place::new(A, region).unwrap()
    }

    fn line(region: &str, id: &str, finding: Finding) -> Line {
        Line {
            place: place(region),
            resource_id: id.into(),
            name: id.into(),
            finding,
        }
    }

    fn judged(compliance: Compliance) -> Finding {
        let verdict = Verdict::not_applicable("x");
        Finding::Judged(Verdict {
            compliance,
            ..verdict
        })
    }

    fn result(id: &str, compliance: Compliance, recorded_at: i64) -> RuleResult {
        RuleResult {
            resource_type: SCHEDULE_TYPE.into(),
            resource_id: id.into(),
            compliance,
            recorded_at: Some(DateTime::from_secs(recorded_at)),
        }
    }

    /// A read that listed a schedule at each of `regions`.
    fn listing(regions: &[&str]) -> Read {
        Read {
            listings: resource_types()
                .into_iter()
                .map(|resource_type| Listing {
                    resource_type,
                    filter: Filter::default(),
                    found: Ok(regions
                        .iter()
                        .filter(|_| resource_type == SCHEDULE_TYPE)
                        .map(|region| Listed {
                            place: place(region),
                            resource_type: SCHEDULE_TYPE.into(),
                            resource_id: format!("{region}-s"),
                            name: None,
                        })
                        .collect()),
                })
                .collect(),
            fetched: BTreeMap::new(),
        }
    }

    #[test]
    fn drift_shows_stale_missed_and_agreeing_results() {
        let now = DateTime::from_secs(1_000_000);
        let lines = vec![
            line("us-east-1", "agrees", judged(Compliance::Compliant)),
            line("us-east-1", "stale", judged(Compliance::NonCompliant)),
            line("us-east-1", "missed", judged(Compliance::NonCompliant)),
            line(
                "us-east-1",
                "unresolved",
                Finding::Unresolved {
                    reason: "r".into(),
                    unrecorded: Some(MonitoringKind::ModelBias),
                },
            ),
        ];
        let rule: RuleResults = BTreeMap::from([(
            place("us-east-1"),
            Ok(vec![
                result("agrees", Compliance::Compliant, 1_000_000 - 7_200),
                result("stale", Compliance::Compliant, 1_000_000 - 36_000),
                result("unresolved", Compliance::Compliant, 1_000_000),
            ]),
        )]);
        let assessment = assess(
            &listing(&["us-east-1"]),
            lines,
            &[place("us-east-1")],
            Some(&rule),
            now,
        );
        let drift: BTreeMap<&str, Drift> = assessment
            .lines
            .iter()
            .map(|(line, drift)| (line.name.as_str(), drift.unwrap()))
            .collect();
        let pair = |name: &str| (drift[name].rule_result, drift[name].agrees);
        assert_eq!(pair("agrees"), (Some(Compliance::Compliant), Some(true)));
        assert_eq!(pair("stale"), (Some(Compliance::Compliant), Some(false)));
        assert_eq!(pair("missed"), (None, Some(false)));
        assert_eq!(pair("unresolved"), (Some(Compliance::Compliant), None));
        let row = &assessment.coverage[0];
        assert_eq!((row.schedules, row.judged), (4, 3));
        assert_eq!(row.rule_results, Some(3));
        assert_eq!(row.oldest_result_age_hours, Some(10.0));
        assert_eq!(row.rule_deployed, Some(true));
        assert_eq!(
            row.missing_types,
            [MonitoringKind::ModelBias.resource_type()]
        );
        assert!(row.is_missing());
        assert_eq!(assessment.tally().unjudged, 1);
    }

    #[test]
    fn coverage_says_where_the_rule_has_not_reported_or_the_schedules_are_not_recorded() {
        let now = DateTime::from_secs(1_000_000);
        let places = [place("eu-west-1"), place("us-east-1"), place("us-west-2")];
        let rule: RuleResults = BTreeMap::from([
            (place("eu-west-1"), Ok(vec![])),
            // Results for schedules the aggregator does not hold there.
            (
                place("us-east-1"),
                Ok(vec![result("x", Compliance::Compliant, 0)]),
            ),
            (
                place("us-west-2"),
                Err(ApiFailure::refused(
                    "GetAggregateComplianceDetailsByConfigRule",
                    "no",
                )),
            ),
        ]);
        let assessment = assess(&listing(&["eu-west-1"]), vec![], &places, Some(&rule), now);
        let rows = &assessment.coverage;
        assert_eq!(rows[0].rule_deployed, Some(false));
        assert_eq!(rows[0].oldest_result_age_hours, None);
        assert!(rows[0].missing_types.is_empty());
        assert!(rows[0].is_missing());
        assert_eq!(rows[1].missing_types, [SCHEDULE_TYPE]);
        assert_eq!(rows[2].rule_results, None);
        assert!(rows[2].rule_unread.as_deref().unwrap().contains("refused"));
        assert!(!assessment.rule_read());
        // Without a rule, nothing is said about one.
        let plain = assess(&listing(&["eu-west-1"]), vec![], &places, None, now);
        assert!(plain.coverage.iter().all(|row| row.rule_deployed.is_none()
            && row.rule_results.is_none()
            && !row.is_missing()));
        assert!(plain.rule_read());
    }
}
