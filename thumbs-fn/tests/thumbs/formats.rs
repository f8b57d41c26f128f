//! Each format in, a thumbnail of the same format out under thumbs/, upright and fitted.

use image::{DynamicImage, ImageFormat, RgbImage};
use thumbs_fn::Outcome;

use crate::fixtures::{animated_gif, is_red, marked_as};
use crate::world::World;

/// The thumbnail under `key`: its content type says what its bytes are.
pub async fn thumbnail(world: &World, key: &str) -> (RgbImage, String) {
    let (bytes, content_type) = world.get(key).await.expect("thumbnail written");
    let format = image::guess_format(&bytes).expect("an image");
    assert_eq!(format.to_mime_type(), content_type, "{key}");
    let image = image::load_from_memory(&bytes).expect("thumbnail decodes");
    (image.to_rgb8(), content_type)
}

#[tokio::test]
async fn each_format_gets_a_thumbnail_of_its_own_type_and_name() {
    let world = World::start().await;
    let formats = [
        ("jpg", ImageFormat::Jpeg),
        ("png", ImageFormat::Png),
        ("gif", ImageFormat::Gif),
        ("webp", ImageFormat::WebP),
    ];
    for (extension, format) in formats {
        let key = format!("images/1-cat.{extension}");
        world
            .put(&key, marked_as(800, 600, format), format.to_mime_type())
            .await;
        let (outcomes, _) = world.notify(&key).await;
        let thumb_key = format!("thumbs/1-cat.{extension}");
        assert_eq!(
            outcomes,
            [Outcome::Written {
                key: key.clone(),
                thumbnail: thumb_key.clone(),
                width: 400,
                height: 300
            }]
        );
        let (image, content_type) = thumbnail(&world, &thumb_key).await;
        assert_eq!(content_type, format.to_mime_type());
        assert_eq!(image.dimensions(), (400, 300), "{extension}");
        assert!(
            is_red(*image.get_pixel(20, 20)),
            "{extension}: marker top-left"
        );
        assert!(!is_red(*image.get_pixel(380, 280)), "{extension}");
    }
}

#[tokio::test]
async fn an_animated_gif_gives_its_first_frame_and_a_1x1_image_keeps_its_size() {
    let world = World::start().await;
    world
        .put("images/anim.gif", animated_gif(600, 200), "image/gif")
        .await;
    world.notify("images/anim.gif").await;
    let (image, _) = thumbnail(&world, "thumbs/anim.gif").await;
    assert_eq!(image.dimensions(), (400, 133));
    assert!(is_red(*image.get_pixel(200, 66)), "the first frame is red");

    let dot = DynamicImage::ImageRgb8(RgbImage::from_pixel(1, 1, image::Rgb([230, 20, 20])));
    let png = crate::fixtures::encoded(&dot, ImageFormat::Png);
    world.put("images/dot.png", png, "image/png").await;
    let (outcomes, _) = world.notify("images/dot.png").await;
    assert!(matches!(
        &outcomes[..],
        [Outcome::Written {
            width: 1,
            height: 1,
            ..
        }]
    ));
    let (image, _) = thumbnail(&world, "thumbs/dot.png").await;
    assert_eq!(image.dimensions(), (1, 1));
}
