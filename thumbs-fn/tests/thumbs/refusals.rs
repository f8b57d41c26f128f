//! What gets no thumbnail: one WARN line naming the key, nothing written, the invocation
//! handled (Ok), so Lambda does not retry it.

use std::time::{Duration, Instant};

use image::ImageFormat;
use serde_json::Value;
use thumbs_fn::Outcome;

use crate::fixtures::{marked_as, png_declaring};
use crate::world::{notification, World};

fn warnings(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|l| l["level"] == "WARN").collect()
}

#[tokio::test]
async fn a_truncated_jpeg_a_text_named_png_and_a_bomb_get_one_warning_each() {
    let world = World::start().await;
    let jpeg = marked_as(300, 200, ImageFormat::Jpeg);
    let cases = [
        (
            "images/cut.jpg",
            jpeg[..jpeg.len() * 2 / 3].to_vec(),
            "cut short",
        ),
        (
            "images/note.png",
            b"not a picture at all\n".to_vec(),
            "not the image/png",
        ),
        (
            "images/bomb.png",
            png_declaring(100_000, 100_000),
            "100000 x 100000",
        ),
    ];
    for (key, bytes, reason) in cases {
        world.put(key, bytes, "image/png").await;
        let started = Instant::now();
        let (outcomes, lines) = world.notify(key).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{key} is refused fast"
        );
        assert!(
            matches!(&outcomes[..], [Outcome::Refused { key: k, .. }] if k == key),
            "{outcomes:?}"
        );
        let warned = warnings(&lines);
        assert_eq!(warned.len(), 1, "{key}: {lines:?}");
        assert_eq!(warned[0]["fields"]["key"], key);
        let message = warned[0]["fields"]["message"].as_str().unwrap();
        assert!(
            message.contains(key) && message.contains(reason),
            "{message}"
        );
    }
    let keys = world.keys().await;
    assert!(keys.iter().all(|k| k.starts_with("images/")), "{keys:?}");
}

#[tokio::test]
async fn objects_outside_images_and_other_events_are_ignored() {
    let world = World::start().await;
    let png = marked_as(50, 50, ImageFormat::Png);
    for key in ["thumbs/a.png", "other/a.png", "a.png", "images/"] {
        world.put(key, png.clone(), "image/png").await;
        let (outcomes, lines) = world.notify(key).await;
        assert!(
            matches!(&outcomes[..], [Outcome::Ignored { .. }]),
            "{key}: {outcomes:?}"
        );
        assert!(warnings(&lines).is_empty(), "{key}: {lines:?}");
    }
    world.put("images/a.png", png, "image/png").await;
    let removed = notification(&world.bucket, "ObjectRemoved:Delete", "images/a.png");
    let outcomes = world.app.handle(&removed).await.unwrap();
    assert!(matches!(&outcomes[..], [Outcome::Ignored { .. }]));
    let gone = world.notify("images/never-uploaded.png").await.0;
    assert!(matches!(&gone[..], [Outcome::Ignored { .. }]), "{gone:?}");
    let keys = world.keys().await;
    assert_eq!(
        keys,
        [
            "a.png",
            "images/",
            "images/a.png",
            "other/a.png",
            "thumbs/a.png"
        ],
        "nothing written"
    );
}
