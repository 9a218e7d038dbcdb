//! The service both front doors call: one invocation in, one report out.

use crate::SCHEDULE_TYPE;
use crate::calls::CallCounter;
use crate::deliver::{Delivery, RetryPolicy};
use crate::error::{ApiFailure, Error};
use crate::evaluation::{Evaluation, Judged};
use crate::evaluations::Evaluations;
use crate::event::{ConfigurationItem, EventError, Invocation, ItemHeader, Trigger};
use crate::resolve::JobDefinitions;
use crate::sagemaker::Schedules;
use crate::schedule::ScheduleView;
use crate::summary::{Report, Unjudged};
use crate::sweep::{self, Deadline, SweepSettings};
use crate::verdict::Verdict;
use std::time::Instant;

pub struct Service<S, E> {
    pub schedules: S,
    pub evaluations: E,
    pub counter: CallCounter,
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub deadline: Option<Deadline>,
    pub delivery: RetryPolicy,
    pub keep_judged: bool,
}

/// What a change event leads to for its one resource.
enum Decision {
    Verdict(Verdict),
    Unknown(String),
}

impl<S: Schedules, E: Evaluations> Service<S, E> {
    pub fn new(schedules: S, evaluations: E, counter: CallCounter) -> Self {
        Service {
            schedules,
            evaluations,
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
                let decision = self.change(invocation, item).await?;
                self.deliver_one(invocation, &item.header, decision, options, &mut report)
                    .await;
            }
            Trigger::Oversized(header) => {
                let decision = self.oversized(invocation, header).await;
                self.deliver_one(invocation, header, decision, options, &mut report)
                    .await;
            }
            Trigger::Periodic { notified_at } => {
                if invocation.left_scope {
                    tracing::warn!("eventLeftScope is set on a periodic event; sweeping anyway");
                }
                let settings = SweepSettings {
                    reading: invocation.params.reading,
                    concurrency: invocation.params.concurrency,
                    ordering_timestamp: *notified_at,
                    deadline: options.deadline,
                    delivery: options.delivery,
                    keep_judged: options.keep_judged,
                };
                sweep::sweep(
                    &self.schedules,
                    &self.evaluations,
                    &invocation.result_token,
                    &settings,
                    &mut report,
                )
                .await;
            }
        }
        report.calls = self.counter.snapshot().since(&calls_before);
        report.elapsed = started.elapsed();
        Ok(report)
    }

    async fn change(
        &self,
        invocation: &Invocation,
        item: &ConfigurationItem,
    ) -> Result<Decision, Error> {
        if let Some(verdict) = out_of_scope(invocation, &item.header) {
            return Ok(Decision::Verdict(verdict));
        }
        let configuration = item.configuration.as_ref().ok_or(EventError::BadShape {
            message_type: "ConfigurationItemChangeNotification",
            detail: format!(
                "configurationItem for {} has status {} but no configuration",
                item.header.resource_id,
                item.header.status.as_str()
            ),
        })?;
        let view = ScheduleView::from_configuration(configuration).map_err(|error| {
            EventError::BadShape {
                message_type: "ConfigurationItemChangeNotification",
                detail: format!("configurationItem.{error}"),
            }
        })?;
        Ok(self.judge(invocation, &view).await)
    }

    async fn oversized(&self, invocation: &Invocation, header: &ItemHeader) -> Decision {
        if let Some(verdict) = out_of_scope(invocation, header) {
            return Decision::Verdict(verdict);
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
            Ok(Some(item))
                if item
                    .status
                    .is_some_and(|status| status.is_gone_or_unrecorded()) =>
            {
                return Decision::Verdict(gone(item.status.map_or("deleted", |s| s.as_str())));
            }
            Ok(Some(item)) if item.configuration.is_some() => {
                let configuration = item.configuration.as_ref().expect("checked above");
                return match ScheduleView::from_configuration(configuration) {
                    Ok(view) => self.judge(invocation, &view).await,
                    Err(error) => Decision::Unknown(format!(
                        "the recorded configuration item has an unexpected shape: {error}"
                    )),
                };
            }
            Ok(_) => tracing::info!("Config holds no configuration for the item; describing it"),
            Err(failure) => {
                tracing::warn!(%failure, "could not fetch the configuration item; describing it")
            }
        }
        let Some(name) = header.resource_name.as_deref() else {
            return Decision::Unknown(
                "the oversized item has no resourceName to describe the schedule by".into(),
            );
        };
        match self.schedules.describe(name).await {
            Ok(Some(view)) => self.judge(invocation, &view).await,
            Ok(None) => Decision::Verdict(Verdict::not_applicable(
                "The schedule no longer exists in SageMaker, so there is nothing to judge.",
            )),
            Err(failure) => Decision::Unknown(failure.to_string()),
        }
    }

    async fn judge(&self, invocation: &Invocation, view: &ScheduleView) -> Decision {
        let job_definitions = JobDefinitions::new(&self.schedules);
        match job_definitions
            .verdict(view, invocation.params.reading)
            .await
        {
            Ok(verdict) => Decision::Verdict(verdict),
            Err(failure @ ApiFailure { .. }) => Decision::Unknown(failure.to_string()),
        }
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
                    resource: header
                        .resource_name
                        .clone()
                        .unwrap_or_else(|| header.resource_id.clone()),
                    reason,
                });
                return;
            }
        };
        tracing::info!(resource = %header.resource_id, compliance = %verdict.compliance, "judged");
        report.count(verdict.compliance);
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
        delivery.finish().await;
        report.delivered += delivery.delivered;
        report.undelivered.extend(delivery.undelivered);
        report.refused_type = delivery.refused_type;
    }
}

/// Resources this rule reports NOT_APPLICABLE without looking further.
fn out_of_scope(invocation: &Invocation, header: &ItemHeader) -> Option<Verdict> {
    if invocation.left_scope {
        return Some(Verdict::not_applicable(
            "The resource left this rule's scope, so it is no longer evaluated.",
        ));
    }
    if header.resource_type != SCHEDULE_TYPE {
        return Some(Verdict::not_applicable(format!(
            "{} is not a monitoring schedule; this rule judges {SCHEDULE_TYPE} only.",
            header.resource_type
        )));
    }
    if header.status.is_gone_or_unrecorded() {
        return Some(gone(header.status.as_str()));
    }
    None
}

fn gone(status: &str) -> Verdict {
    Verdict::not_applicable(format!(
        "Configuration item status is {status}: the schedule is deleted or not recorded, so there is nothing to judge."
    ))
}
