//! One binary, two front doors: the Lambda runtime when `AWS_LAMBDA_RUNTIME_API` is set, the
//! command line otherwise.

#![recursion_limit = "256"]
use clap::Parser;
use monitoring_schedule_isolation::accounts::Accounts;
use monitoring_schedule_isolation::{cli, lambda, logging, sdk};

#[tokio::main]
async fn main() {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        logging::init_lambda();
        let clients = match sdk::load().await {
            Ok(clients) => clients,
            Err(error) => {
                tracing::error!(%error, "cannot start");
                std::process::exit(1);
            }
        };
        if let Err(error) = lambda::run(Accounts::new(clients)).await {
            tracing::error!(%error, "the Lambda runtime stopped");
            std::process::exit(1);
        }
    } else {
        let cli = cli::Cli::parse();
        logging::init_cli(cli.verbose);
        std::process::exit(cli::run(cli).await);
    }
}
