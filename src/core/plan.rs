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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
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
    /// An oversized item: read it (Config's history, else SageMaker), then [`plan_item`].
    Fetch,
    /// Judge everything of the control's types.
    Sweep { notified_at: DateTime },
}

/// The plan for an invocation, and the item header it concerns (none for a sweep).
pub fn plan(invocation: &Invocation) -> Result<(Option<&ItemHeader>, Plan), EventError> {
    let left_scope = || {
        Plan::Report(Verdict::not_applicable(
            "The resource left this rule's scope, so it is no longer evaluated.",
        ))
    };
    Ok(match &invocation.trigger {
        Trigger::Change(item) if invocation.left_scope => (Some(&item.header), left_scope()),
        Trigger::Change(item) => {
            let read = Item::read(&item.header, item.configuration.as_ref(), Some(&item.tags))?;
            (
                Some(&item.header),
                plan_item(&invocation.params, &item.header, read),
            )
        }
        Trigger::Oversized(header) if invocation.left_scope => (Some(header), left_scope()),
        Trigger::Oversized(header) => {
            let settled = header.status.is_gone_or_unrecorded()
                || ResourceKind::of(&header.resource_type) == ResourceKind::Other;
            if settled {
                let read = Item::read(header, None, None)?;
                (Some(header), plan_item(&invocation.params, header, read))
            } else {
                (Some(header), Plan::Fetch)
            }
        }
        Trigger::Periodic { notified_at } => {
            if invocation.left_scope {
                tracing::warn!("eventLeftScope is set on a periodic event; sweeping anyway");
            }
            (
                None,
                Plan::Sweep {
                    notified_at: *notified_at,
                },
            )
        }
    })
}

/// The plan for one item, by control and by what the item is.
pub fn plan_item(params: &RuleParams, header: &ItemHeader, item: Item) -> Plan {
    match (params.control, item) {
        (_, Item::Gone(status)) => Plan::Report(gone(status)),
        (Control::MonitoringSchedules, Item::Schedule { view, tags }) => {
            Plan::JudgeSchedule { view, tags }
        }
        (Control::MonitoringSchedules, Item::JobDefinition { reference, state }) => {
            Plan::Rejudge { reference, state }
        }
        (
            Control::JobDefinitions,
            Item::JobDefinition {
                state: JobDefinitionState::Missing,
                ..
            },
        ) => Plan::Report(gone(header.status.as_str())),
        (Control::JobDefinitions, Item::JobDefinition { reference, state })
            if params.kinds.contains(&reference.kind) =>
        {
            Plan::JudgeJobDefinition { reference, state }
        }
        (Control::JobDefinitions, _) => Plan::Report(Verdict::not_applicable(format!(
            "{} is not a job definition type this rule judges.",
            header.resource_type
        ))),
        (Control::MonitoringSchedules, _) => Plan::Report(Verdict::not_applicable(format!(
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

    fn plan_of(invoking: Value, params: &str, left_scope: bool) -> Plan {
        plan(&event(invoking, params, left_scope)).unwrap().1
    }

    fn reported(plan: Plan) -> Verdict {
        match plan {
            Plan::Report(verdict) => verdict,
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
            Plan::JudgeSchedule { view, .. } if view.job == JobSpec::Embedded(None)
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
            Plan::Rejudge {
                reference: reference.clone(),
                state: state.clone()
            }
        );
        assert_eq!(
            plan_of(isolated.clone(), JOBS, false),
            Plan::JudgeJobDefinition { reference, state }
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
            Plan::Rejudge {
                state: JobDefinitionState::Missing,
                ..
            }
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
            Plan::Rejudge {
                state: JobDefinitionState::Missing,
                ..
            }
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
            Plan::Fetch
        );
        assert_eq!(plan_of(oversized(DQ, "OK"), "{}", false), Plan::Fetch);
        assert!(matches!(
            plan_of(oversized(SCHEDULE_TYPE, "ResourceDeleted"), "{}", false),
            Plan::Report(_)
        ));
        assert!(matches!(
            plan_of(oversized("AWS::S3::Bucket", "OK"), "{}", false),
            Plan::Report(_)
        ));
    }

    #[test]
    fn a_scheduled_notification_sweeps() {
        let periodic = json!({"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-28T10:00:00.000Z"});
        assert!(matches!(
            plan_of(periodic.clone(), "{}", false),
            Plan::Sweep { .. }
        ));
        assert!(matches!(plan_of(periodic, "{}", true), Plan::Sweep { .. }));
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
