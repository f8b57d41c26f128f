//! The policy documents in `policies/`, embedded at build time and rendered with the stack's
//! names. One source of truth: what the README shows is what deploy applies.

use serde_json::Value;
use thiserror::Error;

/// The values that fill a template's `{{PLACEHOLDER}}`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyValues {
    pub images_bucket: String,
    pub site_bucket: String,
    /// `http://host`, no trailing slash.
    pub site_origin: String,
    pub region: String,
    pub account_id: String,
    pub log_group: String,
}

impl PolicyValues {
    fn lookup(&self, placeholder: &str) -> Option<&str> {
        Some(match placeholder {
            "IMAGES_BUCKET" => &self.images_bucket,
            "SITE_BUCKET" => &self.site_bucket,
            "SITE_ORIGIN" => &self.site_origin,
            "REGION" => &self.region,
            "ACCOUNT_ID" => &self.account_id,
            "LOG_GROUP" => &self.log_group,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    LambdaTrust,
    FunctionRuntime,
    /// The thumbnail function's role: read `images/*`, write `thumbs/*`, its own logs.
    ThumbsRuntime,
    SiteBucketPolicy,
    ImagesCors,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RenderError {
    #[error("policy template {template:?} uses unknown placeholder {{{{{name}}}}}")]
    UnknownPlaceholder { template: Template, name: String },
    #[error("policy template {template:?} has an unclosed placeholder")]
    Unclosed { template: Template },
    #[error("policy template {template:?} renders to invalid JSON: {reason}")]
    InvalidJson { template: Template, reason: String },
}

impl Template {
    pub const ALL: [Template; 5] = [
        Template::LambdaTrust,
        Template::FunctionRuntime,
        Template::ThumbsRuntime,
        Template::SiteBucketPolicy,
        Template::ImagesCors,
    ];

    pub fn source(self) -> &'static str {
        match self {
            Template::LambdaTrust => include_str!("../policies/lambda-trust.json"),
            Template::FunctionRuntime => include_str!("../policies/function-runtime.json"),
            Template::ThumbsRuntime => include_str!("../policies/thumbs-runtime.json"),
            Template::SiteBucketPolicy => include_str!("../policies/site-bucket-policy.json"),
            Template::ImagesCors => include_str!("../policies/images-cors.json"),
        }
    }

    /// The document with every placeholder filled, parsed: a template that does not render
    /// to valid JSON is an error, never a document sent to AWS.
    pub fn render(self, values: &PolicyValues) -> Result<Value, RenderError> {
        fill(self, self.source(), values)
    }
}

fn fill(template: Template, source: &str, values: &PolicyValues) -> Result<Value, RenderError> {
    let mut out = String::with_capacity(source.len() + 128);
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(RenderError::Unclosed { template })?;
        let name = &after[..end];
        let value = values
            .lookup(name)
            .ok_or_else(|| RenderError::UnknownPlaceholder {
                template,
                name: name.to_owned(),
            })?;
        // Placeholders stand inside JSON strings: escape the value as JSON string content.
        let quoted = Value::from(value).to_string();
        out.push_str(&quoted[1..quoted.len() - 1]);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    serde_json::from_str(&out).map_err(|e| RenderError::InvalidJson {
        template,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> PolicyValues {
        PolicyValues {
            images_bucket: "cat-upload-images-123456789012-eu-west-1".into(),
            site_bucket: "cat-upload-site-123456789012-eu-west-1".into(),
            site_origin:
                "http://cat-upload-site-123456789012-eu-west-1.s3-website-eu-west-1.amazonaws.com"
                    .into(),
            region: "eu-west-1".into(),
            account_id: "123456789012".into(),
            log_group: "/aws/lambda/cat-upload-api".into(),
        }
    }

    /// Every string value under `field` anywhere in the document.
    fn strings_under<'a>(doc: &'a Value, field: &str, out: &mut Vec<&'a str>) {
        match doc {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == field {
                        match v {
                            Value::String(s) => out.push(s),
                            Value::Array(items) => {
                                out.extend(items.iter().filter_map(Value::as_str))
                            }
                            _ => {}
                        }
                    }
                    strings_under(v, field, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| strings_under(v, field, out)),
            _ => {}
        }
    }

    fn all_strings<'a>(doc: &'a Value, out: &mut Vec<&'a str>) {
        match doc {
            Value::String(s) => out.push(s),
            Value::Array(items) => items.iter().for_each(|v| all_strings(v, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k);
                all_strings(v, out);
            }),
            _ => {}
        }
    }

    #[test]
    fn unknown_unclosed_or_invalid_templates_are_errors() {
        let t = Template::ImagesCors;
        assert_eq!(
            fill(t, r#"{"a": "{{NOPE}}"}"#, &values()),
            Err(RenderError::UnknownPlaceholder {
                template: t,
                name: "NOPE".into()
            })
        );
        assert_eq!(
            fill(t, r#"{"a": "{{REGION"}"#, &values()),
            Err(RenderError::Unclosed { template: t })
        );
        assert!(matches!(
            fill(t, r#"{"a": {{REGION}}}"#, &values()),
            Err(RenderError::InvalidJson { .. })
        ));
        assert_eq!(
            fill(t, r#"{"a": "x-{{REGION}}-y"}"#, &values()),
            Ok(serde_json::json!({"a": "x-eu-west-1-y"}))
        );
    }

    #[test]
    fn every_template_renders_to_json_with_no_placeholder_or_wildcard_action() {
        for template in Template::ALL {
            let doc = template.render(&values()).unwrap();
            let mut strings = Vec::new();
            all_strings(&doc, &mut strings);
            assert!(
                strings
                    .iter()
                    .all(|s| !s.contains("{{") && !s.contains("}}")),
                "{template:?} has a leftover placeholder: {strings:?}"
            );
            let mut actions = Vec::new();
            strings_under(&doc, "Action", &mut actions);
            strings_under(&doc, "AllowedMethods", &mut actions);
            assert!(
                actions.iter().all(|a| !a.contains('*')),
                "{template:?} has a wildcard action: {actions:?}"
            );
            let mut resources = Vec::new();
            strings_under(&doc, "Resource", &mut resources);
            assert!(
                resources.iter().all(|r| *r != "*"),
                "{template:?}: {resources:?}"
            );
        }
    }

    #[test]
    fn runtime_policy_is_least_privilege() {
        let doc = Template::FunctionRuntime.render(&values()).unwrap();
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 4);
        let list = &statements[0];
        assert_eq!(list["Action"], "s3:ListBucket");
        assert_eq!(
            list["Resource"],
            "arn:aws:s3:::cat-upload-images-123456789012-eu-west-1"
        );
        assert_eq!(
            list["Condition"]["StringLike"]["s3:prefix"],
            serde_json::json!(["images/", "images/*", "thumbs/", "thumbs/*"])
        );
        assert_eq!(
            statements[1]["Action"],
            serde_json::json!(["s3:GetObject", "s3:PutObject"])
        );
        assert_eq!(
            statements[1]["Resource"],
            "arn:aws:s3:::cat-upload-images-123456789012-eu-west-1/images/*"
        );
        // The thumbnails: read (their URLs are signed with this role), never written.
        assert_eq!(statements[2]["Action"], "s3:GetObject");
        assert_eq!(
            statements[2]["Resource"],
            "arn:aws:s3:::cat-upload-images-123456789012-eu-west-1/thumbs/*"
        );
        assert_eq!(
            statements[3]["Resource"],
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/cat-upload-api:log-stream:*"
        );
    }

    #[test]
    fn trust_names_only_lambda() {
        let doc = Template::LambdaTrust.render(&values()).unwrap();
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0]["Principal"],
            serde_json::json!({"Service": "lambda.amazonaws.com"})
        );
        assert_eq!(statements[0]["Action"], "sts:AssumeRole");
    }

    #[test]
    fn site_policy_grants_get_object_on_the_site_only() {
        let doc = Template::SiteBucketPolicy.render(&values()).unwrap();
        let statement = &doc["Statement"][0];
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(statement["Action"], "s3:GetObject");
        assert_eq!(
            statement["Resource"],
            "arn:aws:s3:::cat-upload-site-123456789012-eu-west-1/*"
        );
    }

    #[test]
    fn images_cors_allows_exactly_the_site_origin() {
        let doc = Template::ImagesCors.render(&values()).unwrap();
        let rule = &doc["CORSRules"][0];
        assert_eq!(
            rule["AllowedOrigins"],
            serde_json::json!([values().site_origin])
        );
        assert_eq!(rule["AllowedMethods"], serde_json::json!(["GET", "PUT"]));
        assert_eq!(rule["AllowedHeaders"], serde_json::json!(["content-type"]));
        assert_eq!(rule["MaxAgeSeconds"], 3000);
    }

    #[test]
    fn values_are_json_escaped() {
        let mut v = values();
        v.site_origin = "http://a\"b".into();
        let doc = Template::ImagesCors.render(&v).unwrap();
        assert_eq!(doc["CORSRules"][0]["AllowedOrigins"][0], "http://a\"b");
    }
}
