//! What a periodic sweep lists and judges: monitoring schedules (SageMaker.14), or standalone
//! job definitions (SageMaker.11, .12 and their model quality and explainability twins).

use crate::core::exempt::Exemptions;
use crate::core::resource::{JobDefinitionRef, MonitoringKind, ResourceKind, SCHEDULE_TYPE};
use crate::core::schedule::{JobSpec, ScheduleView};
use crate::core::verdict::{self, JobDefinitionState, Reading, Verdict};
use crate::error::ApiFailure;
use crate::rule::lookups::{JobDefinitions, exemption};
use crate::rule::outcome::Reason;
use crate::rule::ports::{NamedJob, Page, SageMakerReads};

/// A listed resource, with the type it is reported under and what its summary said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub resource_type: &'static str,
    pub name: String,
    pub arn: Option<String>,
    /// The job definition the summary of a schedule names.
    pub named: Option<NamedJob>,
}

/// What judging one listed resource found.
pub enum Found {
    /// Its verdict, and for a schedule that was read, the job definition the verdict rests on.
    Verdict(Verdict, Option<JobSpec>),
    /// Gone between list and describe: skipped, not judged.
    Gone,
    Unknown(Reason),
}

/// What a sweep lists and how it judges one listed resource.
pub trait Inventory: Sync {
    /// The resource types listed, in order; `list_page` is called for each in turn.
    fn resource_types(&self) -> &[&'static str];

    fn list_page(
        &self,
        type_index: usize,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page, ApiFailure>> + Send;

    /// The list call `list_page` makes for the type at `type_index`, to name it when it fails.
    fn list_operation(&self, type_index: usize) -> &'static str;

    fn judge(&self, listed: &Listed) -> impl Future<Output = Found> + Send;

    /// Distinct job definitions described (for the summary).
    fn job_definitions(&self) -> usize {
        0
    }

    /// The verdict for a result Config holds for a type this sweep does not list.
    fn beyond_scope(&self, resource_type: &str) -> Verdict {
        Verdict::not_applicable(format!(
            "{resource_type} is out of this rule's scope, so this earlier result no longer applies."
        ))
    }
}

/// [`exemption`] for a listed resource, as what judging it found.
async fn listed_exemption<S: SageMakerReads>(
    sagemaker: &S,
    exemptions: &Exemptions,
    listed: &Listed,
) -> Option<Found> {
    match exemption(
        sagemaker,
        exemptions,
        &listed.name,
        listed.arn.as_deref(),
        None,
    )
    .await
    {
        Ok(verdict) => verdict.map(|verdict| Found::Verdict(verdict, None)),
        Err(failure) => Some(Found::Unknown(Reason::Api(failure))),
    }
}

pub struct ScheduleInventory<'a, S> {
    sagemaker: &'a S,
    job_definitions: JobDefinitions<'a, S>,
    reading: Reading,
    exemptions: &'a Exemptions,
    /// Only the schedules that name this job definition (a job-definition change).
    naming: Option<JobDefinitionRef>,
}

impl<'a, S: SageMakerReads> ScheduleInventory<'a, S> {
    pub fn new(sagemaker: &'a S, reading: Reading, exemptions: &'a Exemptions) -> Self {
        ScheduleInventory {
            sagemaker,
            job_definitions: JobDefinitions::new(sagemaker),
            reading,
            exemptions,
            naming: None,
        }
    }

    /// Just the schedules that name `reference`, judged against its known `state`.
    pub fn naming(mut self, reference: JobDefinitionRef, state: JobDefinitionState) -> Self {
        self.job_definitions.known(reference.clone(), state);
        self.naming = Some(reference);
        self
    }
}

impl<S: SageMakerReads> Inventory for ScheduleInventory<'_, S> {
    fn resource_types(&self) -> &[&'static str] {
        &[SCHEDULE_TYPE]
    }

    fn list_operation(&self, _type_index: usize) -> &'static str {
        "ListMonitoringSchedules"
    }

    async fn list_page(
        &self,
        _type_index: usize,
        next_token: Option<String>,
    ) -> Result<Page, ApiFailure> {
        self.sagemaker
            .list_page(next_token, self.naming.as_ref())
            .await
    }

    async fn judge(&self, listed: &Listed) -> Found {
        if let Some(exempt) = listed_exemption(self.sagemaker, self.exemptions, listed).await {
            return exempt;
        }
        let view = match &listed.named {
            // The summary names the job definition and its type: that decides the verdict,
            // and describing the schedule would add nothing.
            Some(NamedJob {
                name,
                monitoring_type: Some(monitoring_type),
            }) => ScheduleView {
                name: Some(listed.name.clone()),
                arn: listed.arn.clone(),
                job: JobSpec::Named {
                    name: name.clone(),
                    monitoring_type: Some(monitoring_type.clone()),
                },
            },
            _ => match self.sagemaker.describe(&listed.name).await {
                Ok(Some(view)) => view,
                Ok(None) => return Found::Gone,
                Err(failure) => return Found::Unknown(failure.into()),
            },
        };
        match self.job_definitions.verdict(&view, self.reading).await {
            Ok(verdict) => Found::Verdict(verdict, Some(view.job)),
            Err(failure) => Found::Unknown(failure.into()),
        }
    }

    fn job_definitions(&self) -> usize {
        self.job_definitions.distinct()
    }
}

pub struct JobDefinitionInventory<'a, S> {
    sagemaker: &'a S,
    kinds: Vec<MonitoringKind>,
    types: Vec<&'static str>,
    exemptions: &'a Exemptions,
}

impl<'a, S: SageMakerReads> JobDefinitionInventory<'a, S> {
    pub fn new(sagemaker: &'a S, kinds: &[MonitoringKind], exemptions: &'a Exemptions) -> Self {
        JobDefinitionInventory {
            sagemaker,
            kinds: kinds.to_vec(),
            types: kinds.iter().map(|kind| kind.resource_type()).collect(),
            exemptions,
        }
    }
}

impl<S: SageMakerReads> Inventory for JobDefinitionInventory<'_, S> {
    fn resource_types(&self) -> &[&'static str] {
        &self.types
    }

    fn list_operation(&self, type_index: usize) -> &'static str {
        self.kinds[type_index].list_operation()
    }

    fn beyond_scope(&self, resource_type: &str) -> Verdict {
        match ResourceKind::of(resource_type) {
            ResourceKind::JobDefinition(kind) => Verdict::not_applicable(format!(
                "{kind} job definitions are out of this rule's scope (its JobDefinitionTypes parameter leaves them out), so this earlier result no longer applies."
            )),
            _ => Verdict::not_applicable(format!(
                "{resource_type} is out of this rule's scope, so this earlier result no longer applies."
            )),
        }
    }

    async fn list_page(
        &self,
        type_index: usize,
        next_token: Option<String>,
    ) -> Result<Page, ApiFailure> {
        self.sagemaker
            .list_job_definitions(self.kinds[type_index], next_token)
            .await
    }

    async fn judge(&self, listed: &Listed) -> Found {
        if let Some(exempt) = listed_exemption(self.sagemaker, self.exemptions, listed).await {
            return exempt;
        }
        let Some(kind) = self
            .kinds
            .iter()
            .copied()
            .find(|kind| kind.resource_type() == listed.resource_type)
        else {
            return Found::Gone;
        };
        let reference = JobDefinitionRef {
            kind,
            name: listed.name.clone(),
        };
        match self.sagemaker.describe_job_definition(&reference).await {
            Ok(JobDefinitionState::Missing) => Found::Gone,
            Ok(state) => Found::Verdict(verdict::judge_job_definition(&reference, &state), None),
            Err(failure) => Found::Unknown(failure.into()),
        }
    }
}
