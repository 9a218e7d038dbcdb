//! A Lambda function's resource-based policy as Lambda stores it, and the size Lambda holds it
//! to. Every `AWS::Lambda::Permission` is one `AddPermission`, which adds one statement; an
//! `AddPermission` that would take the policy past the limit fails with
//! `PolicyLengthExceededException: The final policy size (20749) is bigger than the limit
//! (20480)`, so the size is the stored document's, in bytes.

use serde_json::{Value, json};

/// The most bytes a function's policy document may hold (20 KB, as the error above states it).
pub const POLICY_BYTES: usize = 20_480;
/// The longest statement id `AddPermission` takes (`StatementId`, botocore's Lambda model).
pub const STATEMENT_ID_CHARS: usize = 100;
/// The longest function ARN, the statement's `Resource` (`NamespacedFunctionName`, ibid.).
pub const FUNCTION_ARN_CHARS: usize = 140;
/// The longest function name (ibid.: "limited to 64 characters").
pub const FUNCTION_NAME_CHARS: usize = 64;

/// The statement `AddPermission` adds for an AWS service principal with a `SourceAccount`, as
/// its answer and `GetPolicy` spell it (the examples in botocore's Lambda model):
/// `{"Sid":..,"Effect":"Allow","Principal":{"Service":..},"Action":"lambda:InvokeFunction",
/// "Resource":<function ARN>,"Condition":{"StringEquals":{"AWS:SourceAccount":..}}}`.
pub fn service_statement(
    sid: &str,
    service: &str,
    function_arn: &str,
    source_account: Option<&str>,
) -> Value {
    let mut statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "lambda:InvokeFunction",
        "Resource": function_arn,
    });
    if let Some(account) = source_account {
        statement["Condition"] = json!({"StringEquals": {"AWS:SourceAccount": account}});
    }
    statement
}

/// The policy document `GetPolicy` returns: compact JSON,
/// `{"Version":"2012-10-17","Id":"default","Statement":[...]}`. Key order changes no length.
pub fn document(statements: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Id": "default", "Statement": statements}).to_string()
}
