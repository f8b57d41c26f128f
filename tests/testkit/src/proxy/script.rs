//! The proxy's script: which calls (`On`) get which answer (`Answer`) instead of moto's, for
//! what real AWS does where moto does not.

use bytes::Bytes;
use http_body_util::Full;

use super::Dropped;

/// One scripted answer: for the first `times` calls `on` matches, answer with `answer`.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub on: On,
    pub times: usize,
    pub answer: Answer,
}

impl Scripted {
    pub fn new(on: On, times: usize, answer: Answer) -> Scripted {
        Scripted { on, times, answer }
    }
}

/// Which calls a scripted answer is for: the service (from the SigV4 scope), the HTTP
/// method, and the operation (a path, an S3 subresource, an IAM `Action=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct On {
    pub service: &'static str,
    pub method: &'static str,
    /// The exact path; `None` for any.
    pub path: Option<String>,
    /// S3's subresource query parameter (`tagging`, `policy`); `Some("")` for none at all.
    pub subresource: Option<&'static str>,
    /// The query protocol's `Action=` (IAM, STS).
    pub action: Option<&'static str>,
    /// The JSON protocols' `x-amz-target` operation (`FilterLogEvents`).
    pub target: Option<&'static str>,
    /// A text the request's body must hold (`"nextToken":"page-2"`).
    pub body: Option<String>,
}

impl On {
    /// An S3 bucket call, path-style: `PUT /bucket?tagging` is `s3("PUT", bucket, "tagging")`,
    /// CreateBucket `s3("PUT", bucket, "")`.
    pub fn s3(method: &'static str, bucket: &str, subresource: &'static str) -> On {
        On {
            service: "s3",
            method,
            path: Some(format!("/{bucket}")),
            subresource: Some(subresource),
            action: None,
            target: None,
            body: None,
        }
    }

    /// A Lambda REST call by method and exact path (`/2015-03-31/functions/NAME/policy`).
    pub fn lambda(method: &'static str, path: &str) -> On {
        On {
            service: "lambda",
            method,
            path: Some(path.to_owned()),
            subresource: None,
            action: None,
            target: None,
            body: None,
        }
    }

    /// An STS call by its action (`GetCallerIdentity`).
    pub fn sts(action: &'static str) -> On {
        On {
            service: "sts",
            ..On::iam(action)
        }
    }

    /// An IAM call by its action (`CreateRole`).
    pub fn iam(action: &'static str) -> On {
        On {
            service: "iam",
            method: "POST",
            path: None,
            subresource: None,
            action: Some(action),
            target: None,
            body: None,
        }
    }

    /// A CloudWatch Logs call (JSON 1.1: `x-amz-target: Logs_20140328.FilterLogEvents`) by
    /// its operation.
    pub fn logs(operation: &'static str) -> On {
        On {
            service: "logs",
            method: "POST",
            path: None,
            subresource: None,
            action: None,
            target: Some(operation),
            body: None,
        }
    }

    /// An AWS Budgets call (JSON 1.1: `x-amz-target: AWSBudgetServiceGateway.DescribeBudget`)
    /// by its operation.
    pub fn budgets(operation: &'static str) -> On {
        On {
            service: "budgets",
            ..On::logs(operation)
        }
    }

    /// Only the calls whose body holds `text`.
    pub fn with_body(self, text: impl Into<String>) -> On {
        On {
            body: Some(text.into()),
            ..self
        }
    }

    pub(super) fn matches(&self, call: &Call) -> bool {
        let subresource_ok = match self.subresource {
            None => true,
            Some("") => call.query.is_empty() || call.query.starts_with("x-id="),
            Some(key) => call
                .query
                .split('&')
                .any(|pair| pair.split('=').next() == Some(key)),
        };
        self.service == call.service
            && self.method == call.method
            // Path-style S3 sends `/bucket/` for bucket calls.
            && self
                .path
                .as_ref()
                .is_none_or(|p| p.trim_end_matches('/') == call.path.trim_end_matches('/'))
            && subresource_ok
            && self
                .action
                .is_none_or(|a| call.action.as_deref() == Some(a))
            && self
                .target
                .is_none_or(|t| call.target.as_deref() == Some(t))
            && self.body.as_ref().is_none_or(|b| call.body.contains(b.as_str()))
    }
}

/// What a scripted call gets.
#[derive(Debug, Clone)]
pub enum Answer {
    /// AWS's error, encoded as the service encodes errors (S3 XML, IAM query XML, Lambda
    /// REST JSON with `x-amzn-ErrorType`, Logs JSON 1.1).
    Error {
        status: u16,
        code: &'static str,
        message: String,
    },
    /// The upstream's JSON answer with the values at these JSON pointers replaced (what AWS
    /// reports and moto never does, e.g. a function whose last update failed).
    Patched(Vec<(&'static str, serde_json::Value)>),
    /// The upstream's answer with each `from` text of its body replaced by `to` (an S3 XML
    /// listing with a key AWS would send and moto cannot store, such as one with U+0001).
    Replaced(Vec<(String, String)>),
    /// No answer at all, ever: the connection stays open (a call that hangs).
    Hold,
    /// 200 with this JSON body, in the service's JSON content type, moto not asked (a page
    /// of FilterLogEvents as AWS may send it: empty, with a next token).
    Json(serde_json::Value),
}

impl Answer {
    pub fn error(status: u16, code: &'static str, message: impl Into<String>) -> Answer {
        Answer::Error {
            status,
            code,
            message: message.into(),
        }
    }
}

/// What the proxy knows of a call.
#[derive(Debug)]
pub(super) struct Call {
    pub(super) service: String,
    method: String,
    pub(super) path: String,
    query: String,
    action: Option<String>,
    /// The operation of `x-amz-target` (`FilterLogEvents`).
    target: Option<String>,
    /// The body as text (lossy): what `On::with_body` looks in.
    body: String,
}

impl Call {
    /// "s3 GET /bucket?tagging", "iam GetRole", "logs DescribeLogGroups": what the call was.
    pub(super) fn label(&self) -> String {
        match (&self.action, self.target.as_deref()) {
            (Some(action), _) => format!("{} {action}", self.service),
            (None, Some(target)) => format!("{} {target}", self.service),
            (None, None) if self.query.is_empty() => {
                format!("{} {} {}", self.service, self.method, self.path)
            }
            (None, None) => format!(
                "{} {} {}?{}",
                self.service, self.method, self.path, self.query
            ),
        }
    }

    pub(super) fn of(parts: &http::request::Parts, body: &[u8]) -> Call {
        let form_action = || {
            form_urlencoded::parse(body)
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v.into_owned())
        };
        Call {
            service: service_of(&parts.headers),
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            action: form_action(),
            target: parts
                .headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .and_then(|t| t.rsplit('.').next())
                .map(str::to_owned),
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }
}

/// The upstream's JSON answer with values replaced at JSON pointers.
pub(super) fn patched(
    mut parts: http::response::Parts,
    body: &[u8],
    values: &[(&'static str, serde_json::Value)],
) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let mut doc: serde_json::Value = serde_json::from_slice(body).map_err(|_| Dropped)?;
    for (pointer, value) in values {
        if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = value.clone();
        } else if let Some((parent, field)) = pointer.rsplit_once('/') {
            if let Some(serde_json::Value::Object(map)) = doc.pointer_mut(parent) {
                map.insert(field.to_owned(), value.clone());
            }
        }
    }
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Ok(http::Response::from_parts(
        parts,
        Full::new(Bytes::from(doc.to_string())),
    ))
}

/// The upstream's answer with texts of its body replaced.
pub(super) fn replaced(
    mut parts: http::response::Parts,
    body: &[u8],
    replacements: &[(String, String)],
) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let mut text = String::from_utf8(body.to_vec()).map_err(|_| Dropped)?;
    for (from, to) in replacements {
        text = text.replace(from.as_str(), to);
    }
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Ok(http::Response::from_parts(
        parts,
        Full::new(Bytes::from(text)),
    ))
}

/// The service a request is for, from its SigV4 credential scope (`.../<region>/<service>/aws4_request`).
pub(super) fn service_of(headers: &http::HeaderMap) -> String {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("s3")
        .to_owned()
}
