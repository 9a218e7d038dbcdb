//! Turning network isolation on, opt-in. An embedded job definition is updated in place (the
//! schedule's whole configuration is sent back with only the flag changed). A named job
//! definition is immutable, so an isolated copy is created and the schedule pointed at it.
//!
//! Planning only reads; [`Remediator`] is the one type that writes, and a dry run holds a
//! [`Planner`] instead, which has no way to write. A copy is reused only when it provably runs
//! the same job as its source, so a schedule is never pointed at someone else's definition.
//!
//! Isolated jobs have no network access: their inputs must be reachable through VPC endpoints or
//! staged where the job can read them, or the next monitoring run fails.

use crate::aws::job_definition::{self, Definition};
use crate::aws::pacing::{Pacer, send};
use crate::aws::sagemaker::AwsSageMaker;
use crate::aws::sdk::Clients;
use crate::core::remediation::{FixError, Remediation, Step};
use crate::core::resource::MonitoringKind;
use crate::error::ApiFailure;
use crate::rule::ports::Fixer;
use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::types::{MonitoringScheduleConfig, NetworkConfig};
use std::sync::Arc;

/// Job definition names are at most 63 characters.
const NAME_LIMIT: usize = 63;
/// Names tried for a copy before giving up: `-isolated`, then `-isolated-2` to `-isolated-9`.
const COPY_NAMES: usize = 9;

/// The fix for one schedule, worked out by reading only.
struct Fix {
    remediation: Remediation,
    /// The copy to create first, if any: its source and its name.
    copy: Option<(Definition, String)>,
    /// The configuration to send back, when anything changes.
    config: Option<MonitoringScheduleConfig>,
}

/// Plans fixes and changes nothing: what a dry run, and `remediate` without `--apply`, hold.
pub struct Planner {
    reads: AwsSageMaker,
}

impl Planner {
    pub fn of(clients: &Clients) -> Self {
        Planner {
            reads: AwsSageMaker::of(clients),
        }
    }
}

impl Fixer for Planner {
    async fn fix(&self, schedule: &str) -> Result<Remediation, FixError> {
        Ok(work_out(&self.reads, schedule).await?.remediation)
    }
}

/// Plans and applies fixes: the one holder of SageMaker's write calls.
pub struct Remediator {
    reads: AwsSageMaker,
    writes: Client,
    pacer: Arc<Pacer>,
}

impl Remediator {
    pub fn of(clients: &Clients) -> Self {
        Remediator {
            reads: AwsSageMaker::of(clients),
            writes: clients.sagemaker.clone(),
            pacer: clients.pacer.clone(),
        }
    }
}

impl Fixer for Remediator {
    async fn fix(&self, schedule: &str) -> Result<Remediation, FixError> {
        let Fix {
            mut remediation,
            copy,
            config,
        } = work_out(&self.reads, schedule).await?;
        if let Some((source, name)) = &copy {
            job_definition::create_isolated_copy(&self.writes, &self.pacer, source, name).await?;
        }
        if let Some(config) = config {
            let request = self
                .writes
                .update_monitoring_schedule()
                .monitoring_schedule_name(schedule)
                .monitoring_schedule_config(config);
            send!(self.pacer, "UpdateMonitoringSchedule", request)
                .map_err(|error| ApiFailure::from_sdk("UpdateMonitoringSchedule", &error))?;
            remediation.applied = true;
        }
        Ok(remediation)
    }
}

/// Works out the fix for one schedule, reading only.
async fn work_out(reads: &AwsSageMaker, name: &str) -> Result<Fix, FixError> {
    let described = reads
        .describe_output(name)
        .await?
        .ok_or_else(|| FixError::Cannot(format!("monitoring schedule {name} does not exist")))?;
    let config = described
        .monitoring_schedule_config
        .clone()
        .ok_or_else(|| FixError::Cannot(format!("{name} has no MonitoringScheduleConfig")))?;
    let mut remediation = Remediation {
        schedule: name.to_owned(),
        steps: Vec::new(),
        applied: false,
    };
    if let Some(definition) = &config.monitoring_job_definition {
        let network = definition.network_config.as_ref();
        let current = network.and_then(|n| n.enable_network_isolation);
        if current == Some(true) {
            remediation.steps.push(Step::Nothing(
                "the embedded job definition is isolated".into(),
            ));
            return Ok(nothing(remediation));
        }
        let isolated = NetworkConfig::builder()
            .set_enable_inter_container_traffic_encryption(
                network.and_then(|n| n.enable_inter_container_traffic_encryption),
            )
            .enable_network_isolation(true)
            .set_vpc_config(network.and_then(|n| n.vpc_config.clone()))
            .build();
        let mut new_config = config.clone();
        if let Some(definition) = new_config.monitoring_job_definition.as_mut() {
            definition.network_config = Some(isolated);
        }
        remediation.steps.push(Step::UpdateSchedule {
            schedule: name.to_owned(),
            change: format!(
                "MonitoringJobDefinition.NetworkConfig.EnableNetworkIsolation {} -> true",
                current.map_or("absent".to_owned(), |flag| flag.to_string())
            ),
        });
        return Ok(Fix {
            remediation,
            copy: None,
            config: Some(new_config),
        });
    }
    let source_name = config
        .monitoring_job_definition_name
        .clone()
        .ok_or_else(|| {
            FixError::Cannot(format!(
                "{name} has neither an embedded nor a named job definition to fix"
            ))
        })?;
    let kind = config
        .monitoring_type
        .as_ref()
        .or(described.monitoring_type.as_ref())
        .and_then(|kind| MonitoringKind::parse(kind.as_str()))
        .ok_or_else(|| {
            FixError::Cannot(format!(
                "{name} names {source_name} without a MonitoringType this tool can copy"
            ))
        })?;
    let source = reads
        .definition(kind, &source_name)
        .await?
        .ok_or_else(|| {
            FixError::Cannot(format!(
                    "{kind} job definition {source_name} does not exist; point the schedule at an isolated one by hand"
                ))
        })?;
    if is_isolated(&source) {
        remediation.steps.push(Step::Nothing(format!(
            "{kind} job definition {source_name} is isolated"
        )));
        return Ok(nothing(remediation));
    }
    let (copy_name, create) = copy_for(reads, kind, &source_name, &source).await?;
    remediation.steps.push(if create {
        Step::CreateJobDefinition {
            kind,
            source: source_name.clone(),
            copy: copy_name.clone(),
        }
    } else {
        Step::ReuseJobDefinition {
            kind,
            copy: copy_name.clone(),
        }
    });
    remediation.steps.push(Step::UpdateSchedule {
        schedule: name.to_owned(),
        change: format!("MonitoringJobDefinitionName {source_name} -> {copy_name}"),
    });
    let mut new_config = config;
    new_config.monitoring_job_definition_name = Some(copy_name.clone());
    Ok(Fix {
        remediation,
        copy: create.then_some((source, copy_name)),
        config: Some(new_config),
    })
}

fn nothing(remediation: Remediation) -> Fix {
    Fix {
        remediation,
        copy: None,
        config: None,
    }
}

fn is_isolated(definition: &Definition) -> bool {
    definition
        .network()
        .and_then(|network| network.enable_network_isolation)
        == Some(true)
}

/// The copy to point the schedule at, and whether it must be created. A name that is taken is
/// reused only by an isolated definition that runs exactly the source's job; anything else
/// under that name belongs to someone else, and the next name is tried.
async fn copy_for(
    reads: &AwsSageMaker,
    kind: MonitoringKind,
    source_name: &str,
    source: &Definition,
) -> Result<(String, bool), FixError> {
    for attempt in 1..=COPY_NAMES {
        let candidate = copy_name(source_name, attempt);
        match reads.definition(kind, &candidate).await? {
            None => return Ok((candidate, true)),
            Some(existing) if is_isolated(&existing) && existing.same_job(source) => {
                return Ok((candidate, false));
            }
            Some(_) => tracing::info!(
                candidate,
                "a job definition with this name runs another job; trying the next name"
            ),
        }
    }
    Err(FixError::Cannot(format!(
        "no free name for an isolated copy of {kind} job definition {source_name}: {} to {} are all taken by other definitions",
        copy_name(source_name, 1),
        copy_name(source_name, COPY_NAMES)
    )))
}

/// `<source>-isolated` (then `-isolated-2`, ...). A source too long for that is cut and given
/// a short hash of its whole name, so two long names that share a beginning never share a copy.
pub fn copy_name(source: &str, attempt: usize) -> String {
    let suffix = if attempt == 1 {
        "-isolated".to_owned()
    } else {
        format!("-isolated-{attempt}")
    };
    if source.len() + suffix.len() <= NAME_LIMIT {
        return format!("{source}{suffix}");
    }
    let hash = format!("-{:08x}", fnv1a(source) as u32);
    let keep = NAME_LIMIT - suffix.len() - hash.len();
    // Job definition names are ASCII ([a-zA-Z0-9-]), so a byte cut is a character cut.
    let cut: String = source.chars().take(keep).collect();
    format!("{}{hash}{suffix}", cut.trim_end_matches('-'))
}

/// FNV-1a, 64 bits: stable across builds and platforms, which `DefaultHasher` is not.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_keep_the_readable_suffix() {
        assert_eq!(copy_name("c7n-test", 1), "c7n-test-isolated");
        assert_eq!(copy_name("c7n-test", 3), "c7n-test-isolated-3");
    }

    #[test]
    fn long_names_that_share_a_beginning_get_different_copies_within_the_limit() {
        let stem = "a".repeat(55);
        let first = copy_name(&format!("{stem}-1"), 1);
        let second = copy_name(&format!("{stem}-2"), 1);
        assert_ne!(first, second);
        for attempt in 1..=COPY_NAMES {
            for name in [format!("{stem}-1"), "b".repeat(63), "c".repeat(54)] {
                let copy = copy_name(&name, attempt);
                assert!(copy.len() <= NAME_LIMIT, "{copy}");
                assert!(copy.contains("-isolated"), "{copy}");
            }
        }
        assert_eq!(copy_name(&format!("{stem}-1"), 1).len(), NAME_LIMIT);
    }

    #[test]
    fn the_hash_is_stable() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
