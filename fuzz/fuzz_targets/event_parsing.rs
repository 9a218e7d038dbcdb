//! Any bytes as a Lambda event: parsing, and judging whatever parses, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use monitoring_schedule_isolation::{Invocation, Trigger};
use monitoring_schedule_isolation::ScheduleView;
use monitoring_schedule_isolation::{Reading, judge};

fuzz_target!(|data: &[u8]| {
    let Ok(invocation) = Invocation::from_slice(data) else {
        return;
    };
    if let Trigger::Change(item) = invocation.trigger
        && let Some(configuration) = item.configuration
        && let Ok(view) = ScheduleView::from_configuration(&configuration)
    {
        for reading in [Reading::Resolved, Reading::Literal] {
            let _ = judge(&view.job, reading);
        }
    }
});
