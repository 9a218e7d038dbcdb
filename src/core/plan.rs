//! The rule's decision table: which path one invocation takes, decided from the event (and, for
//! an oversized item, from the item once fetched). Pure: every row is unit-tested here.

use crate::core::event::{EventError, Invocation, ItemHeader, Trigger};
use crate::core::item::{Item, gone};
use crate::core::params::{Control, RuleParams};
use crate::core::resource::{JobDefinitionRef, ResourceKind, SCHEDULE_TYPE};
use crate::core::schedule::ScheduleView;
use crate::core::verdict::{JobDefinitionState, Verdict};
use aws_smithy_types::DateTime;
use std::collections::BTreeMap;

/// What one invocation does.
#[derive(Debug, Clone)]
pub enum Plan<'e> {
    /// Judge everything of the control's types.
    Sweep { notified_at: DateTime },
    /// An oversized item: read it (Config's history, else SageMaker), then [`plan_item`]; its
    /// step is known only once it is read.
    Fetch { header: &'e ItemHeader },
    /// The one step for the item the event carries.
    Item { header: &'e ItemHeader, step: Step },
}

/// What is done for one changed item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Report the item's own resource with a verdict the event already settles.
    Report(Verdict),
    /// Judge the changed schedule (its named job definition may need a read).
    JudgeSchedule {
        view: ScheduleView,
        tags: Option<BTreeMap<String, String>>,
    },
    /// Judge the changed job definition itself (the JobDefinitions control).
    JudgeJobDefinition {
        reference: JobDefinitionRef,
        state: JobDefinitionState,
    },
    /// A job definition changed: judge again the schedules that name it, against the item;
    /// the job definition itself is NOT_APPLICABLE to SageMaker.14.
    Rejudge {
        reference: JobDefinitionRef,
        state: JobDefinitionState,
    },
}

/// The plan for an invocation.
pub fn plan(invocation: &Invocation) -> Result<Plan<'_>, EventError> {
    let left_scope = |header| Plan::Item {
        header,
        step: Step::Report(Verdict::not_applicable(
            "The resource left this rule's scope, so it is no longer evaluated.",
        )),
    };
    Ok(match &invocation.trigger {
        Trigger::Change(item) if invocation.left_scope => left_scope(&item.header),
        Trigger::Change(item) => {
            let read = Item::read(&item.header, item.configuration.as_ref(), Some(&item.tags))?;
            Plan::Item {
                header: &item.header,
                step: plan_item(&invocation.params, &item.header, read),
            }
        }
        Trigger::Oversized(header) if invocation.left_scope => left_scope(header),
        Trigger::Oversized(header) => {
            let settled = header.status.is_gone_or_unrecorded()
                || ResourceKind::of(&header.resource_type) == ResourceKind::Other;
            if settled {
                let read = Item::read(header, None, None)?;
                Plan::Item {
                    header,
                    step: plan_item(&invocation.params, header, read),
                }
            } else {
                Plan::Fetch { header }
            }
        }
        Trigger::Periodic { notified_at } => {
            if invocation.left_scope {
                tracing::warn!("eventLeftScope is set on a periodic event; sweeping anyway");
            }
            Plan::Sweep {
                notified_at: *notified_at,
            }
        }
    })
}

/// The step for one item, by control and by what the item is.
pub fn plan_item(params: &RuleParams, header: &ItemHeader, item: Item) -> Step {
    match (params.control, item) {
        (_, Item::Gone(status)) => Step::Report(gone(status)),
        (Control::MonitoringSchedules, Item::Schedule { view, tags }) => {
            Step::JudgeSchedule { view, tags }
        }
        (Control::MonitoringSchedules, Item::JobDefinition { reference, state }) => {
            Step::Rejudge { reference, state }
        }
        (
            Control::JobDefinitions,
            Item::JobDefinition {
                state: JobDefinitionState::Missing,
                ..
            },
        ) => Step::Report(gone(header.status.as_str())),
        (Control::JobDefinitions, Item::JobDefinition { reference, state })
            if params.kinds.contains(&reference.kind) =>
        {
            Step::JudgeJobDefinition { reference, state }
        }
        (Control::JobDefinitions, _) => Step::Report(Verdict::not_applicable(format!(
            "{} is not a job definition type this rule judges.",
            header.resource_type
        ))),
        (Control::MonitoringSchedules, _) => Step::Report(Verdict::not_applicable(format!(
            "{} is not a monitoring schedule; this rule judges {SCHEDULE_TYPE} only.",
            header.resource_type
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::resource::MonitoringKind;
    use crate::core::schedule::JobSpec;
    use crate::core::verdict::Compliance;
    use crate::core::verdict::tests::found;
    use serde_json::{Value, json};

    fn event(invoking: Value, params: &str, left_scope: bool) -> Invocation {
        Invocation::from_value(json!({
            "invokingEvent": invoking.to_string(),
            "ruleParameters": params,
            "resultToken": "t",
            "eventLeftScope": left_scope,
        }))
        .unwrap()
    }

    fn change(resource_type: &str, status: &str, configuration: Value) -> Value {
        json!({
            "messageType": "ConfigurationItemChangeNotification",
            "configurationItem": {
                "resourceType": resource_type,
                "resourceId": "id-1",
                "resourceName": "jd",
                "configurationItemCaptureTime": "2026-11-28T10:00:00.000Z",
                "configurationItemStatus": status,
                "configuration": configuration,
            }
        })
    }

    /// A plan without the header it borrows from its event.
    #[derive(Debug, PartialEq)]
    enum Shape {
        Sweep,
        Fetch,
        Item(Step),
    }

    fn plan_of(invoking: Value, params: &str, left_scope: bool) -> Shape {
        match plan(&event(invoking, params, left_scope)).unwrap() {
            Plan::Sweep { .. } => Shape::Sweep,
            Plan::Fetch { .. } => Shape::Fetch,
            Plan::Item { step, .. } => Shape::Item(step),
        }
    }

    fn reported(shape: Shape) -> Verdict {
        match shape {
            Shape::Item(Step::Report(verdict)) => verdict,
            other => panic!("expected a report, got {other:?}"),
        }
    }

    const DQ: &str = "AWS::SageMaker::DataQualityJobDefinition";
    const JOBS: &str = r#"{"Control":"JobDefinitions"}"#;

    #[test]
    fn a_schedule_change_is_judged_and_its_left_scope_reported() {
        let schedule = change(
            SCHEDULE_TYPE,
            "OK",
            json!({"MonitoringScheduleConfig": {"MonitoringJobDefinition": {}}}),
        );
        assert!(matches!(
            plan_of(schedule.clone(), "{}", false),
            Shape::Item(Step::JudgeSchedule { view, .. }) if view.job == JobSpec::Embedded(None)
        ));
        let left = reported(plan_of(schedule, "{}", true));
        assert_eq!(left.compliance, Compliance::NotApplicable);
        assert!(left.annotation.contains("left this rule's scope"));
    }

    #[test]
    fn a_job_definition_change_rejudges_its_schedules_or_is_judged_itself() {
        let isolated = change(
            DQ,
            "OK",
            json!({"JobDefinitionName": "jd", "NetworkConfig": {"EnableNetworkIsolation": true}}),
        );
        let reference = JobDefinitionRef::new(MonitoringKind::DataQuality, "jd");
        let state = found(Some(true), false);
        assert_eq!(
            plan_of(isolated.clone(), "{}", false),
            Shape::Item(Step::Rejudge {
                reference: reference.clone(),
                state: state.clone()
            })
        );
        assert_eq!(
            plan_of(isolated.clone(), JOBS, false),
            Shape::Item(Step::JudgeJobDefinition { reference, state })
        );
        let narrowed = reported(plan_of(
            isolated,
            r#"{"Control":"JobDefinitions","JobDefinitionTypes":"ModelBias"}"#,
            false,
        ));
        assert!(
            narrowed
                .annotation
                .contains("not a job definition type this rule judges")
        );
    }

    #[test]
    fn deleted_and_unrecorded_items_are_not_applicable_or_rejudge_their_schedules() {
        let deleted_schedule = reported(plan_of(
            change(SCHEDULE_TYPE, "ResourceDeleted", Value::Null),
            "{}",
            false,
        ));
        assert!(deleted_schedule.annotation.contains("ResourceDeleted"));
        // A deleted job definition: its schedules now name nothing.
        assert!(matches!(
            plan_of(change(DQ, "ResourceDeleted", Value::Null), "{}", false),
            Shape::Item(Step::Rejudge {
                state: JobDefinitionState::Missing,
                ..
            })
        ));
        assert!(
            reported(plan_of(
                change(DQ, "ResourceDeleted", Value::Null),
                JOBS,
                false
            ))
            .annotation
            .contains("ResourceDeleted")
        );
        for (resource_type, status) in [
            (SCHEDULE_TYPE, "ResourceNotRecorded"),
            (SCHEDULE_TYPE, "ResourceDeletedNotRecorded"),
            (DQ, "ResourceNotRecorded"),
        ] {
            let verdict = reported(plan_of(
                change(resource_type, status, Value::Null),
                "{}",
                false,
            ));
            assert!(
                verdict.annotation.contains(status),
                "{resource_type} {status}"
            );
        }
        assert!(matches!(
            plan_of(
                change(DQ, "ResourceDeletedNotRecorded", Value::Null),
                "{}",
                false
            ),
            Shape::Item(Step::Rejudge {
                state: JobDefinitionState::Missing,
                ..
            })
        ));
    }

    #[test]
    fn other_types_are_not_applicable_under_either_control() {
        let bucket = change("AWS::S3::Bucket", "OK", json!({}));
        assert!(
            reported(plan_of(bucket.clone(), "{}", false))
                .annotation
                .contains("is not a monitoring schedule")
        );
        assert!(
            reported(plan_of(bucket, JOBS, false))
                .annotation
                .contains("not a job definition type")
        );
    }

    #[test]
    fn oversized_items_are_fetched_unless_the_summary_settles_them() {
        let oversized = |resource_type: &str, status: &str| {
            json!({
                "messageType": "OversizedConfigurationItemChangeNotification",
                "configurationItemSummary": {
                    "resourceType": resource_type, "resourceId": "id-1", "resourceName": "s",
                    "configurationItemCaptureTime": "2026-11-28T10:00:00.000Z",
                    "configurationItemStatus": status,
                }
            })
        };
        assert_eq!(
            plan_of(oversized(SCHEDULE_TYPE, "OK"), "{}", false),
            Shape::Fetch
        );
        assert_eq!(plan_of(oversized(DQ, "OK"), "{}", false), Shape::Fetch);
        assert!(matches!(
            plan_of(oversized(SCHEDULE_TYPE, "ResourceDeleted"), "{}", false),
            Shape::Item(Step::Report(_))
        ));
        assert!(matches!(
            plan_of(oversized("AWS::S3::Bucket", "OK"), "{}", false),
            Shape::Item(Step::Report(_))
        ));
    }

    #[test]
    fn a_scheduled_notification_sweeps() {
        let periodic = json!({"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-28T10:00:00.000Z"});
        assert!(matches!(
            plan_of(periodic.clone(), "{}", false),
            Shape::Sweep
        ));
        assert!(matches!(plan_of(periodic, "{}", true), Shape::Sweep));
    }

    #[test]
    fn a_configuration_of_the_wrong_shape_is_bad_input() {
        let bad = change(
            SCHEDULE_TYPE,
            "OK",
            json!({"MonitoringScheduleConfig": "not an object"}),
        );
        assert!(plan(&event(bad, "{}", false)).is_err());
    }
}
