//! The reads a verdict may cost, beyond the resource itself: the named job definitions (each
//! described once per invocation however many schedules share it) and the tags an exemption
//! may need.

use crate::core::exempt::Exemptions;
use crate::core::resource::JobDefinitionRef;
use crate::core::schedule::ScheduleView;
use crate::core::verdict::{self, JobDefinitionState, Judgement, Reading, Verdict};
use crate::error::ApiFailure;
use crate::rule::ports::SageMakerReads;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

type Lookup = Arc<OnceCell<Result<JobDefinitionState, ApiFailure>>>;

/// A per-invocation cache. Failures are cached too: a job definition that could not be read
/// leaves every schedule that names it unjudged, without asking again for each one.
pub struct JobDefinitions<'a, S> {
    sagemaker: &'a S,
    cache: Mutex<HashMap<JobDefinitionRef, Lookup>>,
}

impl<'a, S: SageMakerReads> JobDefinitions<'a, S> {
    pub fn new(sagemaker: &'a S) -> Self {
        JobDefinitions {
            sagemaker,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn get(
        &self,
        reference: &JobDefinitionRef,
    ) -> Result<JobDefinitionState, ApiFailure> {
        let cell = self
            .cache
            .lock()
            .expect("cache lock is never poisoned")
            .entry(reference.clone())
            .or_default()
            .clone();
        cell.get_or_init(|| self.sagemaker.describe_job_definition(reference))
            .await
            .clone()
    }

    /// Records a job definition whose state is already known (from a configuration item), so
    /// schedules that name it are judged without describing it.
    pub fn known(&self, reference: JobDefinitionRef, state: JobDefinitionState) {
        let cell = OnceCell::new_with(Some(Ok(state)));
        self.cache
            .lock()
            .expect("cache lock is never poisoned")
            .insert(reference, Arc::new(cell));
    }

    /// Judges a schedule, describing its named job definition when the verdict needs it.
    pub async fn verdict(
        &self,
        view: &ScheduleView,
        reading: Reading,
    ) -> Result<Verdict, ApiFailure> {
        match verdict::judge(&view.job, reading) {
            Judgement::Final(verdict) => Ok(verdict),
            Judgement::NeedsJobDefinition(reference) => {
                let state = self.get(&reference).await?;
                Ok(verdict::judge_job_definition(&reference, &state))
            }
        }
    }

    /// How many distinct job definitions were looked up.
    pub fn distinct(&self) -> usize {
        self.cache
            .lock()
            .expect("cache lock is never poisoned")
            .len()
    }
}

/// The exemption that applies to a resource, if any. Tags are read (ListTags on `arn`) only
/// when an exemption tag is configured and the caller has none from a configuration item.
pub async fn exemption<S: SageMakerReads>(
    sagemaker: &S,
    exemptions: &Exemptions,
    name: &str,
    arn: Option<&str>,
    known_tags: Option<&BTreeMap<String, String>>,
) -> Result<Option<Verdict>, ApiFailure> {
    if let Some(reason) = exemptions.by_name(name) {
        return Ok(Some(Verdict::not_applicable(reason)));
    }
    if !exemptions.needs_tags() {
        return Ok(None);
    }
    let fetched;
    let tags = match (known_tags, arn) {
        (Some(tags), _) => tags,
        (None, Some(arn)) => {
            fetched = sagemaker.tags(arn).await?;
            &fetched
        }
        (None, None) => return Ok(None),
    };
    Ok(exemptions.by_tags(tags).map(Verdict::not_applicable))
}
