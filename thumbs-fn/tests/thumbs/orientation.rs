//! EXIF orientations 1-8: the thumbnail stands as the camera meant, marker and all.

use crate::fixtures::{is_red, jpeg_with_orientation};
use crate::formats::thumbnail;
use crate::world::World;

/// Where the stored top-left marker shows once orientation `n` is applied, and the shape.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Corner {
    TopLeft,
    TopRight,
    BottomRight,
    BottomLeft,
}

#[tokio::test]
async fn orientations_1_to_8_are_applied() {
    let world = World::start().await;
    // Stored 500 x 300: 1-4 stay landscape (400 x 240), 5-8 turn portrait (240 x 400).
    let cases = [
        (1, (400, 240), Corner::TopLeft),
        (2, (400, 240), Corner::TopRight),
        (3, (400, 240), Corner::BottomRight),
        (4, (400, 240), Corner::BottomLeft),
        (5, (240, 400), Corner::TopLeft),
        (6, (240, 400), Corner::TopRight),
        (7, (240, 400), Corner::BottomRight),
        (8, (240, 400), Corner::BottomLeft),
    ];
    for (orientation, size, marker) in cases {
        let key = format!("images/phone-{orientation}.jpg");
        let jpeg = jpeg_with_orientation(500, 300, orientation);
        world.put(&key, jpeg, "image/jpeg").await;
        world.notify(&key).await;
        let thumb_key = format!("thumbs/phone-{orientation}.jpg");
        let (image, _) = thumbnail(&world, &thumb_key).await;
        assert_eq!(image.dimensions(), size, "orientation {orientation}");
        let (w, h) = size;
        let corners = [
            (Corner::TopLeft, (10, 10)),
            (Corner::TopRight, (w - 11, 10)),
            (Corner::BottomRight, (w - 11, h - 11)),
            (Corner::BottomLeft, (10, h - 11)),
        ];
        for (corner, (x, y)) in corners {
            let red = is_red(*image.get_pixel(x, y));
            assert_eq!(
                red,
                corner == marker,
                "orientation {orientation}, {corner:?}"
            );
        }
    }
}
