//! AWS Organizations (`ListAccounts`, awsJson1.1) and the Account Management API
//! (`ListRegions`, REST-JSON at `/listRegions`): what an audit of a whole organization asks
//! first. The organization is every account the fake holds; the regions are those it serves,
//! and those it was told the account has not enabled.

use crate::{Reply, State, paginate};
use serde_json::{Value, json};

pub fn handle(state: &mut State, operation: &str, input: &Value) -> Reply {
    match operation {
        "ListAccounts" => list_accounts(state, input),
        "ListRegions" => list_regions(state),
        other => Reply::client_error(
            "UnknownOperationException",
            format!("{other} is not implemented by the fake"),
        ),
    }
}

fn list_accounts(state: &State, input: &Value) -> Reply {
    let mut ids: Vec<String> = state
        .accounts
        .keys()
        .map(|key| key.split('/').next().unwrap_or(key).to_owned())
        .collect();
    ids.dedup();
    let start = input
        .get("NextToken")
        .and_then(Value::as_str)
        .and_then(|token| token.strip_prefix("page-")?.parse().ok())
        .unwrap_or(0);
    let max = input
        .get("MaxResults")
        .and_then(Value::as_u64)
        .unwrap_or(20) as usize;
    let render = |id: &String| {
        json!({
            "Id": id,
            "Arn": format!("arn:aws:organizations::123456789012:account/o-fake/{id}"),
            "Email": format!("{id}@example.com"),
            "Name": format!("account {id}"),
            "Status": "ACTIVE",
            "JoinedMethod": "CREATED",
            "JoinedTimestamp": 1_700_000_000,
        })
    };
    Reply::Json(paginate(&ids, start, max, render, "Accounts", "NextToken"))
}

fn list_regions(state: &State) -> Reply {
    let regions: Vec<Value> = state
        .regions
        .iter()
        .map(|region| json!({"RegionName": region, "RegionOptStatus": "ENABLED_BY_DEFAULT"}))
        .chain(
            state
                .disabled_regions
                .iter()
                .map(|region| json!({"RegionName": region, "RegionOptStatus": "DISABLED"})),
        )
        .collect();
    Reply::Json(json!({ "Regions": regions }))
}
