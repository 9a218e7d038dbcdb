//! Named job definitions, described once per invocation however many schedules share them.

use crate::error::ApiFailure;
use crate::sagemaker::Schedules;
use crate::schedule::{JobDefinitionRef, ScheduleView};
use crate::verdict::{self, JobDefinitionState, Judgement, Reading, Verdict};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

type Lookup = Arc<OnceCell<Result<JobDefinitionState, ApiFailure>>>;

/// A per-invocation cache. Failures are cached too: a job definition that could not be read
/// leaves every schedule that names it unjudged, without asking again for each one.
pub struct JobDefinitions<'a, S> {
    schedules: &'a S,
    cache: Mutex<HashMap<JobDefinitionRef, Lookup>>,
}

impl<'a, S: Schedules> JobDefinitions<'a, S> {
    pub fn new(schedules: &'a S) -> Self {
        JobDefinitions {
            schedules,
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
        cell.get_or_init(|| self.schedules.describe_job_definition(reference))
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
