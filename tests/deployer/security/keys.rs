//! Upload keys: chosen by the server under `images/`, never by the client.

use std::collections::BTreeSet;

use catup_testkit::sigv4::Presigned;
use serde_json::json;

use super::presigned::{post, start_dev};

/// `Ok(uuid)` when `key` is `images/<13 digits>-<uuid v4>.<ext>`, the shape of
/// `^images/\d{13}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.png$`
/// for `.png`.
fn server_key_uuid<'a>(key: &'a str, ext: &str) -> Result<&'a str, String> {
    let fail = |why: &str| Err(format!("{key:?}: {why}"));
    let Some(rest) = key.strip_prefix("images/") else {
        return fail("not under images/");
    };
    let Some(rest) = rest.strip_suffix(&format!(".{ext}")) else {
        return fail("wrong extension");
    };
    let (Some(stamp), Some(rest)) = (rest.get(..13), rest.get(13..)) else {
        return fail("too short");
    };
    if !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return fail("no 13-digit timestamp");
    }
    let Some(uuid) = rest.strip_prefix('-') else {
        return fail("no '-' after the timestamp");
    };
    let groups: Vec<&str> = uuid.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lengths != [8, 4, 4, 4, 12] {
        return fail("not an 8-4-4-4-12 UUID");
    }
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if !groups.iter().all(|g| g.bytes().all(lower_hex)) {
        return fail("UUID is not lower-case hex");
    }
    if !groups[2].starts_with('4') {
        return fail("UUID is not version 4");
    }
    if !groups[3].starts_with(['8', '9', 'a', 'b']) {
        return fail("UUID is not of the RFC 4122 variant");
    }
    Ok(uuid)
}

#[tokio::test]
async fn upload_keys_are_server_chosen_under_images_with_a_random_uuid() {
    let dev = start_dev();
    let images = dev.url("images_bucket").to_owned();
    let mut uuids = BTreeSet::new();
    let mut keys = BTreeSet::new();
    for _ in 0..5 {
        let answer = post(&dev, json!({"contentType": "image/png", "size": 10})).await;
        let key = answer["key"].as_str().unwrap().to_owned();
        let uuid = server_key_uuid(&key, "png").unwrap_or_else(|e| panic!("{e}"));
        uuids.insert(uuid.to_owned());
        let url = Presigned::parse(answer["uploadUrl"].as_str().unwrap());
        assert_eq!(
            url.path,
            format!("/{images}/{key}"),
            "the URL is for the key"
        );
        keys.insert(key);
    }
    assert_eq!(keys.len(), 5, "every POST gets its own key: {keys:?}");
    assert_eq!(
        uuids.len(),
        5,
        "the UUID part is random, not only the time: {uuids:?}"
    );

    // Whatever the client asks for, the key is the server's.
    let answer = post(
        &dev,
        json!({
            "contentType": "image/png",
            "size": 10,
            "key": "images/mine.png",
            "Key": "../site/index.html",
            "filename": "../../index.html",
            "name": "cat.png",
        }),
    )
    .await;
    let key = answer["key"].as_str().unwrap();
    server_key_uuid(key, "png").unwrap_or_else(|e| panic!("client fields steered the key: {e}"));
    let url = Presigned::parse(answer["uploadUrl"].as_str().unwrap());
    assert_eq!(url.path, format!("/{images}/{key}"));
    for chosen in ["mine", "index.html", "cat.png", ".."] {
        assert!(!url.path.contains(chosen), "{chosen} in {}", url.path);
    }
}

#[test]
fn key_check_accepts_only_server_shaped_keys() {
    let good = "images/8235999999999-3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b.png";
    assert_eq!(
        server_key_uuid(good, "png"),
        Ok("3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b")
    );
    for bad in [
        "images/mine.png",
        "uploads/8235999999999-3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b.html",
        "images/823599999999-3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-3f0c1a2b-4c5d-1e6f-9a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-3f0c1a2b-4c5d-4e6f-7a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-3F0C1A2B-4c5d-4e6f-9a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-3f0c1a2b4c5d-4e6f-9a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-00000000-0000-0000-0000-000000000000.png",
        "images/../8235999999999-3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b.png",
    ] {
        assert!(server_key_uuid(bad, "png").is_err(), "{bad}");
    }
}
