//! SigV4 verification, so tests prove which credentials signed each call.

use hmac::{Hmac, Mac};
use hyper::HeaderMap;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub fn parse(header: &str) -> Option<Authorization> {
    let rest = header.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim) {
        if let Some(value) = part.strip_prefix("Credential=") {
            credential = Some(value);
        } else if let Some(value) = part.strip_prefix("SignedHeaders=") {
            signed = Some(value);
        } else if let Some(value) = part.strip_prefix("Signature=") {
            signature = Some(value);
        }
    }
    let mut scope = credential?.split('/');
    let access_key = scope.next()?.to_owned();
    let date = scope.next()?.to_owned();
    let region = scope.next()?.to_owned();
    let service = scope.next()?.to_owned();
    if scope.next()? != "aws4_request" {
        return None;
    }
    Some(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers: signed?.split(';').map(str::to_owned).collect(),
        signature: signature?.to_owned(),
    })
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// What a request must be signed for: the service's signing name and the regions served.
pub struct Scope<'a> {
    pub service: &'a str,
    pub regions: &'a [String],
}

/// Checks a request as AWS does: the scope names this service, a served region and the day of
/// `x-amz-date`, which is within 15 minutes of now; `host` and `x-amz-date` are signed; the body
/// hashes to what `x-amz-content-sha256` claims; and the signature recomputed over all of it
/// matches. `Err` says what is wrong.
#[allow(clippy::too_many_arguments)]
pub fn check(
    auth: &Authorization,
    scope: &Scope<'_>,
    secret: &str,
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    if auth.service != scope.service {
        return Err(format!(
            "Credential should be scoped to correct service: '{}'",
            scope.service
        ));
    }
    if !scope.regions.contains(&auth.region) {
        return Err(format!(
            "Credential should be scoped to a valid region, not '{}'",
            auth.region
        ));
    }
    for required in ["host", "x-amz-date"] {
        if !auth.signed_headers.iter().any(|name| name == required) {
            return Err(format!("'{required}' must be a signed header"));
        }
    }
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or("no x-amz-date header")?;
    if !amz_date.starts_with(&auth.date) {
        return Err(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'",
            auth.date,
            amz_date.get(..8).unwrap_or(amz_date)
        ));
    }
    if let Some(skew) = skew_seconds(amz_date)
        && skew > 15 * 60
    {
        return Err("Signature expired: the request time is more than 15 minutes from now".into());
    }
    let body_hash = hex::encode(Sha256::digest(body));
    if let Some(claimed) = headers
        .get("x-amz-content-sha256")
        .and_then(|value| value.to_str().ok())
        && claimed != body_hash
        && claimed != "UNSIGNED-PAYLOAD"
    {
        return Err(
            "The provided 'x-amz-content-sha256' header does not match what was computed.".into(),
        );
    }
    if verify(auth, secret, method, path, query, headers, body) {
        Ok(())
    } else {
        Err("The request signature we calculated does not match the signature you provided".into())
    }
}

/// How far `x-amz-date` (`YYYYMMDDTHHMMSSZ`) is from now, in seconds.
fn skew_seconds(amz_date: &str) -> Option<u64> {
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        amz_date.get(0..4)?,
        amz_date.get(4..6)?,
        amz_date.get(6..8)?,
        amz_date.get(9..11)?,
        amz_date.get(11..13)?,
        amz_date.get(13..15)?
    );
    let signed = crate::seed::iso_to_epoch(&iso)?.as_f64()? as i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    Some(now.abs_diff(signed))
}

/// Recomputes the signature of a request to `path` over the body as received (never the hash
/// the request claims for it) and compares it with the one given.
pub fn verify(
    auth: &Authorization,
    secret: &str,
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> bool {
    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|value| value.to_str().ok())
            .map(|value| value.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = hex::encode(Sha256::digest(body));
    let canonical_request = format!(
        "{method}\n{path}\n{query}\n{canonical_headers}\n{}\n{payload_hash}",
        auth.signed_headers.join(";")
    );
    let Some(amz_date) = headers.get("x-amz-date").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let key = hmac(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes());
    let key = hmac(&key, auth.region.as_bytes());
    let key = hmac(&key, auth.service.as_bytes());
    let key = hmac(&key, b"aws4_request");
    hex::encode(hmac(&key, string_to_sign.as_bytes())) == auth.signature
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `get-vanilla` case of the AWS SigV4 test suite.
    #[test]
    fn verifies_the_aws_test_suite_vanilla_request() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "example.amazonaws.com".parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let auth = parse(header).unwrap();
        assert_eq!(auth.access_key, "AKIDEXAMPLE");
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        assert!(verify(&auth, secret, "GET", "/", "", &headers, b""));
        assert!(!verify(&auth, "wrong", "GET", "/", "", &headers, b""));
    }

    /// A request signed now for `service` in `region`, over `body`, claiming `claimed` as its
    /// payload hash and signing `signed` headers.
    fn signed(
        service: &str,
        region: &str,
        body: &[u8],
        claimed: &str,
        signed: &str,
    ) -> (Authorization, HeaderMap) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let iso = crate::services::sts::iso(now);
        let amz_date = format!(
            "{}{}{}T{}{}{}Z",
            &iso[0..4],
            &iso[5..7],
            &iso[8..10],
            &iso[11..13],
            &iso[14..16],
            &iso[17..19]
        );
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:1".parse().unwrap());
        headers.insert("x-amz-date", amz_date.parse().unwrap());
        headers.insert("x-amz-content-sha256", claimed.parse().unwrap());
        let mut auth = Authorization {
            access_key: "AKID".into(),
            date: amz_date[..8].into(),
            region: region.into(),
            service: service.into(),
            signed_headers: signed.split(';').map(str::to_owned).collect(),
            signature: String::new(),
        };
        // Sign over what was claimed, as a client that lied about its body would.
        let mut canonical = String::new();
        for name in &auth.signed_headers {
            let value = headers.get(name.as_str()).unwrap().to_str().unwrap();
            canonical.push_str(&format!("{name}:{value}\n"));
        }
        let request = format!(
            "POST\n/\n\n{canonical}\n{}\n{claimed}",
            auth.signed_headers.join(";")
        );
        let scope = format!("{}/{region}/{service}/aws4_request", auth.date);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(request.as_bytes()))
        );
        let key = hmac(b"AWS4secret", auth.date.as_bytes());
        let key = hmac(
            &hmac(&hmac(&key, region.as_bytes()), service.as_bytes()),
            b"aws4_request",
        );
        auth.signature = hex::encode(hmac(&key, to_sign.as_bytes()));
        let _ = body;
        (auth, headers)
    }

    #[test]
    fn a_request_is_checked_as_aws_checks_it() {
        let regions = vec!["us-east-1".to_owned()];
        let scope = Scope {
            service: "config",
            regions: &regions,
        };
        let body = b"{\"Evaluations\":[]}";
        let hash = hex::encode(Sha256::digest(body));
        let check_with = |auth: &Authorization, headers: &HeaderMap, body: &[u8], scope: &Scope| {
            check(auth, scope, "secret", "POST", "/", "", headers, body)
        };
        let (auth, headers) = signed(
            "config",
            "us-east-1",
            body,
            &hash,
            "host;x-amz-content-sha256;x-amz-date",
        );
        assert_eq!(check_with(&auth, &headers, body, &scope), Ok(()));
        // The body was changed after signing, its claimed hash kept.
        let tampered = check_with(&auth, &headers, b"{\"Evaluations\":[1]}", &scope).unwrap_err();
        assert!(tampered.contains("x-amz-content-sha256"), "{tampered}");
        // Signed for another region, another service, or without the host.
        for (service, region, signed_headers, refusal) in [
            (
                "config",
                "eu-west-1",
                "host;x-amz-content-sha256;x-amz-date",
                "region",
            ),
            (
                "sagemaker",
                "us-east-1",
                "host;x-amz-content-sha256;x-amz-date",
                "service",
            ),
            (
                "config",
                "us-east-1",
                "x-amz-content-sha256;x-amz-date",
                "host",
            ),
        ] {
            let (auth, headers) = signed(service, region, body, &hash, signed_headers);
            let error = check_with(&auth, &headers, body, &scope).unwrap_err();
            assert!(error.contains(refusal), "{refusal}: {error}");
        }
        // A scope dated another day than the request.
        let (mut auth, headers) = signed(
            "config",
            "us-east-1",
            body,
            &hash,
            "host;x-amz-content-sha256;x-amz-date",
        );
        auth.date = "20200101".into();
        assert!(
            check_with(&auth, &headers, body, &scope)
                .unwrap_err()
                .contains("Date in Credential scope")
        );
    }
}
