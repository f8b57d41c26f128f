//! moto's request recorder: every HTTP call moto answered, to count what a command did from
//! the outside (no SDK hook, no trust in catup's own accounting).

use base64::Engine;
use serde_json::Value;

use crate::Moto;

/// One recorded AWS call.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub url: String,
    /// The AWS operation for JSON and query protocols (X-Amz-Target, Action=), if any.
    pub operation: Option<String>,
}

impl Call {
    /// Reads change nothing: GET/HEAD, and Get*/List*/Describe* operations of the JSON and
    /// query protocols (which POST even to read).
    pub fn is_mutating(&self) -> bool {
        if self.method == "GET" || self.method == "HEAD" {
            return false;
        }
        match &self.operation {
            Some(op) => !["Get", "List", "Describe"]
                .iter()
                .any(|read| op.starts_with(read)),
            None => true,
        }
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.url)?;
        if let Some(op) = &self.operation {
            write!(f, " ({op})")?;
        }
        Ok(())
    }
}

impl Moto {
    /// Clears the recording and starts recording every call.
    pub async fn start_recording(&self) {
        for step in ["stop-recording", "reset-recording", "start-recording"] {
            self.moto_api_post(&format!("recorder/{step}")).await;
        }
    }

    /// The calls since `start_recording`, in order (moto's own /moto-api calls excluded).
    pub async fn recorded_calls(&self) -> Vec<Call> {
        let url = format!("{}/moto-api/recorder/download-recording", self.endpoint());
        let text = reqwest::get(&url)
            .await
            .and_then(|r| r.error_for_status())
            .expect("download moto's recording")
            .text()
            .await
            .expect("read moto's recording");
        // One JSON object per call; moto's threads can write two objects before either
        // newline, so the text is read as a stream of objects, not as lines.
        serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .map(|call| parse_call(&call.expect("recorded call is JSON")))
            .filter(|c| !c.url.contains("/moto-api/"))
            .collect()
    }

    /// The mutating calls since `start_recording`.
    pub async fn recorded_mutations(&self) -> Vec<Call> {
        self.recorded_calls()
            .await
            .into_iter()
            .filter(Call::is_mutating)
            .collect()
    }

    async fn moto_api_post(&self, path: &str) {
        let url = format!("{}/moto-api/{path}", self.endpoint());
        reqwest::Client::new()
            .post(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    }
}

fn parse_call(record: &Value) -> Call {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let header = |name: &str| {
        record["headers"].as_object().and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
        })
    };
    let body = match record["body_encoded"].as_bool() {
        Some(true) => base64::engine::general_purpose::STANDARD
            .decode(text(&record["body"]))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default(),
        _ => text(&record["body"]),
    };
    let operation = header("X-Amz-Target")
        .and_then(|t| t.rsplit('.').next())
        .map(str::to_owned)
        .or_else(|| {
            let is_form = header("Content-Type")
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
            is_form
                .then(|| {
                    body.split('&')
                        .find_map(|kv| kv.strip_prefix("Action="))
                        .map(str::to_owned)
                })
                .flatten()
        });
    Call {
        method: text(&record["method"]),
        url: text(&record["url"]),
        operation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_told_from_writes_across_protocols() {
        let call = |method: &str, headers: Value, body: &str| {
            parse_call(&serde_json::json!({
                "method": method, "url": "http://h/x", "headers": headers,
                "body": body, "body_encoded": false
            }))
        };
        let form =
            serde_json::json!({"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"});
        assert!(!call("GET", serde_json::json!({}), "").is_mutating());
        assert!(!call("HEAD", serde_json::json!({}), "").is_mutating());
        assert!(call("PUT", serde_json::json!({}), "").is_mutating());
        assert!(call("POST", serde_json::json!({}), "<Delete/>").is_mutating());
        assert!(!call("POST", form.clone(), "Action=GetRole&RoleName=x").is_mutating());
        assert!(call("POST", form, "Action=PutRolePolicy&RoleName=x").is_mutating());
        let target = |t: &str| serde_json::json!({"X-Amz-Target": t});
        assert!(!call("POST", target("Logs_20140328.DescribeLogGroups"), "{}").is_mutating());
        assert!(!call("POST", target("Logs_20140328.ListTagsForResource"), "{}").is_mutating());
        assert!(call("POST", target("Logs_20140328.PutRetentionPolicy"), "{}").is_mutating());
    }
}
