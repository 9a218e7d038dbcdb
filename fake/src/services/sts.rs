//! STS over the awsQuery protocol (form-encoded requests, XML answers): AssumeRole hands out
//! credentials that act in the role's account, and GetCallerIdentity says who is calling.

use crate::{Context, Credential, Reply, State};
use hyper::StatusCode;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn form(body: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((decode(key), decode(value)))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 3 <= bytes.len() => {
                match u8::from_str_radix(&text[index + 1..index + 3], 16) {
                    Ok(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn action(body: &[u8]) -> Option<String> {
    form(body).remove("Action")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn error_xml(code: &str, message: &str, request_id: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(code),
        escape(message),
        escape(request_id)
    )
}

pub fn iso(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    // Civil from days, after Howard Hinnant.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Answers one STS call; `request_id` is the one the answer's header carries too, as STS's does.
pub fn handle(
    state: &mut State,
    operation: &str,
    body: &[u8],
    caller: &Context,
    request_id: &str,
) -> Reply {
    let params = form(body);
    match operation {
        "AssumeRole" => {
            let Some(role) = params.get("RoleArn") else {
                return Reply::Xml(
                    StatusCode::BAD_REQUEST,
                    error_xml("ValidationError", "RoleArn is required", request_id),
                );
            };
            let account = role.split(':').nth(4).unwrap_or("").to_owned();
            if account.len() != 12 || !role.contains(":role/") {
                return Reply::Xml(
                    StatusCode::BAD_REQUEST,
                    error_xml(
                        "ValidationError",
                        &format!("{role} is not a valid role ARN"),
                        request_id,
                    ),
                );
            }
            if state.denied_roles.iter().any(|denied| denied == role) {
                return Reply::Xml(
                    StatusCode::FORBIDDEN,
                    error_xml(
                        "AccessDenied",
                        &format!(
                            "User: arn:aws:sts::{}:assumed-role/caller/session is not authorized to perform: sts:AssumeRole on resource: {role}",
                            caller.account
                        ),
                        request_id,
                    ),
                );
            }
            state.assumed_roles.push(role.clone());
            let serial = state.credentials.len();
            let access_key = format!("ASIAFAKE{account}{serial:04}");
            let secret = format!("secret-{account}-{serial}");
            let token = format!("token-{account}-{serial}");
            state.credentials.insert(
                access_key.clone(),
                Credential {
                    secret: secret.clone(),
                    session_token: Some(token.clone()),
                    account: account.clone(),
                    expires: None,
                },
            );
            let next = state.next_lifetimes.pop_front();
            let duration = next.or(state.credential_lifetime).unwrap_or_else(|| {
                Duration::from_secs(
                    params
                        .get("DurationSeconds")
                        .and_then(|d| d.parse().ok())
                        .unwrap_or(3600),
                )
            });
            let issued = SystemTime::now();
            let expires = issued + duration;
            if let Some(credential) = state.credentials.get_mut(&access_key) {
                credential.expires = Some(expires);
            }
            let expiration = expires
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let session = params.get("RoleSessionName").cloned().unwrap_or_default();
            let role_name = role.rsplit('/').next().unwrap_or("");
            Reply::Xml(
                StatusCode::OK,
                format!(
                    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROAFAKE:{session}</AssumedRoleId><Arn>arn:aws:sts::{account}:assumed-role/{role_name}/{session}</Arn></AssumedRoleUser><Credentials><AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken><Expiration>{}</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></AssumeRoleResponse>",
                    iso(expiration)
                ),
            )
        }
        "GetCallerIdentity" => Reply::Xml(
            StatusCode::OK,
            format!(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::{0}:user/fake</Arn><UserId>AIDAFAKE</UserId><Account>{0}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
                caller.account
            ),
        ),
        other => Reply::Xml(
            StatusCode::BAD_REQUEST,
            error_xml(
                "InvalidAction",
                &format!("{other} is not implemented by the fake"),
                request_id,
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        let params = form(b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fr&RoleSessionName=a+b");
        assert_eq!(params["RoleArn"], "arn:aws:iam::111111111111:role/r");
        assert_eq!(params["RoleSessionName"], "a b");
    }

    #[test]
    fn expirations_are_iso() {
        assert_eq!(iso(1_795_860_000), "2026-11-28T10:00:00Z");
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
    }
}
