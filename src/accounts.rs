//! Which account an invocation works in, and the clients that act there.
//!
//! One function can serve a whole organization (an organization custom rule invokes it for
//! every member account). Before touching SageMaker or Config it then assumes a role in the
//! event's account: the role named by `ExecutionRoleName`, or the event's `executionRoleArn`
//! with `AssumeExecutionRole`. Credentials are kept per role for their lifetime in a warm
//! function, and fetched from the regional STS endpoint of the function's region.

use crate::event::Invocation;
use crate::sdk::{Clients, clients_for};
use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use tokio::sync::Mutex;

/// Credentials are renewed this long before they expire, so no call runs on expired ones.
const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);
const SESSION_NAME: &str = "sagemaker14-config-rule";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error(
        "cannot assume {role} in account {account}: {code}: {message}. The function's role needs sts:AssumeRole on {role}, and that role must trust the function's role."
    )]
    AssumeRole {
        account: String,
        role: String,
        code: String,
        message: String,
    },
    #[error(
        "the event is for account {event_account}, but the function runs in {own_account} and no role to assume is configured: set the ExecutionRoleName rule parameter (or AssumeExecutionRole=true)"
    )]
    NoRole {
        event_account: String,
        own_account: String,
    },
    #[error("AssumeExecutionRole is true but the event has no executionRoleArn")]
    NoExecutionRoleArn,
    #[error("ExecutionRoleName is set but the event has no accountId to build the role ARN from")]
    NoAccountId,
}

struct Assumed {
    clients: Clients,
    expires: SystemTime,
}

/// The function's own clients, and those made for other accounts' roles.
pub struct Accounts {
    home: Clients,
    assumed: Mutex<HashMap<String, Assumed>>,
}

/// The role an invocation must act as, if any.
pub fn role_for(invocation: &Invocation, region: &str) -> Result<Option<String>, AccountError> {
    let params = &invocation.params;
    if let Some(name) = &params.execution_role_name {
        let account = invocation
            .account_id
            .as_deref()
            .ok_or(AccountError::NoAccountId)?;
        return Ok(Some(format!(
            "arn:{}:iam::{account}:role/{name}",
            partition(region)
        )));
    }
    if params.assume_execution_role {
        return invocation
            .execution_role_arn
            .clone()
            .map(Some)
            .ok_or(AccountError::NoExecutionRoleArn);
    }
    Ok(None)
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_owned()
}

impl Accounts {
    pub fn new(home: Clients) -> Self {
        Accounts {
            home,
            assumed: Mutex::new(HashMap::new()),
        }
    }

    fn region(&self) -> String {
        self.home
            .sdk_config
            .region()
            .map(|region| region.to_string())
            .unwrap_or_default()
    }

    /// The clients for one invocation. `own_account` is the function's account when known
    /// (from the Lambda context), to refuse events for other accounts that name no role.
    pub async fn clients_for(
        &self,
        invocation: &Invocation,
        own_account: Option<&str>,
    ) -> Result<(Clients, Option<String>), AccountError> {
        let role = role_for(invocation, &self.region())?;
        // The function's own account (an organization rule runs there too) has no member role:
        // the function's own role reads it.
        let own_event = own_account.is_some() && own_account == invocation.account_id.as_deref();
        let role = role.filter(|_| !(own_event && invocation.params.execution_role_name.is_some()));
        let Some(role) = role else {
            if let (Some(own), Some(event)) = (own_account, invocation.account_id.as_deref())
                && own != event
            {
                return Err(AccountError::NoRole {
                    event_account: event.to_owned(),
                    own_account: own.to_owned(),
                });
            }
            return Ok((self.home.clone(), None));
        };
        let mut assumed = self.assumed.lock().await;
        if let Some(entry) = assumed.get(&role)
            && entry.expires > SystemTime::now() + RENEW_BEFORE
        {
            return Ok((entry.clients.clone(), Some(role)));
        }
        let entry = self.assume(&role).await?;
        let clients = entry.clients.clone();
        assumed.insert(role.clone(), entry);
        Ok((clients, Some(role)))
    }

    async fn assume(&self, role: &str) -> Result<Assumed, AccountError> {
        let sts = aws_sdk_sts::Client::new(&self.home.sdk_config);
        let failure = |code: String, message: String| AccountError::AssumeRole {
            account: account_of(role),
            role: role.to_owned(),
            code,
            message,
        };
        let output = sts
            .assume_role()
            .role_arn(role)
            .role_session_name(SESSION_NAME)
            .send()
            .await
            .map_err(|error| {
                let code = error.code().unwrap_or("error").to_owned();
                let message = error.message().map(str::to_owned).unwrap_or_else(|| {
                    aws_smithy_types::error::display::DisplayErrorContext(&error).to_string()
                });
                failure(code, message)
            })?;
        let credentials = output.credentials().ok_or_else(|| {
            failure(
                "NoCredentials".into(),
                "AssumeRole returned no credentials".into(),
            )
        })?;
        let expires = SystemTime::try_from(*credentials.expiration())
            .unwrap_or_else(|_| SystemTime::now() + Duration::from_secs(900));
        tracing::info!(role, account = %account_of(role), "assumed the execution role");
        let config: SdkConfig = self
            .home
            .sdk_config
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                credentials.access_key_id(),
                credentials.secret_access_key(),
                Some(credentials.session_token().to_owned()),
                Some(expires),
                "AssumeRole",
            )))
            .build();
        Ok(Assumed {
            clients: clients_for(config, self.home.counter.clone()),
            expires,
        })
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
    fn a_role_name_is_built_into_the_event_accounts_arn() {
        let inv = invocation(
            r#"{"ExecutionRoleName":"ops/sm14-reader"}"#,
            Some("222222222222"),
            None,
        );
        assert_eq!(
            role_for(&inv, "eu-west-1").unwrap().as_deref(),
            Some("arn:aws:iam::222222222222:role/ops/sm14-reader")
        );
        assert_eq!(
            role_for(&inv, "cn-north-1").unwrap().as_deref(),
            Some("arn:aws-cn:iam::222222222222:role/ops/sm14-reader")
        );
        let no_account = invocation(r#"{"ExecutionRoleName":"r"}"#, None, None);
        assert_eq!(
            role_for(&no_account, "us-east-1"),
            Err(AccountError::NoAccountId)
        );
    }

    #[test]
    fn the_execution_role_arn_is_used_only_when_asked() {
        let role = "arn:aws:iam::333333333333:role/member-config";
        let inv = invocation("{}", Some("333333333333"), Some(role));
        assert_eq!(role_for(&inv, "us-east-1").unwrap(), None);
        let inv = invocation(
            r#"{"AssumeExecutionRole":"true"}"#,
            Some("333333333333"),
            Some(role),
        );
        assert_eq!(role_for(&inv, "us-east-1").unwrap().as_deref(), Some(role));
        let inv = invocation(
            r#"{"AssumeExecutionRole":"true"}"#,
            Some("333333333333"),
            None,
        );
        assert_eq!(
            role_for(&inv, "us-east-1"),
            Err(AccountError::NoExecutionRoleArn)
        );
    }
}
