//! `audit --aggregator`: every account and region from one AWS Config aggregator, with no role
//! assumed and no call in any member account. The aggregator is read at the edge
//! (`aws::aggregator`): the five types listed, then the schedules' recorded items, then those
//! of the job definitions they name, a hundred to a call; the verdicts, coverage and drift are
//! worked out in the core (`core::aggregate`, `core::coverage`) and printed by
//! `aggregator_output`. Exit codes are `audit`'s, an UNRESOLVED schedule counting as something
//! not read.

use super::aggregator_output;
use super::{AuditArgs, Format, dedup, exit_code};
use crate::aws::aggregator::{AggregatorReads, BATCH_LIMIT};
use crate::aws::sdk;
use crate::core::aggregate::{self, Fetched, Filter, Listed, Listing, Place, Read, Scope};
use crate::core::coverage::{self, RuleResults};
use crate::core::resource::SCHEDULE_TYPE;
use crate::core::verdict::Reading;
use crate::doors::exit::Stop;
use aws_smithy_types::DateTime;
use futures::StreamExt;
use tracing::Instrument;

/// Reads, judges and prints; returns the exit code.
pub async fn run(args: &AuditArgs, name: &str, format: Format) -> Result<i32, Stop> {
    let clients = sdk::load().await?;
    let reads = AggregatorReads::of(&clients, name);
    let concurrency = usize::from(args.concurrency);
    let reading = if args.strict {
        Reading::Literal
    } else {
        Reading::Resolved
    };
    let scope = Scope {
        accounts: (!args.accounts.is_empty()).then(|| dedup(args.accounts.clone())),
        regions: (!args.regions.is_empty() && !args.regions.iter().any(|r| r == "all"))
            .then(|| dedup(args.regions.clone())),
    };
    let started = std::time::Instant::now();
    let span = tracing::info_span!("aggregator", name);
    let (read, places, rule) = async {
        let mut read = Read {
            listings: list(&reads, &scope, concurrency).await,
            ..Read::default()
        };
        let schedules: Vec<Listed> = read.listed(SCHEDULE_TYPE).into_iter().cloned().collect();
        read.fetched
            .extend(fetch(&reads, schedules, concurrency).await);
        let wanted = read.wanted(reading);
        read.fetched
            .extend(fetch(&reads, wanted, concurrency).await);
        let places = aggregate::places(&scope, &read);
        let rule = match &args.rule {
            Some(rule) => Some(rule_results(&reads, rule, &places, concurrency).await),
            None => None,
        };
        (read, places, rule)
    }
    .instrument(span)
    .await;
    let lines = read.judge(reading);
    let now = DateTime::from(std::time::SystemTime::now());
    let assessment = coverage::assess(&read, lines, &places, rule.as_ref(), now);
    let calls = clients.counter.snapshot();
    tracing::info!(
        aggregator = name,
        schedules = assessment.lines.len(),
        api_calls = calls.total_operations(),
        duration_ms = started.elapsed().as_millis() as u64,
        "summary"
    );
    let mut out = std::io::stdout().lock();
    aggregator_output::print(
        &mut out,
        &mut std::io::stderr(),
        &assessment,
        &read,
        args.rule.is_some(),
        format,
        &calls,
    )?;
    let tally = assessment.tally();
    let everything_read =
        read.failures().next().is_none() && tally.unjudged == 0 && assessment.rule_read();
    Ok(exit_code(everything_read, tally.non_compliant > 0))
}

/// Each of the five types within each filter of the scope, `concurrency` listings at a time.
async fn list(reads: &AggregatorReads, scope: &Scope, concurrency: usize) -> Vec<Listing> {
    let filters = scope.filters();
    let jobs: Vec<(&'static str, Filter)> = aggregate::resource_types()
        .into_iter()
        .flat_map(|resource_type| filters.iter().map(move |f| (resource_type, f.clone())))
        .collect();
    futures::stream::iter(jobs)
        .map(|(resource_type, filter)| async move {
            let found = reads.list(resource_type, &filter).await;
            Listing {
                resource_type,
                filter,
                found,
            }
        })
        .buffered(concurrency)
        .collect()
        .await
}

/// The recorded items of `listed`, a batch of at most a hundred to a call.
async fn fetch(
    reads: &AggregatorReads,
    listed: Vec<Listed>,
    concurrency: usize,
) -> Vec<(Listed, Fetched)> {
    let batches: Vec<Vec<Listed>> = listed.chunks(BATCH_LIMIT).map(<[_]>::to_vec).collect();
    let fetched: Vec<Vec<(Listed, Fetched)>> = futures::stream::iter(batches)
        .map(|batch| async move { reads.fetch(&batch).await })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    fetched.into_iter().flatten().collect()
}

/// What `rule` reported in each of `places`.
async fn rule_results(
    reads: &AggregatorReads,
    rule: &str,
    places: &[Place],
    concurrency: usize,
) -> RuleResults {
    futures::stream::iter(places)
        .map(|place| async move { (place.clone(), reads.rule_results(rule, place).await) })
        .buffer_unordered(concurrency)
        .collect()
        .await
}
