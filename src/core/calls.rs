//! Counts of AWS calls, per operation: what the SDK's counter (`aws/calls.rs`) takes and what
//! a report carries, as plain data both layers share.

use std::collections::BTreeMap;

/// Operations started and HTTP attempts made, per operation name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub operations: BTreeMap<String, u64>,
    pub attempts: BTreeMap<String, u64>,
}

impl CallCounts {
    pub fn total_operations(&self) -> u64 {
        self.operations.values().sum()
    }

    pub fn total_attempts(&self) -> u64 {
        self.attempts.values().sum()
    }

    /// What was counted since `earlier` (counters only grow).
    pub fn since(&self, earlier: &CallCounts) -> CallCounts {
        let diff = |now: &BTreeMap<String, u64>, then: &BTreeMap<String, u64>| {
            now.iter()
                .map(|(name, count)| (name.clone(), count - then.get(name).copied().unwrap_or(0)))
                .filter(|(_, count)| *count > 0)
                .collect()
        };
        CallCounts {
            operations: diff(&self.operations, &earlier.operations),
            attempts: diff(&self.attempts, &earlier.attempts),
        }
    }
}
