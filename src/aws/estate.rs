//! The estate an audit reads, as AWS describes it: who the caller is, the organization's
//! accounts, the regions an account has enabled, and clients for one account and region.
//!
//! Every account and region gets clients of its own, with their own pacer: SageMaker's and
//! Config's rate limits are per account and region, so one throttled region must not slow
//! the others.

use crate::aws::calls::CallCounter;
use crate::aws::pacing::Pacer;
use crate::aws::sdk::{Clients, clients_for};
use crate::core::pages::all_pages;
use crate::error::ApiFailure;
use aws_config::{Region, SdkConfig};
use aws_sdk_account::types::RegionOptStatus;
use aws_sdk_organizations::types::{AccountState, AccountStatus};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::future::Future;
use std::sync::Arc;

/// The identity the credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    pub partition: String,
}

/// `GetCallerIdentity`: needs no permission, so it fails only when the credentials do.
pub async fn caller(config: &SdkConfig) -> Result<Caller, ApiFailure> {
    const OPERATION: &str = "GetCallerIdentity";
    let sts = aws_sdk_sts::Client::new(config);
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|error| ApiFailure::from_sdk(OPERATION, &error))?;
    let partition = identity
        .arn()
        .and_then(|arn| arn.split(':').nth(1))
        .filter(|partition| !partition.is_empty());
    match (identity.account(), partition) {
        (Some(account), Some(partition)) => Ok(Caller {
            account: account.to_owned(),
            partition: partition.to_owned(),
        }),
        _ => Err(ApiFailure::unusable(
            OPERATION,
            "no account or ARN in the answer",
        )),
    }
}

/// The organization's active accounts (`ListAccounts`, from the management account or a
/// delegated administrator), sorted. Suspended and closing accounts have nothing to read.
pub async fn organization_accounts(config: &SdkConfig) -> Result<Vec<String>, ApiFailure> {
    const OPERATION: &str = "ListAccounts";
    let organizations = aws_sdk_organizations::Client::new(config);
    let accounts = sdk_pages(OPERATION, |token| {
        let request = organizations.list_accounts().set_next_token(token);
        async move {
            let page = request.send().await?;
            Ok((page.accounts.unwrap_or_default(), page.next_token))
        }
    })
    .await?;
    let mut ids: Vec<String> = accounts
        .into_iter()
        .filter(|account| {
            // `State` replaces the deprecated `Status`; either may be the one filled in.
            #[allow(deprecated)]
            let status = account.status();
            let state = account.state();
            status.is_none_or(|status| *status == AccountStatus::Active)
                && state.is_none_or(|state| *state == AccountState::Active)
        })
        .filter_map(|account| account.id)
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// The regions the credentials' account has enabled (`account:ListRegions`), sorted.
pub async fn enabled_regions(config: &SdkConfig) -> Result<Vec<String>, ApiFailure> {
    const OPERATION: &str = "ListRegions";
    let account = aws_sdk_account::Client::new(config);
    let regions = sdk_pages(OPERATION, |token| {
        let request = account
            .list_regions()
            .region_opt_status_contains(RegionOptStatus::Enabled)
            .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
            .set_next_token(token);
        async move {
            let page = request.send().await?;
            Ok((page.regions.unwrap_or_default(), page.next_token))
        }
    })
    .await?;
    let mut names: Vec<String> = regions
        .into_iter()
        .filter(|region| {
            matches!(
                region.region_opt_status(),
                None | Some(RegionOptStatus::Enabled | RegionOptStatus::EnabledByDefault)
            )
        })
        .filter_map(|region| region.region_name)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Every page of one SDK list call (`page` sends the request for a token), its failure
/// classified like every other call's.
async fn sdk_pages<T, E, F, Fut>(operation: &'static str, page: F) -> Result<Vec<T>, ApiFailure>
where
    F: Fn(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    all_pages(operation, |token| {
        let sent = page(token);
        async move {
            sent.await
                .map_err(|error| ApiFailure::from_sdk(operation, &error))
        }
    })
    .await
}

/// Clients for `region` over `config`'s credentials, counted and paced on their own, with the
/// retry policy of `like`.
pub fn clients_in(config: &SdkConfig, region: &str, like: &Clients) -> Clients {
    let config = config
        .to_builder()
        .region(Region::new(region.to_owned()))
        .build();
    let attempts = like.pacer.attempts();
    clients_for(
        config,
        CallCounter::default(),
        Arc::new(Pacer::new(attempts)),
        like.paced(),
    )
}
