//! Faults and errors as AWS's services encode them, so that the SDK classifies them as it
//! would AWS's own.

use bytes::Bytes;
use http_body_util::Full;

use super::Dropped;

/// The faults, as AWS's services send them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    InternalError,
    Throttled,
    ServiceUnavailable,
    DroppedConnection,
}

pub(super) const FAULTS: [Fault; 4] = [
    Fault::InternalError,
    Fault::Throttled,
    Fault::ServiceUnavailable,
    Fault::DroppedConnection,
];

/// The fault as the service's protocol encodes it, so the SDK classifies it as AWS would.
pub(super) fn fault_response(
    fault: Fault,
    service: &str,
) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let (status, code, message) = match (fault, service) {
        (Fault::DroppedConnection, _) => return Err(Dropped),
        (Fault::InternalError, _) => (500, "InternalError", "We encountered an internal error"),
        (Fault::ServiceUnavailable, "s3") => (503, "SlowDown", "Please reduce your request rate."),
        (Fault::ServiceUnavailable, _) => (503, "ServiceUnavailable", "Service unavailable"),
        (Fault::Throttled, "s3") => (503, "SlowDown", "Please reduce your request rate."),
        (Fault::Throttled, "lambda") => (429, "TooManyRequestsException", "Rate exceeded"),
        (Fault::Throttled, "logs") => (400, "ThrottlingException", "Rate exceeded"),
        (Fault::Throttled, _) => (400, "Throttling", "Rate exceeded"),
    };
    aws_error(status, service, code, message)
}

/// An AWS error as `service` encodes it: S3's XML, the query protocol's XML (IAM, STS), JSON
/// 1.1 with `__type` (Logs, Budgets), or REST JSON with `x-amzn-ErrorType` (Lambda).
pub(super) fn aws_error(
    status: u16,
    service: &str,
    code: &str,
    message: &str,
) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let (content_type, body) = match service {
        "s3" => (
            "application/xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message><RequestId>proxy</RequestId><HostId>proxy</HostId></Error>", xml_escape(message)),
        ),
        "iam" | "sts" => (
            "text/xml",
            format!("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>proxy</RequestId></ErrorResponse>", xml_escape(message)),
        ),
        "logs" | "budgets" => (
            "application/x-amz-json-1.1",
            serde_json::json!({"__type": code, "message": message}).to_string(),
        ),
        _ => (
            "application/json",
            serde_json::json!({"Type": "User", "Message": message}).to_string(),
        ),
    };
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .header("x-amzn-errortype", code)
        .header("x-amzn-requestid", "proxy")
        .body(Full::new(Bytes::from(body)))
        .map_err(|_| Dropped)
}

/// A 200 answer of a JSON 1.1 service (CloudWatch Logs) with this body.
pub(super) fn json_answer(
    body: &serde_json::Value,
) -> Result<http::Response<Full<Bytes>>, Dropped> {
    http::Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")
        .header("x-amzn-requestid", "proxy")
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|_| Dropped)
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
