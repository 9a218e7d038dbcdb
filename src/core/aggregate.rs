//! An AWS Config aggregator as one more source of the views the sweep judges. A recorded
//! configuration item already has CloudFormation's property shape, so a schedule the
//! aggregator returns is read the way a change event's item is (`item`) and judged by the same
//! verdict; a job definition it names is resolved from the recorded job definitions of the same
//! account and region. What cannot be resolved is `UNRESOLVED`, with why: never guessed.
//!
//! Pure: what the aggregator listed and returned goes in, one line per schedule comes out.

use crate::core::event::{EventError, ItemHeader, ItemStatus};
use crate::core::item::Item;
use crate::core::resource::{JobDefinitionRef, MonitoringKind, SCHEDULE_TYPE};
use crate::core::schedule::ScheduleView;
use crate::core::verdict::{
    Compliance, JobDefinitionState, Judgement, Reading, Verdict, judge, judge_job_definition,
};
use crate::error::ApiFailure;
use aws_smithy_types::DateTime;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// An account and region an aggregator collects from: a 12-digit account and a region name,
/// nothing else, since both are printed as they are and start lines of a table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Place {
    account: String,
    region: String,
}

impl Place {
    pub fn new(account: &str, region: &str) -> Option<Place> {
        let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        let region_ok = (1..=64).contains(&region.len())
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        (account_ok && region_ok).then(|| Place {
            account: account.to_owned(),
            region: region.to_owned(),
        })
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn region(&self) -> &str {
        &self.region
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {} region {}", self.account, self.region)
    }
}

/// The types an aggregator audit reads: schedules, and the four kinds of job definition they
/// name.
pub fn resource_types() -> [&'static str; 5] {
    let [a, b, c, d] = MonitoringKind::ALL.map(MonitoringKind::resource_type);
    [SCHEDULE_TYPE, a, b, c, d]
}

/// What one listing covers: an account, a region, both, or neither (everything).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub account: Option<String>,
    pub region: Option<String>,
}

impl Filter {
    pub fn covers(&self, place: &Place) -> bool {
        self.account.as_deref().is_none_or(|a| a == place.account)
            && self.region.as_deref().is_none_or(|r| r == place.region)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.account, &self.region) {
            (None, None) => f.write_str("every account and region"),
            (Some(account), None) => write!(f, "account {account}"),
            (None, Some(region)) => write!(f, "region {region}"),
            (Some(account), Some(region)) => write!(f, "account {account} region {region}"),
        }
    }
}

/// The accounts and regions an audit is narrowed to (`--accounts`, `--regions`); `None`: all.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub accounts: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
}

impl Scope {
    /// One listing filter per account and region named, any account or region where none is.
    pub fn filters(&self) -> Vec<Filter> {
        let accounts: Vec<Option<String>> = match &self.accounts {
            Some(accounts) => accounts.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        let regions: Vec<Option<String>> = match &self.regions {
            Some(regions) => regions.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        accounts
            .iter()
            .flat_map(|account| {
                regions.iter().map(move |region| Filter {
                    account: account.clone(),
                    region: region.clone(),
                })
            })
            .collect()
    }
}

/// A resource as the aggregator lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Listed {
    pub place: Place,
    pub resource_type: String,
    pub resource_id: String,
    pub name: Option<String>,
}

/// What one listing (one type, within one filter) gave.
#[derive(Debug, Clone)]
pub struct Listing {
    pub resource_type: &'static str,
    pub filter: Filter,
    pub found: Result<Vec<Listed>, ApiFailure>,
}

/// A configuration item as `BatchGetAggregateResourceConfig` returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub status: Option<ItemStatus>,
    pub captured_at: DateTime,
    pub arn: Option<String>,
    /// `configuration`: a JSON string.
    pub configuration: Option<String>,
}

/// What became of one listed resource that was asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    Item(Recorded),
    /// Not returned: deleted since it was listed (the API returns no deleted resources).
    NotReturned,
    /// Still in `UnprocessedResourceIdentifiers` after this many attempts.
    Unprocessed(u32),
    Failed(ApiFailure),
}

/// Everything read from an aggregator.
#[derive(Debug, Clone, Default)]
pub struct Read {
    pub listings: Vec<Listing>,
    /// The resources asked for, and what became of each.
    pub fetched: BTreeMap<Listed, Fetched>,
}

/// A schedule's finding: a verdict, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Judged(Verdict),
    /// Not judged, and why. `unrecorded`: the job-definition kind the schedule names that is
    /// not recorded in its account and region.
    Unresolved {
        reason: String,
        unrecorded: Option<MonitoringKind>,
    },
}

impl Finding {
    fn unresolved(reason: impl Into<String>) -> Finding {
        Finding::Unresolved {
            reason: reason.into(),
            unrecorded: None,
        }
    }

    /// The verdict's compliance; `None` when unresolved.
    pub fn compliance(&self) -> Option<Compliance> {
        match self {
            Finding::Judged(verdict) => Some(verdict.compliance),
            Finding::Unresolved { .. } => None,
        }
    }

    /// `COMPLIANT`, `NON_COMPLIANT` or `UNRESOLVED`.
    pub fn compliance_type(&self) -> &'static str {
        self.compliance().map_or("UNRESOLVED", Compliance::as_str)
    }

    pub fn annotation(&self) -> &str {
        match self {
            Finding::Judged(verdict) => &verdict.annotation,
            Finding::Unresolved { reason, .. } => reason,
        }
    }
}

/// One schedule of one account and region, and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub place: Place,
    /// The id Config records it under, the one the rule reports it by.
    pub resource_id: String,
    pub name: String,
    pub finding: Finding,
}

/// The recorded job definitions of each account and region, by kind and name.
type Recordings<'r> = BTreeMap<(Place, MonitoringKind), BTreeMap<&'r str, &'r Listed>>;

impl Read {
    /// Everything listed of `resource_type`, each once.
    pub fn listed(&self, resource_type: &str) -> BTreeSet<&Listed> {
        self.listings
            .iter()
            .filter(|listing| listing.resource_type == resource_type)
            .filter_map(|listing| listing.found.as_ref().ok())
            .flatten()
            .collect()
    }

    /// Every account and region something was listed in.
    pub fn places(&self) -> BTreeSet<&Place> {
        self.listings
            .iter()
            .filter_map(|listing| listing.found.as_ref().ok())
            .flatten()
            .map(|listed| &listed.place)
            .collect()
    }

    /// The listings that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Listing> {
        self.listings
            .iter()
            .filter(|listing| listing.found.is_err())
    }

    /// Why `resource_type` could not be listed at `place`, if it could not.
    fn listing_failure(&self, resource_type: &str, place: &Place) -> Option<&ApiFailure> {
        self.listings
            .iter()
            .filter(|listing| {
                listing.resource_type == resource_type && listing.filter.covers(place)
            })
            .find_map(|listing| listing.found.as_ref().err())
    }

    fn recordings(&self) -> Recordings<'_> {
        let mut recordings: Recordings<'_> = BTreeMap::new();
        for kind in MonitoringKind::ALL {
            for listed in self.listed(kind.resource_type()) {
                let by_name = recordings.entry((listed.place.clone(), kind)).or_default();
                if let Some(name) = listed.name.as_deref() {
                    by_name.insert(name, listed);
                }
            }
        }
        recordings
    }

    /// The listed job definitions that the fetched schedules name: the only ones worth
    /// fetching.
    pub fn wanted(&self, reading: Reading) -> Vec<Listed> {
        let recordings = self.recordings();
        let mut wanted = BTreeSet::new();
        for schedule in self.listed(SCHEDULE_TYPE) {
            let Some(Fetched::Item(item)) = self.fetched.get(schedule) else {
                continue;
            };
            let Ok(Some(view)) = schedule_view(schedule, item) else {
                continue;
            };
            if let Judgement::NeedsJobDefinition(reference) = judge(&view.job, reading)
                && let Some(listed) = recordings
                    .get(&(schedule.place.clone(), reference.kind))
                    .and_then(|by_name| by_name.get(reference.name.as_str()))
            {
                wanted.insert((*listed).clone());
            }
        }
        wanted.into_iter().collect()
    }

    /// A line for every schedule listed that still exists, in account, region and name order.
    pub fn judge(&self, reading: Reading) -> Vec<Line> {
        let recordings = self.recordings();
        let mut lines = Vec::new();
        for schedule in self.listed(SCHEDULE_TYPE) {
            let finding = match self.fetched.get(schedule) {
                None => Finding::unresolved("its configuration item was not read"),
                Some(Fetched::NotReturned) => continue,
                Some(other) => match fetched_view(schedule, other) {
                    Err(finding) => finding,
                    Ok(None) => continue,
                    Ok(Some(view)) => match judge(&view.job, reading) {
                        Judgement::Final(verdict) => Finding::Judged(verdict),
                        Judgement::NeedsJobDefinition(reference) => {
                            self.resolve(&recordings, &schedule.place, &reference)
                        }
                    },
                },
            };
            let name = schedule
                .name
                .clone()
                .unwrap_or_else(|| schedule.resource_id.clone());
            lines.push(Line {
                place: schedule.place.clone(),
                resource_id: schedule.resource_id.clone(),
                name,
                finding,
            });
        }
        lines.sort_by(|a, b| (&a.place, &a.name).cmp(&(&b.place, &b.name)));
        lines
    }

    /// The verdict by the job definition `reference` names in the schedule's own account and
    /// region, as the aggregator recorded it there.
    fn resolve(
        &self,
        recordings: &Recordings<'_>,
        place: &Place,
        reference: &JobDefinitionRef,
    ) -> Finding {
        let JobDefinitionRef { kind, name } = reference;
        let resource_type = kind.resource_type();
        if let Some(failure) = self.listing_failure(resource_type, place) {
            return Finding::unresolved(format!(
                "Schedule names {kind} job definition '{name}', which could not be looked up: {failure}"
            ));
        }
        let recorded = recordings.get(&(place.clone(), *kind));
        let Some(listed) = recorded.and_then(|by_name| by_name.get(name.as_str())) else {
            if recorded.is_none_or(BTreeMap::is_empty) {
                return Finding::Unresolved {
                    reason: format!(
                        "Schedule names {kind} job definition '{name}', but no {resource_type} is recorded in {place}: the recorder may not record that type there, so its isolation is not guessed."
                    ),
                    unrecorded: Some(*kind),
                };
            }
            // The type is recorded there, and this one is not among them.
            return Finding::Judged(judge_job_definition(
                reference,
                &JobDefinitionState::Missing,
            ));
        };
        let unread = |why: String| {
            Finding::unresolved(format!(
                "Schedule names {kind} job definition '{name}', whose configuration item {why}"
            ))
        };
        match self.fetched.get(*listed) {
            None => unread("was not read".into()),
            Some(Fetched::NotReturned) => Finding::Judged(judge_job_definition(
                reference,
                &JobDefinitionState::Missing,
            )),
            Some(Fetched::Unprocessed(attempts)) => unread(unprocessed(*attempts)),
            Some(Fetched::Failed(failure)) => unread(format!("could not be read: {failure}")),
            Some(Fetched::Item(item)) => match read_item(listed, item) {
                Ok(Item::JobDefinition { state, .. }) => {
                    Finding::Judged(judge_job_definition(reference, &state))
                }
                Ok(_) => unread("holds no configuration (not recorded)".into()),
                Err(detail) => unread(format!("has an unexpected shape: {detail}")),
            },
        }
    }
}

fn unprocessed(attempts: u32) -> String {
    format!("was left unprocessed by BatchGetAggregateResourceConfig {attempts} time(s) in a row")
}

/// A fetched schedule's view; `Ok(None)` when it is deleted; the finding when it cannot be read.
fn fetched_view(schedule: &Listed, fetched: &Fetched) -> Result<Option<ScheduleView>, Finding> {
    match fetched {
        Fetched::Item(item) => schedule_view(schedule, item).map_err(Finding::unresolved),
        Fetched::NotReturned => Ok(None),
        Fetched::Unprocessed(attempts) => Err(Finding::unresolved(format!(
            "Its configuration item {}.",
            unprocessed(*attempts)
        ))),
        Fetched::Failed(failure) => Err(Finding::unresolved(format!(
            "Its configuration item could not be read: {failure}"
        ))),
    }
}

/// A recorded schedule's view; `Ok(None)` when the item says it is deleted.
fn schedule_view(schedule: &Listed, item: &Recorded) -> Result<Option<ScheduleView>, String> {
    match read_item(schedule, item) {
        Ok(Item::Schedule { view, .. }) => Ok(Some(view)),
        Ok(Item::Gone(status)) if status == ItemStatus::ResourceNotRecorded.as_str() => Err(
            "The recorder holds no configuration for it (ResourceNotRecorded), so it is not judged."
                .to_owned(),
        ),
        Ok(Item::Gone(_)) => Ok(None),
        Ok(_) => Err(format!(
            "The aggregator returned it as {}, not a schedule.",
            schedule.resource_type
        )),
        Err(detail) => Err(format!(
            "The recorded configuration item has an unexpected shape: {detail}"
        )),
    }
}

/// A recorded item, read the way a change event's item is.
fn read_item(listed: &Listed, item: &Recorded) -> Result<Item, String> {
    let configuration = match item.configuration.as_deref() {
        None | Some("" | "null") => None,
        Some(text) => Some(
            serde_json::from_str(text)
                .map_err(|error| format!("configuration is not JSON ({error})"))?,
        ),
    };
    let header = ItemHeader {
        resource_type: listed.resource_type.clone(),
        resource_id: listed.resource_id.clone(),
        resource_name: listed.name.clone(),
        arn: item.arn.clone(),
        status: item.status.unwrap_or(ItemStatus::Ok),
        captured_at: item.captured_at,
    };
    Item::read(&header, configuration.as_ref(), None).map_err(|error| match error {
        EventError::BadShape { detail, .. } => detail,
        other => other.to_string(),
    })
}

/// The accounts and regions to report on: those named, or else those the aggregator listed
/// anything in; every account named with every region named.
pub fn places(scope: &Scope, read: &Read) -> Vec<Place> {
    let seen = read.places();
    let accounts: BTreeSet<String> = match &scope.accounts {
        Some(accounts) => accounts.iter().cloned().collect(),
        None => seen.iter().map(|p| p.account.clone()).collect(),
    };
    let regions: BTreeSet<String> = match &scope.regions {
        Some(regions) => regions.iter().cloned().collect(),
        None => seen.iter().map(|p| p.region.clone()).collect(),
    };
    accounts
        .iter()
        .flat_map(|account| {
            regions
                .iter()
                .filter_map(|region| Place::new(account, region))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "111111111111";
    const US: &str = "us-east-1";
    const EU: &str = "eu-west-1";

    fn place(account: &str, region: &str) -> Place {
        Place::new(account, region).unwrap()
    }

    fn listed(place: &Place, resource_type: &str, name: &str) -> Listed {
        Listed {
            place: place.clone(),
            resource_type: resource_type.to_owned(),
            resource_id: format!("{}/{resource_type}/{name}", place.region),
            name: Some(name.to_owned()),
        }
    }

    fn item(configuration: serde_json::Value) -> Fetched {
        Fetched::Item(Recorded {
            status: Some(ItemStatus::Ok),
            captured_at: DateTime::from_secs(1_795_000_000),
            arn: None,
            configuration: Some(configuration.to_string()),
        })
    }

    fn named(name: &str, kind: &str) -> serde_json::Value {
        json!({"MonitoringScheduleName": name, "MonitoringScheduleConfig": {
            "MonitoringJobDefinitionName": "jd", "MonitoringType": kind}})
    }

    fn isolated(flag: bool) -> serde_json::Value {
        json!({"JobDefinitionName": "jd", "NetworkConfig": {"EnableNetworkIsolation": flag}})
    }

    /// One listing per type, everything fetched.
    fn read(resources: Vec<(Listed, Fetched)>) -> Read {
        let listings = resource_types()
            .into_iter()
            .map(|resource_type| Listing {
                resource_type,
                filter: Filter::default(),
                found: Ok(resources
                    .iter()
                    .filter(|(l, _)| l.resource_type == resource_type)
                    .map(|(l, _)| l.clone())
                    .collect()),
            })
            .collect();
        Read {
            listings,
            fetched: resources.into_iter().collect(),
        }
    }

    fn findings(read: &Read) -> Vec<(String, &'static str)> {
        read.judge(Reading::Resolved)
            .into_iter()
            .map(|line| (line.name, line.finding.compliance_type()))
            .collect()
    }

    #[test]
    fn a_named_job_definition_resolves_in_its_own_account_and_region_only() {
        let (us, eu) = (place(A, US), place(A, EU));
        let bias = MonitoringKind::ModelBias.resource_type();
        let quality = MonitoringKind::DataQuality.resource_type();
        let read = read(vec![
            (
                listed(&us, SCHEDULE_TYPE, "us-bias"),
                item(named("us-bias", "ModelBias")),
            ),
            (
                listed(&eu, SCHEDULE_TYPE, "eu-bias"),
                item(named("eu-bias", "ModelBias")),
            ),
            (listed(&us, bias, "jd"), item(isolated(true))),
            (listed(&eu, bias, "jd"), item(isolated(false))),
            // The same name as another kind, isolated: must not be taken for the ModelBias one.
            (listed(&eu, quality, "jd"), item(isolated(true))),
        ]);
        assert_eq!(
            findings(&read),
            [
                ("eu-bias".to_owned(), "NON_COMPLIANT"),
                ("us-bias".to_owned(), "COMPLIANT")
            ]
        );
        let wanted: Vec<(String, String)> = read
            .wanted(Reading::Resolved)
            .into_iter()
            .map(|l| (l.place.region, l.resource_type))
            .collect();
        assert_eq!(
            wanted,
            [
                (EU.to_owned(), bias.to_owned()),
                (US.to_owned(), bias.to_owned())
            ]
        );
        assert!(read.wanted(Reading::Literal).is_empty());
    }

    #[test]
    fn a_kind_recorded_nowhere_there_is_unresolved_and_one_recorded_but_absent_is_missing() {
        let (us, eu) = (place(A, US), place(A, EU));
        let quality = MonitoringKind::ModelQuality.resource_type();
        let read = read(vec![
            (
                listed(&us, SCHEDULE_TYPE, "absent"),
                item(named("absent", "ModelQuality")),
            ),
            (listed(&us, quality, "another"), item(isolated(true))),
            (
                listed(&eu, SCHEDULE_TYPE, "unrecorded"),
                item(named("unrecorded", "ModelQuality")),
            ),
        ]);
        let lines = read.judge(Reading::Resolved);
        assert_eq!(lines[0].name, "unrecorded");
        match &lines[0].finding {
            Finding::Unresolved { reason, unrecorded } => {
                assert_eq!(*unrecorded, Some(MonitoringKind::ModelQuality));
                assert!(
                    reason.contains(&format!(
                        "no {quality} is recorded in account {A} region {EU}"
                    )),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(lines[1].finding.compliance_type(), "NON_COMPLIANT");
        assert!(
            lines[1]
                .finding
                .annotation()
                .contains("which does not exist"),
            "{:?}",
            lines[1].finding
        );
    }

    #[test]
    fn what_could_not_be_read_is_unresolved_and_what_is_gone_is_left_out() {
        let us = place(A, US);
        let failure = ApiFailure::refused("BatchGetAggregateResourceConfig", "no");
        let embedded = json!({"MonitoringScheduleName": "ok", "MonitoringScheduleConfig": {
            "MonitoringJobDefinition": {"NetworkConfig": {"EnableNetworkIsolation": true}}}});
        let read = read(vec![
            (listed(&us, SCHEDULE_TYPE, "ok"), item(embedded)),
            (listed(&us, SCHEDULE_TYPE, "deleted"), Fetched::NotReturned),
            (
                listed(&us, SCHEDULE_TYPE, "unprocessed"),
                Fetched::Unprocessed(5),
            ),
            (
                listed(&us, SCHEDULE_TYPE, "failed"),
                Fetched::Failed(failure),
            ),
            (
                listed(&us, SCHEDULE_TYPE, "garbled"),
                item(json!({"MonitoringScheduleConfig": "not an object"})),
            ),
        ]);
        let lines = read.judge(Reading::Resolved);
        let by_name: BTreeMap<&str, &Finding> = lines
            .iter()
            .map(|l| (l.name.as_str(), &l.finding))
            .collect();
        assert_eq!(by_name.len(), 4, "the deleted one has no line");
        assert_eq!(by_name["ok"].compliance_type(), "COMPLIANT");
        assert!(by_name["unprocessed"].annotation().contains("5 time(s)"));
        assert!(
            by_name["failed"]
                .annotation()
                .contains("BatchGetAggregateResourceConfig: refused")
        );
        assert!(
            by_name["garbled"]
                .annotation()
                .contains("MonitoringScheduleConfig: expected an object"),
            "{:?}",
            by_name["garbled"]
        );
        for name in ["unprocessed", "failed", "garbled"] {
            assert_eq!(by_name[name].compliance(), None, "{name}");
        }
    }

    #[test]
    fn a_failed_job_definition_listing_leaves_its_schedules_unresolved_where_it_covers() {
        let (us, eu) = (place(A, US), place(A, EU));
        let bias = MonitoringKind::ModelBias.resource_type();
        let mut read = read(vec![
            (
                listed(&us, SCHEDULE_TYPE, "us"),
                item(named("us", "ModelBias")),
            ),
            (
                listed(&eu, SCHEDULE_TYPE, "eu"),
                item(named("eu", "ModelBias")),
            ),
            (listed(&eu, bias, "jd"), item(isolated(true))),
        ]);
        for listing in &mut read.listings {
            if listing.resource_type == bias {
                listing.filter.region = Some(EU.into());
            }
        }
        read.listings.push(Listing {
            resource_type: bias,
            filter: Filter {
                account: None,
                region: Some(US.into()),
            },
            found: Err(ApiFailure::refused(
                "ListAggregateDiscoveredResources",
                "denied",
            )),
        });
        let lines = read.judge(Reading::Resolved);
        assert_eq!(lines[0].finding.compliance_type(), "COMPLIANT", "eu");
        assert!(
            lines[1]
                .finding
                .annotation()
                .contains("could not be looked up"),
            "{:?}",
            lines[1]
        );
        assert_eq!(read.failures().count(), 1);
    }

    #[test]
    fn places_are_the_named_ones_or_those_seen() {
        let read = read(vec![(
            listed(&place(A, EU), SCHEDULE_TYPE, "s"),
            Fetched::NotReturned,
        )]);
        assert_eq!(places(&Scope::default(), &read), [place(A, EU)]);
        let scope = Scope {
            accounts: Some(vec![A.into(), "222222222222".into()]),
            regions: Some(vec![US.into()]),
        };
        assert_eq!(
            places(&scope, &read),
            [place(A, US), place("222222222222", US)]
        );
        assert_eq!(scope.filters().len(), 2);
        assert_eq!(Scope::default().filters(), [Filter::default()]);
        assert!(Place::new("1234", US).is_none());
        assert!(Place::new(A, "EU West\n").is_none());
    }
}
