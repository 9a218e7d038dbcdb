//! The service both front doors call: one invocation in, one report out.

use crate::SCHEDULE_TYPE;
use crate::calls::CallCounter;
use crate::deliver::{Delivery, RetryPolicy};
use crate::error::Error;
use crate::evaluation::{Evaluation, Judged};
use crate::evaluations::Evaluations;
use crate::event::{EventError, Invocation, ItemHeader, Trigger};
use crate::inventory::{self, JobDefinitionInventory, ScheduleInventory};
use crate::params::Control;
use crate::remediate::Fixer;
use crate::resolve::JobDefinitions;
use crate::sagemaker::Schedules;
use crate::schedule::{JobDefinitionRef, MonitoringKind, ScheduleView, network_from};
use crate::summary::{Report, Unjudged};
use crate::sweep::{self, Deadline, SweepSettings};
use crate::verdict::{self, Compliance, JobDefinitionState, Verdict};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Instant;

pub struct Service<S, E, F> {
    pub schedules: S,
    pub evaluations: E,
    /// What happens to NON_COMPLIANT schedules when `Remediate=true`: planned (a dry run) or fixed.
    pub fixer: F,
    pub counter: CallCounter,
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub deadline: Option<Deadline>,
    pub delivery: RetryPolicy,
    pub keep_judged: bool,
}

/// A changed resource, as far as the rule could read it.
enum Item {
    Schedule {
        view: ScheduleView,
        tags: Option<BTreeMap<String, String>>,
    },
    JobDefinition {
        reference: JobDefinitionRef,
        state: JobDefinitionState,
    },
    /// The resource no longer exists, or is not recorded.
    Gone(String),
    /// Not a type this rule looks into.
    Other,
}

/// What a change leads to for its one resource.
enum Decision {
    Verdict(Verdict),
    Unknown(String),
}

impl<S: Schedules, E: Evaluations, F: Fixer> Service<S, E, F> {
    pub fn new(schedules: S, evaluations: E, fixer: F, counter: CallCounter) -> Self {
        Service {
            schedules,
            evaluations,
            fixer,
            counter,
        }
    }

    /// Handles one invocation. `Err` only for input that cannot be acted on; work left undone
    /// is in the report (see [`Report::outcome`]).
    pub async fn handle(
        &self,
        invocation: &Invocation,
        options: &RunOptions,
    ) -> Result<Report, Error> {
        let started = Instant::now();
        let calls_before = self.counter.snapshot();
        let mut report = Report {
            trigger: invocation.trigger.name(),
            ..Report::default()
        };
        match &invocation.trigger {
            Trigger::Change(item) => {
                let read = if invocation.left_scope {
                    Item::Other
                } else {
                    item_from_event(&item.header, item.configuration.as_ref(), Some(&item.tags))?
                };
                self.change(invocation, &item.header, read, options, &mut report)
                    .await;
            }
            Trigger::Oversized(header) => {
                let read = match invocation.left_scope {
                    true => Ok(Item::Other),
                    false => self.fetch(header).await,
                };
                match read {
                    Ok(read) => {
                        self.change(invocation, header, read, options, &mut report)
                            .await
                    }
                    Err(reason) => report.unjudged.push(Unjudged {
                        resource: resource_label(header),
                        reason,
                    }),
                }
            }
            Trigger::Periodic { notified_at } => {
                if invocation.left_scope {
                    tracing::warn!("eventLeftScope is set on a periodic event; sweeping anyway");
                }
                let settings = SweepSettings {
                    concurrency: invocation.params.concurrency,
                    ordering_timestamp: *notified_at,
                    deadline: options.deadline,
                    delivery: options.delivery,
                    keep_judged: options.keep_judged,
                    rule_name: invocation.rule_name.clone(),
                    keep_non_compliant: remediating(invocation),
                };
                let params = &invocation.params;
                let token = &invocation.result_token;
                match params.control {
                    Control::MonitoringSchedules => {
                        let inventory = ScheduleInventory::new(
                            &self.schedules,
                            params.reading,
                            &params.exemptions,
                        );
                        sweep::sweep(&inventory, &self.evaluations, token, &settings, &mut report)
                            .await
                    }
                    Control::JobDefinitions => {
                        let inventory = JobDefinitionInventory::new(
                            &self.schedules,
                            &params.kinds,
                            &params.exemptions,
                        );
                        sweep::sweep(&inventory, &self.evaluations, token, &settings, &mut report)
                            .await
                    }
                }
            }
        }
        if remediating(invocation) {
            self.remediate_all(&mut report).await;
        }
        report.calls = self.counter.snapshot().since(&calls_before);
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Reads an oversized item: from Config's history first, else from SageMaker. `Err` names
    /// why it could not be read.
    async fn fetch(&self, header: &ItemHeader) -> Result<Item, String> {
        if header.status.is_gone_or_unrecorded()
            || (kind_of(&header.resource_type).is_none() && header.resource_type != SCHEDULE_TYPE)
        {
            return item_from_event(header, None, None).map_err(|error| error.to_string());
        }
        match self
            .evaluations
            .item_at(
                &header.resource_type,
                &header.resource_id,
                header.captured_at,
            )
            .await
        {
            Ok(Some(fetched)) if fetched.status.is_some_and(|s| s.is_gone_or_unrecorded()) => {
                return Ok(Item::Gone(
                    fetched.status.map_or("deleted", |s| s.as_str()).to_owned(),
                ));
            }
            Ok(Some(fetched)) if fetched.configuration.is_some() => {
                return item_from_event(
                    header,
                    fetched.configuration.as_ref(),
                    Some(&fetched.tags),
                )
                .map_err(|error| {
                    format!("the recorded configuration item has an unexpected shape: {error}")
                });
            }
            Ok(_) => tracing::info!("Config holds no configuration for the item; describing it"),
            Err(failure) => {
                tracing::warn!(%failure, "could not fetch the configuration item; describing it")
            }
        }
        let name = header
            .resource_name
            .as_deref()
            .ok_or_else(|| "the oversized item has no resourceName to describe it by".to_owned())?;
        if let Some(kind) = kind_of(&header.resource_type) {
            let reference = JobDefinitionRef {
                kind,
                name: name.to_owned(),
            };
            return match self.schedules.describe_job_definition(&reference).await {
                Ok(JobDefinitionState::Missing) => Ok(Item::Gone("deleted".into())),
                Ok(state) => Ok(Item::JobDefinition { reference, state }),
                Err(failure) => Err(failure.to_string()),
            };
        }
        match self.schedules.describe(name).await {
            Ok(Some(view)) => Ok(Item::Schedule { view, tags: None }),
            Ok(None) => Ok(Item::Gone("deleted".into())),
            Err(failure) => Err(failure.to_string()),
        }
    }

    async fn change(
        &self,
        invocation: &Invocation,
        header: &ItemHeader,
        item: Item,
        options: &RunOptions,
        report: &mut Report,
    ) {
        let params = &invocation.params;
        let decision = match (params.control, item) {
            _ if invocation.left_scope => Decision::Verdict(Verdict::not_applicable(
                "The resource left this rule's scope, so it is no longer evaluated.",
            )),
            (_, Item::Gone(status)) => Decision::Verdict(gone(&status)),
            (Control::MonitoringSchedules, Item::Schedule { view, tags }) => {
                self.judge_schedule(invocation, header, &view, tags).await
            }
            (Control::MonitoringSchedules, Item::JobDefinition { reference, state }) => {
                // Its schedules change verdict though their own items did not change.
                self.rejudge_schedules(invocation, header, reference, state, options, report)
                    .await;
                Decision::Verdict(Verdict::not_applicable(
                    "This rule judges monitoring schedules: the schedules that name this job definition were judged again.",
                ))
            }
            (
                Control::JobDefinitions,
                Item::JobDefinition {
                    state: JobDefinitionState::Missing,
                    ..
                },
            ) => Decision::Verdict(gone(header.status.as_str())),
            (Control::JobDefinitions, Item::JobDefinition { reference, state })
                if params.kinds.contains(&reference.kind) =>
            {
                let name = reference.name.clone();
                match self
                    .exemption(&params.exemptions, &name, None, header)
                    .await
                {
                    Some(decision) => decision,
                    None => Decision::Verdict(verdict::judge_job_definition(&reference, &state)),
                }
            }
            (Control::JobDefinitions, _) => Decision::Verdict(Verdict::not_applicable(format!(
                "{} is not a job definition type this rule judges.",
                header.resource_type
            ))),
            (Control::MonitoringSchedules, _) => {
                Decision::Verdict(Verdict::not_applicable(format!(
                    "{} is not a monitoring schedule; this rule judges {SCHEDULE_TYPE} only.",
                    header.resource_type
                )))
            }
        };
        self.deliver_one(invocation, header, decision, options, report)
            .await;
    }

    async fn judge_schedule(
        &self,
        invocation: &Invocation,
        header: &ItemHeader,
        view: &ScheduleView,
        tags: Option<BTreeMap<String, String>>,
    ) -> Decision {
        let params = &invocation.params;
        let name = view
            .name
            .clone()
            .or_else(|| header.resource_name.clone())
            .unwrap_or_default();
        if let Some(decision) = self
            .exemption(&params.exemptions, &name, tags, header)
            .await
        {
            return decision;
        }
        match JobDefinitions::new(&self.schedules)
            .verdict(view, params.reading)
            .await
        {
            Ok(verdict) => Decision::Verdict(verdict),
            Err(failure) => Decision::Unknown(failure.to_string()),
        }
    }

    /// The exemption that applies to a changed resource; tags come from the item, or ListTags
    /// when the item had none and an exemption tag is configured.
    async fn exemption(
        &self,
        exemptions: &crate::exempt::Exemptions,
        name: &str,
        tags: Option<BTreeMap<String, String>>,
        header: &ItemHeader,
    ) -> Option<Decision> {
        let arn = header.arn.as_deref().unwrap_or(&header.resource_id);
        match inventory::exemption(&self.schedules, exemptions, name, Some(arn), tags.as_ref())
            .await
        {
            Ok(verdict) => verdict.map(Decision::Verdict),
            Err(failure) => Some(Decision::Unknown(failure.to_string())),
        }
    }

    /// Judges again every schedule that names a changed job definition, against the job
    /// definition as the configuration item shows it.
    async fn rejudge_schedules(
        &self,
        invocation: &Invocation,
        header: &ItemHeader,
        reference: JobDefinitionRef,
        state: JobDefinitionState,
        options: &RunOptions,
        report: &mut Report,
    ) {
        let params = &invocation.params;
        let inventory = ScheduleInventory::new(&self.schedules, params.reading, &params.exemptions)
            .naming(reference, state);
        let settings = SweepSettings {
            concurrency: params.concurrency,
            ordering_timestamp: header.captured_at,
            deadline: options.deadline,
            delivery: options.delivery,
            keep_judged: options.keep_judged,
            rule_name: None,
            keep_non_compliant: remediating(invocation),
        };
        sweep::sweep(
            &inventory,
            &self.evaluations,
            &invocation.result_token,
            &settings,
            report,
        )
        .await;
    }

    async fn deliver_one(
        &self,
        invocation: &Invocation,
        header: &ItemHeader,
        decision: Decision,
        options: &RunOptions,
        report: &mut Report,
    ) {
        let verdict = match decision {
            Decision::Verdict(verdict) => verdict,
            Decision::Unknown(reason) => {
                tracing::warn!(resource = %header.resource_id, %reason, "could not be judged");
                report.unjudged.push(Unjudged {
                    resource: resource_label(header),
                    reason,
                });
                return;
            }
        };
        tracing::info!(resource = %header.resource_id, compliance = %verdict.compliance, "judged");
        report.count(verdict.compliance);
        if remediating(invocation)
            && verdict.compliance == Compliance::NonCompliant
            && header.resource_type == SCHEDULE_TYPE
        {
            report
                .non_compliant_names
                .extend(header.resource_name.clone());
        }
        let evaluation = Evaluation::new(
            &header.resource_type,
            &header.resource_id,
            verdict,
            header.captured_at,
        );
        if options.keep_judged {
            report.judged_items.push(Judged {
                schedule_name: header.resource_name.clone(),
                evaluation: evaluation.clone(),
            });
        }
        let mut delivery = Delivery::new(
            &self.evaluations,
            &invocation.result_token,
            options.delivery,
        );
        delivery.push(evaluation).await;
        delivery.finish_into(report).await;
    }

    /// Turns isolation on for every schedule judged NON_COMPLIANT (only with `Remediate=true`).
    async fn remediate_all(&self, report: &mut Report) {
        for name in std::mem::take(&mut report.non_compliant_names) {
            match self.fixer.fix(&name).await {
                Ok(remediation) => {
                    for step in &remediation.steps {
                        tracing::info!(schedule = %name, %step, applied = remediation.applied, "remediation");
                    }
                    if remediation.applied {
                        report.remediated.push(name);
                    } else if remediation.changes_anything() {
                        let steps: Vec<String> =
                            remediation.steps.iter().map(ToString::to_string).collect();
                        report
                            .planned_remediations
                            .push(format!("{name}: {}", steps.join("; ")));
                    }
                }
                Err(failure) => {
                    tracing::error!(schedule = %name, %failure, "remediation failed");
                    report.remediation_failures.push(Unjudged {
                        resource: name,
                        reason: failure.to_string(),
                    });
                }
            }
        }
    }
}

/// Remediation is opt-in, and only for monitoring schedules.
fn remediating(invocation: &Invocation) -> bool {
    invocation.params.remediate && invocation.params.control == Control::MonitoringSchedules
}

fn kind_of(resource_type: &str) -> Option<MonitoringKind> {
    MonitoringKind::ALL
        .into_iter()
        .find(|kind| kind.resource_type() == resource_type)
}

fn resource_label(header: &ItemHeader) -> String {
    header
        .resource_name
        .clone()
        .unwrap_or_else(|| header.resource_id.clone())
}

/// Reads a configuration item (from the event, or fetched from Config's history). A
/// configuration of the wrong shape is bad input: refused, never judged.
fn item_from_event(
    header: &ItemHeader,
    configuration: Option<&Value>,
    tags: Option<&BTreeMap<String, String>>,
) -> Result<Item, EventError> {
    if header.status.is_gone_or_unrecorded() {
        return Ok(match kind_of(&header.resource_type) {
            // A deleted job definition still matters to the schedules that name it.
            Some(kind) if header.status != crate::event::ItemStatus::ResourceNotRecorded => {
                match header.resource_name.clone() {
                    Some(name) => Item::JobDefinition {
                        reference: JobDefinitionRef { kind, name },
                        state: JobDefinitionState::Missing,
                    },
                    None => Item::Gone(header.status.as_str().to_owned()),
                }
            }
            _ if header.resource_type == SCHEDULE_TYPE
                || kind_of(&header.resource_type).is_some() =>
            {
                Item::Gone(header.status.as_str().to_owned())
            }
            _ => Item::Other,
        });
    }
    let bad = |detail: String| EventError::BadShape {
        message_type: "ConfigurationItemChangeNotification",
        detail,
    };
    let no_configuration = || {
        bad(format!(
            "configurationItem for {} has status {} but no configuration",
            header.resource_id,
            header.status.as_str()
        ))
    };
    if header.resource_type == SCHEDULE_TYPE {
        let configuration = configuration.ok_or_else(no_configuration)?;
        let view = ScheduleView::from_configuration(configuration)
            .map_err(|error| bad(format!("configurationItem.{error}")))?;
        return Ok(Item::Schedule {
            view,
            tags: tags.cloned(),
        });
    }
    let Some(kind) = kind_of(&header.resource_type) else {
        return Ok(Item::Other);
    };
    let configuration = configuration.ok_or_else(no_configuration)?;
    let name = configuration
        .get("JobDefinitionName")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| header.resource_name.clone())
        .ok_or_else(|| bad("the job definition has no JobDefinitionName or resourceName".into()))?;
    let network = network_from(
        configuration.get("NetworkConfig"),
        "configuration.NetworkConfig",
    )
    .map_err(|error| bad(format!("configurationItem.{error}")))?;
    Ok(Item::JobDefinition {
        reference: JobDefinitionRef { kind, name },
        state: JobDefinitionState::Found(network),
    })
}

fn gone(status: &str) -> Verdict {
    Verdict::not_applicable(format!(
        "Configuration item status is {status}: the resource is deleted or not recorded, so there is nothing to judge."
    ))
}
