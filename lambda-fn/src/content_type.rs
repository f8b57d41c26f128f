//! The image types uploads may have, and the file extension each one gets.

/// (MIME type, extension), in the order error messages list them.
const ALLOWED: [(&str, &str); 4] = [
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/gif", "gif"),
    ("image/webp", "webp"),
];

/// An allowed image type, in its canonical lower-case spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageType {
    mime: &'static str,
    extension: &'static str,
}

impl ImageType {
    /// Accepts an allowed type in any letter case (MIME types are case-insensitive) and
    /// returns its canonical spelling, which is what gets signed. Parameters such as
    /// `; charset=...` are refused: images have none, and the signed header must be exact.
    pub fn parse(raw: &str) -> Option<ImageType> {
        ALLOWED
            .iter()
            .find(|(mime, _)| mime.eq_ignore_ascii_case(raw))
            .map(|&(mime, extension)| ImageType { mime, extension })
    }

    pub fn mime(self) -> &'static str {
        self.mime
    }

    pub fn extension(self) -> &'static str {
        self.extension
    }

    /// "image/jpeg, image/png, image/gif, image/webp", for error messages.
    pub fn allowed_list() -> String {
        ALLOWED.map(|(mime, _)| mime).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_allowed_type_maps_to_its_extension() {
        let cases = [
            ("image/jpeg", "jpg"),
            ("image/png", "png"),
            ("image/gif", "gif"),
            ("image/webp", "webp"),
        ];
        for (mime, ext) in cases {
            let t = ImageType::parse(mime).unwrap();
            assert_eq!((t.mime(), t.extension()), (mime, ext));
        }
    }

    #[test]
    fn odd_casing_is_canonicalised() {
        assert_eq!(ImageType::parse("IMAGE/PNG").unwrap().mime(), "image/png");
        assert_eq!(ImageType::parse("Image/Jpeg").unwrap().mime(), "image/jpeg");
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "text/plain",
            "image/svg+xml",
            "image/png; charset=utf-8",
            " image/png",
            "image/jpg",
            "image/*",
        ] {
            assert_eq!(ImageType::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn allowed_list_names_every_type() {
        assert_eq!(
            ImageType::allowed_list(),
            "image/jpeg, image/png, image/gif, image/webp"
        );
    }
}
