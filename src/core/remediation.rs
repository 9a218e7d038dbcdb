//! A fix for one schedule, as plain data: the steps it takes, and whether they were made.

use crate::core::resource::MonitoringKind;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Already isolated: nothing to change.
    Nothing(String),
    UpdateSchedule {
        schedule: String,
        change: String,
    },
    CreateJobDefinition {
        kind: MonitoringKind,
        source: String,
        copy: String,
    },
    /// An isolated copy of the same job, made earlier, is reused.
    ReuseJobDefinition {
        kind: MonitoringKind,
        copy: String,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Nothing(why) => write!(f, "nothing to change: {why}"),
            Step::UpdateSchedule { schedule, change } => write!(
                f,
                "UpdateMonitoringSchedule {schedule}: {change}; every other member of MonitoringScheduleConfig unchanged"
            ),
            Step::CreateJobDefinition { kind, source, copy } => write!(
                f,
                "Create{kind}JobDefinition {copy}: a copy of {source} with NetworkConfig.EnableNetworkIsolation=true (tags are not copied)"
            ),
            Step::ReuseJobDefinition { kind, copy } => write!(
                f,
                "reuse the isolated {kind} job definition {copy}, a copy of the same job made earlier"
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remediation {
    pub schedule: String,
    pub steps: Vec<Step>,
    pub applied: bool,
}

impl Remediation {
    pub fn changes_anything(&self) -> bool {
        !matches!(self.steps.as_slice(), [Step::Nothing(_)])
    }

    /// `step; step`, for a log line or a dry run's report.
    pub fn describe(&self) -> String {
        let steps: Vec<String> = self.steps.iter().map(ToString::to_string).collect();
        steps.join("; ")
    }
}

/// Why a schedule could not be fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    #[error(transparent)]
    Api(#[from] crate::error::ApiFailure),
    /// The schedule is not in a state this tool can fix (it says what to do instead).
    #[error("{0}")]
    Cannot(String),
}
