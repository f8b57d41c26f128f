//! Keys as S3 sends them in notifications: URL-encoded, `+` for spaces, UTF-8 escaped.

use image::ImageFormat;
use thumbs_fn::Outcome;

use crate::fixtures::marked_as;
use crate::world::World;

#[tokio::test]
async fn a_url_encoded_key_with_spaces_and_unicode_is_found_and_kept() {
    let world = World::start().await;
    let key = "images/mon chat é 🐈 a+b.png";
    world
        .put(key, marked_as(40, 30, ImageFormat::Png), "image/png")
        .await;
    let raw = "images%2Fmon+chat+%C3%A9+%F0%9F%90%88+a%2Bb.png";
    let (outcomes, _) = world.notify(raw).await;
    let thumb_key = "thumbs/mon chat é 🐈 a+b.png";
    assert_eq!(
        outcomes,
        [Outcome::Written {
            key: key.into(),
            thumbnail: thumb_key.into(),
            width: 40,
            height: 30
        }]
    );
    let (_, content_type) = world
        .get(thumb_key)
        .await
        .expect("thumbnail under the same name");
    assert_eq!(content_type, "image/png");
}
