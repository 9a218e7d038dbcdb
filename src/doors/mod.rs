//! The front doors, thin layers over one service: the Lambda runtime (`lambda`) and the command
//! line (`cli`, whose `audit` reads many accounts and regions). Each builds the edges for its
//! case, runs [`Service::handle`], and says what happened the way its audience reads it.
//! `check` is the command line's door to the pure `check/` (templates and plans before
//! deployment); `hook` answers CloudFormation Lambda hook requests that reach the Lambda door.
//! Text from the input reaches each of their text outputs through `crate::escaping`; `exit`
//! says how the command line ends (a closed pipe is a normal end).

pub mod audit;
mod check;
pub mod cli;
mod exit;
mod hook;
pub mod lambda;

use crate::aws::config::AwsConfig;
use crate::aws::sagemaker::AwsSageMaker;
use crate::aws::sdk::Clients;
use crate::core::event::Invocation;
use crate::error::Error;
use crate::rule::ports::{Deliver, Fixer};
use crate::rule::{Handled, RunOptions, Service};

/// Runs one invocation over `clients`, with the delivery and the fixer the door chose, and
/// puts the AWS calls it made and the role it acted as into the report.
async fn handle<D: Deliver, F: Fixer>(
    clients: &Clients,
    deliver: D,
    fixer: F,
    invocation: &Invocation,
    options: &RunOptions,
    role: Option<String>,
) -> Result<Handled, Error> {
    clients
        .pacer
        .limit(invocation.params.max_calls_per_second.map(f64::from));
    let before = clients.counter.snapshot();
    let service = Service::new(
        AwsSageMaker::of(clients),
        AwsConfig::of(clients),
        deliver,
        fixer,
    );
    let mut handled = service.handle(invocation, options).await?;
    handled.report.calls = clients.counter.snapshot().since(&before);
    handled.report.acting_as = role;
    Ok(handled)
}
