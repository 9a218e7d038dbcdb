//! One changed item, judged: the step the plan chose for it carried out, with the reads it costs
//! (an oversized item's fetch, a named job definition, tags for an exemption) in the time left.
//! The answer is one [`Outcome`] for the item's own resource; the schedules a changed job
//! definition re-judges are a sweep of their own (see `Service::handle`).

use crate::core::event::ItemHeader;
use crate::core::item::Item;
use crate::core::params::RuleParams;
use crate::core::plan::Step;
use crate::core::resource::{JobDefinitionRef, ResourceKind};
use crate::core::schedule::{JobSpec, ScheduleView};
use crate::core::verdict::{self, JobDefinitionState, Verdict};
use crate::rule::deadline::{Deadline, within};
use crate::rule::lookups::{JobDefinitions, exemption};
use crate::rule::outcome::{Judged, Outcome, Reason, Subject};
use crate::rule::ports::{ConfigReads, SageMakerReads};
use std::collections::BTreeMap;

/// The outcome of `step` for the item's own resource.
pub async fn judge<S: SageMakerReads>(
    sagemaker: &S,
    params: &RuleParams,
    header: &ItemHeader,
    step: Step,
    deadline: Option<Deadline>,
) -> Outcome {
    let decided = match step {
        Step::Report(verdict) => Ok((verdict, None)),
        Step::JudgeSchedule { view, tags } => {
            read(deadline, schedule(sagemaker, params, header, view, tags)).await
        }
        Step::JudgeJobDefinition { reference, state } => {
            let judged = job_definition(sagemaker, params, header, &reference, &state);
            read(deadline, judged).await.map(|verdict| (verdict, None))
        }
        Step::Rejudge { .. } => Ok((
            Verdict::not_applicable(
                "This rule judges monitoring schedules: the schedules that name this job definition were judged again.",
            ),
            None,
        )),
    };
    match decided {
        Ok((verdict, rests_on)) => {
            tracing::info!(resource = %header.resource_id, compliance = %verdict.compliance, "judged");
            Outcome::Judged(Judged {
                subject: Subject {
                    resource_type: header.resource_type.clone(),
                    id: header.resource_id.clone(),
                    name: header.resource_name.clone(),
                    arn: header.arn.clone(),
                },
                verdict,
                at: header.captured_at,
                rests_on,
            })
        }
        Err(reason) => unjudged(header, reason),
    }
}

/// The item's resource, named, left without a verdict.
pub fn unjudged(header: &ItemHeader, reason: Reason) -> Outcome {
    let label = header
        .resource_name
        .clone()
        .unwrap_or_else(|| header.resource_id.clone());
    Outcome::unjudged(label, reason)
}

/// Reads an oversized item, in the time left: from Config's history first, else from
/// SageMaker.
pub async fn fetch<S: SageMakerReads, C: ConfigReads>(
    sagemaker: &S,
    config: &C,
    header: &ItemHeader,
    deadline: Option<Deadline>,
) -> Result<Item, Reason> {
    read(deadline, fetch_item(sagemaker, config, header)).await
}

async fn fetch_item<S: SageMakerReads, C: ConfigReads>(
    sagemaker: &S,
    config: &C,
    header: &ItemHeader,
) -> Result<Item, Reason> {
    let fetched = config
        .item_at(
            &header.resource_type,
            &header.resource_id,
            header.captured_at,
        )
        .await;
    match fetched {
        Ok(Some(item)) if item.status.is_some_and(|s| s.is_gone_or_unrecorded()) => {
            return Ok(Item::Gone(item.status.map_or("deleted", |s| s.as_str())));
        }
        Ok(Some(item)) if item.configuration.is_some() => {
            return Item::read(header, item.configuration.as_ref(), Some(&item.tags))
                .map_err(|error| Reason::Unreadable(error.to_string()));
        }
        Ok(_) => tracing::info!("Config holds no configuration for the item; describing it"),
        Err(failure) => {
            tracing::warn!(%failure, "could not fetch the configuration item; describing it")
        }
    }
    let name = header.resource_name.as_deref().ok_or(Reason::Unnamed)?;
    if let ResourceKind::JobDefinition(kind) = ResourceKind::of(&header.resource_type) {
        let reference = JobDefinitionRef {
            kind,
            name: name.to_owned(),
        };
        return match sagemaker.describe_job_definition(&reference).await? {
            JobDefinitionState::Missing => Ok(Item::Gone("deleted")),
            state => Ok(Item::JobDefinition { reference, state }),
        };
    }
    match sagemaker.describe(name).await? {
        Some(view) => Ok(Item::Schedule { view, tags: None }),
        None => Ok(Item::Gone("deleted")),
    }
}

/// The changed schedule's verdict, and the job definition it rests on unless it is exempt.
async fn schedule<S: SageMakerReads>(
    sagemaker: &S,
    params: &RuleParams,
    header: &ItemHeader,
    view: ScheduleView,
    tags: Option<BTreeMap<String, String>>,
) -> Result<(Verdict, Option<JobSpec>), Reason> {
    let name = view
        .name
        .as_deref()
        .or(header.resource_name.as_deref())
        .unwrap_or_default();
    if let Some(exempt) = item_exemption(sagemaker, params, name, tags.as_ref(), header).await? {
        return Ok((exempt, None));
    }
    let verdict = JobDefinitions::new(sagemaker)
        .verdict(&view, params.reading)
        .await?;
    Ok((verdict, Some(view.job)))
}

async fn job_definition<S: SageMakerReads>(
    sagemaker: &S,
    params: &RuleParams,
    header: &ItemHeader,
    reference: &JobDefinitionRef,
    state: &JobDefinitionState,
) -> Result<Verdict, Reason> {
    if let Some(exempt) = item_exemption(sagemaker, params, &reference.name, None, header).await? {
        return Ok(exempt);
    }
    Ok(verdict::judge_job_definition(reference, state))
}

/// The exemption that applies to a changed resource; tags come from the item, or ListTags
/// when the item had none and an exemption tag is configured.
async fn item_exemption<S: SageMakerReads>(
    sagemaker: &S,
    params: &RuleParams,
    name: &str,
    tags: Option<&BTreeMap<String, String>>,
    header: &ItemHeader,
) -> Result<Option<Verdict>, Reason> {
    let arn = header.arn.as_deref().unwrap_or(&header.resource_id);
    Ok(exemption(sagemaker, &params.exemptions, name, Some(arn), tags).await?)
}

/// The reads a changed item needs, in the time left: given up at the deadline, the item is
/// left unjudged and named.
async fn read<T>(
    deadline: Option<Deadline>,
    reads: impl Future<Output = Result<T, Reason>>,
) -> Result<T, Reason> {
    within(deadline, reads)
        .await
        .unwrap_or(Err(Reason::Deadline))
}
