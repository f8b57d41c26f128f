//! Policy documents (IAM, S3 bucket policies, Lambda resource policies) read the way AWS
//! returns them, for tests that judge what a stack allows.

use serde_json::Value;

/// A policy document as JSON. IAM returns documents URL-encoded (RFC 3986); S3 and Lambda
/// return plain JSON; both are accepted. Panics with the text when it is not JSON.
pub fn document(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| {
        let decoded = percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .unwrap_or_else(|e| panic!("policy document is not UTF-8 ({e}): {text}"));
        serde_json::from_str(&decoded)
            .unwrap_or_else(|e| panic!("policy document is not JSON ({e}): {decoded}"))
    })
}

/// The statements of a document: `Statement` is an object or an array of them.
pub fn statements(doc: &Value) -> Vec<&Value> {
    match &doc["Statement"] {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![&doc["Statement"]],
        other => panic!("policy without Statement ({other}): {doc:#}"),
    }
}

/// A policy element that is a string or an array of strings; missing is empty.
pub fn strings<'a>(statement: &'a Value, field: &str) -> Vec<&'a str> {
    match &statement[field] {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .unwrap_or_else(|| panic!("{field} holds a non-string: {statement:#}"))
            })
            .collect(),
        other => panic!("{field} is neither string nor array ({other}): {statement:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_are_read_plain_or_url_encoded_and_statements_in_either_form() {
        let plain = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject"}}"#;
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22s3%3AGetObject%22%2C%22s3%3APutObject%22%5D%7D%5D%7D";
        let one = document(plain);
        let many = document(encoded);
        assert_eq!(
            statements(&one),
            [&json!({"Effect": "Allow", "Action": "s3:GetObject"})]
        );
        assert_eq!(strings(statements(&one)[0], "Action"), ["s3:GetObject"]);
        assert_eq!(
            strings(statements(&many)[0], "Action"),
            ["s3:GetObject", "s3:PutObject"]
        );
        assert!(strings(statements(&many)[0], "Resource").is_empty());
    }

    #[test]
    #[should_panic(expected = "not JSON")]
    fn a_document_that_is_not_json_is_refused() {
        document("Version%3D1");
    }
}
