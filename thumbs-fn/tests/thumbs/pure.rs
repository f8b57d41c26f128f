//! `make_thumbnail` on bytes, no S3: what each kind of bad file gets, and how fast.

use std::time::{Duration, Instant};

use image::ImageFormat;
use thumbs_fn::thumbnail::Kind;
use thumbs_fn::{make_thumbnail, Config, Refusal};

use crate::fixtures::{marked_as, png_declaring};

#[test]
fn a_bomb_is_refused_from_its_header_before_anything_is_allocated() {
    let bomb = png_declaring(100_000, 100_000);
    let started = Instant::now();
    let refusal = make_thumbnail(&bomb, Kind::Png, &Config::default()).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(refusal, Refusal::TooLarge(_)), "{refusal:?}");
    assert!(refusal.to_string().contains("100000 x 100000"), "{refusal}");
    // 40 GB could not be allocated at all, let alone filled, in this time.
    assert!(took < Duration::from_millis(200), "took {took:?}");
}

#[test]
fn the_budget_is_the_configured_one() {
    let png = marked_as(100, 100, ImageFormat::Png);
    let tight = Config {
        max_decoded_bytes: 100 * 100 * 3 - 1,
        ..Config::default()
    };
    let refusal = make_thumbnail(&png, Kind::Png, &tight).unwrap_err();
    assert!(matches!(refusal, Refusal::TooLarge(_)), "{refusal:?}");
    let exact = Config {
        max_decoded_bytes: 100 * 100 * 3,
        ..Config::default()
    };
    assert!(make_thumbnail(&png, Kind::Png, &exact).is_ok());
}

#[test]
fn every_format_cut_short_is_undecodable() {
    let formats = [
        (ImageFormat::Jpeg, Kind::Jpeg),
        (ImageFormat::Png, Kind::Png),
        (ImageFormat::Gif, Kind::Gif),
        (ImageFormat::WebP, Kind::WebP),
    ];
    for (format, kind) in formats {
        let whole = marked_as(120, 80, format);
        let n = whole.len();
        for length in [n / 3, n / 2, n * 2 / 3, n * 9 / 10, n - 20] {
            let cut = &whole[..length];
            let made = make_thumbnail(cut, kind, &Config::default()).map(|t| (t.width, t.height));
            assert!(
                matches!(made, Err(Refusal::Undecodable(_))),
                "{format:?} cut to {length} of {n}: {made:?}"
            );
        }
    }
}

#[test]
fn content_of_another_type_than_the_name_is_refused() {
    let jpeg = marked_as(20, 20, ImageFormat::Jpeg);
    let refusal = make_thumbnail(&jpeg, Kind::Png, &Config::default()).unwrap_err();
    assert_eq!(
        refusal,
        Refusal::NotTheClaimedImage {
            claimed: "image/png",
            found: "image/jpeg"
        }
    );
    let text = b"hello, I am not a picture\n";
    let refusal = make_thumbnail(text, Kind::Png, &Config::default()).unwrap_err();
    assert!(
        refusal.to_string().contains("not the image/png"),
        "{refusal}"
    );
}

#[test]
fn a_large_jpeg_is_decoded_scaled_down_and_still_stands_upright() {
    // 1,700 x 1,000 decodes at 1/2 (850 x 500, at least twice 400 x 235), then shrinks.
    let jpeg = crate::fixtures::jpeg_with_orientation(1700, 1000, 6);
    let thumb = make_thumbnail(&jpeg, Kind::Jpeg, &Config::default()).unwrap();
    assert_eq!((thumb.width, thumb.height), (235, 400));
    let image = image::load_from_memory(&thumb.bytes).unwrap().to_rgb8();
    assert!(
        crate::fixtures::is_red(*image.get_pixel(224, 10)),
        "top-right"
    );
    assert!(!crate::fixtures::is_red(*image.get_pixel(10, 10)));
}

#[test]
fn a_grey_jpeg_stays_grey_and_a_two_component_one_is_refused() {
    let grey = image::GrayImage::from_fn(900, 300, |x, _| image::Luma([(x % 256) as u8]));
    let grey = crate::fixtures::encoded(&grey.into(), ImageFormat::Jpeg);
    let thumb = make_thumbnail(&grey, Kind::Jpeg, &Config::default()).unwrap();
    assert_eq!((thumb.width, thumb.height), (400, 133));
    let decoded = image::load_from_memory(&thumb.bytes).unwrap().to_rgb8();
    let greyish = |p: &image::Rgb<u8>| p.0.iter().max().unwrap() - p.0.iter().min().unwrap() < 8;
    assert!(decoded.pixels().all(greyish));

    // The frame header declares a second component: no JPEG colour model has two.
    let at = grey
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("SOF0");
    let mut two = grey.clone();
    two[at + 3] += 3; // segment length
    two[at + 9] = 2; // component count
    two.splice(at + 13..at + 13, [2, 0x11, 0]);
    let made = make_thumbnail(&two, Kind::Jpeg, &Config::default());
    assert!(
        matches!(made, Err(Refusal::Undecodable(_))),
        "{:?}",
        made.map(|t| t.width)
    );
}
