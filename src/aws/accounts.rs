//! Which account an invocation works in, and the clients that act there.
//!
//! One function can serve a whole organization (an organization custom rule invokes it for
//! every member account). Before touching SageMaker or Config it then assumes a role in the
//! event's account: the role named by `ExecutionRoleName`, or the event's `executionRoleArn`
//! with `AssumeExecutionRole`. The event never chooses another account than its own: a role
//! ARN in another account is refused, and the partition comes from the function's own ARN.
//!
//! Credentials renew themselves: the SDK's `AssumeRoleProvider` behind an identity cache that
//! fetches new ones before the old expire, so a sweep longer than a session never lapses.

use crate::aws::pacing::Pacer;
use crate::aws::sdk::{Clients, clients_for};
use crate::core::event::Invocation;
use crate::error::{AccountError, ApiFailure, source_chain};
use crate::rule::deadline::{Abandoned, Deadline, within};
use aws_config::SdkConfig;
use aws_config::identity::IdentityCache;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider, future};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OnceCell};

/// Assumed credentials are renewed this long (plus up to half as much again, the SDK's jitter)
/// before they expire, so no call is signed with credentials about to lapse.
const RENEW_BEFORE: Duration = Duration::from_secs(10);
const SESSION_NAME: &str = "sagemaker14-config-rule";

/// Where the function itself runs, read from its own ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub partition: String,
    pub account: String,
}

impl Home {
    /// `arn:<partition>:lambda:<region>:<account>:function:<name>`.
    pub fn from_arn(arn: &str) -> Option<Home> {
        let mut parts = arn.split(':');
        let (Some("arn"), Some(partition), _, _, Some(account)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        (!partition.is_empty() && !account.is_empty()).then(|| Home {
            partition: partition.to_owned(),
            account: account.to_owned(),
        })
    }
}

/// The role an invocation must act as, if any, in `partition`.
pub fn role_for(invocation: &Invocation, partition: &str) -> Result<Option<String>, AccountError> {
    let params = &invocation.params;
    let wants_role = params.execution_role_name.is_some() || params.assume_execution_role;
    if !wants_role {
        return Ok(None);
    }
    let account = invocation
        .account_id
        .as_deref()
        .filter(|account| !account.is_empty())
        .ok_or(AccountError::NoAccountId)?;
    if let Some(name) = &params.execution_role_name {
        return Ok(Some(role_arn(partition, account, name)));
    }
    let role = invocation
        .execution_role_arn
        .clone()
        .ok_or(AccountError::NoExecutionRoleArn)?;
    let role_account = account_of(&role);
    if role_account != account {
        return Err(AccountError::ForeignRole {
            event_account: account.to_owned(),
            role,
            role_account,
        });
    }
    Ok(Some(role))
}

/// The role `name` (with its path, if any) in `account`.
pub fn role_arn(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{name}")
}

fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_owned()
}

/// Credentials for one role: the first set, fetched to prove the role can be assumed, is
/// handed out once; after that every request for credentials assumes the role again. The
/// identity cache in front asks only when the set it holds is about to expire.
#[derive(Debug)]
struct RenewingRole {
    provider: AssumeRoleProvider,
    first: std::sync::Mutex<Option<Credentials>>,
}

impl ProvideCredentials for RenewingRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let first = self.first.lock().expect("never poisoned").take();
        match first {
            Some(credentials) => future::ProvideCredentials::ready(Ok(credentials)),
            None => {
                tracing::info!("renewing the assumed role's credentials");
                self.provider.provide_credentials()
            }
        }
    }
}

/// The function's own clients, and those made for other accounts' roles.
pub struct Accounts {
    home_clients: Clients,
    /// Known from the function ARN on Lambda; asked of STS once on the command line.
    home: OnceCell<Home>,
    assumed: Mutex<HashMap<String, Clients>>,
}

impl Accounts {
    pub fn new(home_clients: Clients) -> Self {
        Accounts {
            home_clients,
            home: OnceCell::new(),
            assumed: Mutex::new(HashMap::new()),
        }
    }

    /// The function's own clients: for requests that act only where the function runs (hooks).
    pub fn own_clients(&self) -> &Clients {
        &self.home_clients
    }

    /// Where the function runs, from the Lambda context (the same for every invocation).
    pub fn learn_home(&self, function_arn: &str) {
        if let Some(home) = Home::from_arn(function_arn) {
            let _ = self.home.set(home);
        }
    }

    async fn home(&self) -> Result<&Home, AccountError> {
        self.home
            .get_or_try_init(|| async {
                const OPERATION: &str = "GetCallerIdentity";
                let sts = aws_sdk_sts::Client::new(&self.home_clients.sdk_config);
                let identity = sts.get_caller_identity().send().await.map_err(|error| {
                    AccountError::Partition(ApiFailure::from_sdk(OPERATION, &error))
                })?;
                identity.arn().and_then(Home::from_arn).ok_or_else(|| {
                    AccountError::Partition(ApiFailure::unusable(
                        OPERATION,
                        "no caller ARN in the answer",
                    ))
                })
            })
            .await
    }

    /// The clients for one invocation, and the role they act as. On Lambda the function's own
    /// account is known, to refuse events for other accounts that name no role, and STS is
    /// given only the time left before the `deadline`.
    pub async fn clients_for(
        &self,
        invocation: &Invocation,
        deadline: Option<Deadline>,
    ) -> Result<(Clients, Option<String>), AccountError> {
        let wants_role = invocation.params.execution_role_name.is_some()
            || invocation.params.assume_execution_role;
        let role = if wants_role {
            let home = within(deadline, self.home())
                .await
                .unwrap_or_else(|Abandoned| {
                    Err(AccountError::Partition(ApiFailure::abandoned(
                        "GetCallerIdentity",
                    )))
                });
            let partition = home?.partition.clone();
            role_for(invocation, &partition)?
        } else {
            None
        };
        let own_account = self.home.get().map(|home| home.account.clone());
        // The function's own account (an organization rule runs there too) has no member role:
        // the function's own role reads it.
        let own_event =
            own_account.is_some() && own_account.as_deref() == invocation.account_id.as_deref();
        let role = role.filter(|_| !(own_event && invocation.params.execution_role_name.is_some()));
        let Some(role) = role else {
            if let (Some(own), Some(event)) = (own_account, invocation.account_id.as_deref())
                && own != event
            {
                return Err(AccountError::NoRole {
                    event_account: event.to_owned(),
                    own_account: own,
                });
            }
            return Ok((self.home_clients.clone(), None));
        };
        let mut assumed = self.assumed.lock().await;
        if let Some(clients) = assumed.get(&role) {
            return Ok((clients.clone(), Some(role)));
        }
        let pacer = self.pacer_for(&account_of(&role), &assumed);
        let clients = within(deadline, self.assume(&role, pacer))
            .await
            .unwrap_or_else(|Abandoned| {
                Err(AccountError::AssumeRole {
                    account: account_of(&role),
                    role: role.clone(),
                    failure: Box::new(ApiFailure::abandoned("AssumeRole")),
                })
            })?;
        assumed.insert(role.clone(), clients.clone());
        Ok((clients, Some(role)))
    }

    async fn assume(&self, role: &str, pacer: Arc<Pacer>) -> Result<Clients, AccountError> {
        let config = assume_role(&self.home_clients.sdk_config, role).await?;
        let home = &self.home_clients;
        Ok(clients_for(
            config,
            home.counter.clone(),
            pacer,
            home.paced(),
        ))
    }

    /// The pacer of calls in `account` (all in this function's region): one per account, kept
    /// for every later invocation there and shared by its roles; the function's own for its own
    /// account. An account's limits are its own, and so is what its throttling taught.
    fn pacer_for(&self, account: &str, assumed: &HashMap<String, Clients>) -> Arc<Pacer> {
        let home = &self.home_clients;
        if self.home.get().is_some_and(|own| own.account == account) {
            return home.pacer.clone();
        }
        assumed
            .iter()
            .find(|(role, _)| account_of(role) == account)
            .map_or_else(
                || Arc::new(Pacer::new(home.pacer.attempts())),
                |(_, clients)| clients.pacer.clone(),
            )
    }
}

/// `home` acting as `role`: its settings, with credentials that renew themselves. The first set
/// is fetched now, so that a role that cannot be assumed fails up front, with the account, the
/// role and the permission named.
pub async fn assume_role(home: &SdkConfig, role: &str) -> Result<SdkConfig, AccountError> {
    let provider = AssumeRoleProvider::builder(role)
        .session_name(SESSION_NAME)
        .configure(home)
        .build()
        .await;
    let first = provider
        .provide_credentials()
        .await
        .map_err(|error| assume_error(role, &error))?;
    tracing::info!(role, account = %account_of(role), "assumed the role");
    let renewing = RenewingRole {
        provider,
        first: std::sync::Mutex::new(Some(first)),
    };
    Ok(home
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(renewing))
        .identity_cache(IdentityCache::lazy().buffer_time(RENEW_BEFORE).build())
        .build())
}

/// STS's own answer (AccessDenied, ...) from inside the provider's error, classified like every
/// other AWS call.
fn assume_error(role: &str, error: &provider::error::CredentialsError) -> AccountError {
    type AssumeRoleSdkError =
        aws_sdk_sts::error::SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError>;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut failure = ApiFailure::refused("AssumeRole", source_chain(error));
    while let Some(cause) = source {
        if let Some(sdk) = cause.downcast_ref::<AssumeRoleSdkError>() {
            failure = ApiFailure::from_sdk("AssumeRole", sdk);
            break;
        }
        source = cause.source();
    }
    AccountError::AssumeRole {
        account: account_of(role),
        role: role.to_owned(),
        failure: Box::new(failure),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn invocation(params: &str, account: Option<&str>, execution_role: Option<&str>) -> Invocation {
        let mut event = json!({
            "invokingEvent": json!({"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-28T10:00:00.000Z"}).to_string(),
            "ruleParameters": params,
            "resultToken": "t",
        });
        if let Some(account) = account {
            event["accountId"] = json!(account);
        }
        if let Some(role) = execution_role {
            event["executionRoleArn"] = json!(role);
        }
        Invocation::from_value(event).unwrap()
    }

    #[test]
    fn a_role_name_is_built_into_the_event_accounts_arn_in_the_functions_partition() {
        let inv = invocation(
            r#"{"ExecutionRoleName":"ops/sm14-reader"}"#,
            Some("222222222222"),
            None,
        );
        assert_eq!(
            role_for(&inv, "aws").unwrap().as_deref(),
            Some("arn:aws:iam::222222222222:role/ops/sm14-reader")
        );
        assert_eq!(
            role_for(&inv, "aws-eusc").unwrap().as_deref(),
            Some("arn:aws-eusc:iam::222222222222:role/ops/sm14-reader")
        );
        let no_account = invocation(r#"{"ExecutionRoleName":"r"}"#, None, None);
        assert_eq!(role_for(&no_account, "aws"), Err(AccountError::NoAccountId));
    }

    #[test]
    fn the_execution_role_arn_is_used_only_when_asked_and_only_in_the_events_account() {
        let role = "arn:aws:iam::333333333333:role/member-config";
        let inv = invocation("{}", Some("333333333333"), Some(role));
        assert_eq!(role_for(&inv, "aws").unwrap(), None);
        let asked = r#"{"AssumeExecutionRole":"true"}"#;
        let inv = invocation(asked, Some("333333333333"), Some(role));
        assert_eq!(role_for(&inv, "aws").unwrap().as_deref(), Some(role));
        let inv = invocation(asked, Some("333333333333"), None);
        assert_eq!(role_for(&inv, "aws"), Err(AccountError::NoExecutionRoleArn));
        let inv = invocation(asked, Some("222222222222"), Some(role));
        assert!(matches!(
            role_for(&inv, "aws"),
            Err(AccountError::ForeignRole { role_account, .. }) if role_account == "333333333333"
        ));
        let inv = invocation(asked, None, Some(role));
        assert_eq!(role_for(&inv, "aws"), Err(AccountError::NoAccountId));
    }

    #[test]
    fn the_home_comes_from_the_function_arn() {
        assert_eq!(
            Home::from_arn("arn:aws-cn:lambda:cn-north-1:123456789012:function:f"),
            Some(Home {
                partition: "aws-cn".into(),
                account: "123456789012".into()
            })
        );
        assert_eq!(Home::from_arn("not-an-arn"), None);
    }
}
