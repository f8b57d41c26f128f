//! Whether a JPEG is whole. The decoder fills a cut-short JPEG with grey and calls it done;
//! a thumbnail half grey is worse than none, so the file's structure is checked first.

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;

/// True when the markers walk from SOI to the first scan (SOS) and an EOI follows it.
/// Markers before the scan carry their length, so an EXIF thumbnail inside APP1 (with its own
/// SOS and EOI) is stepped over; inside scans a 0xFF data byte is always stuffed (FF 00), so
/// FF D9 there is the real end. Bytes after EOI (camera trailers) are allowed.
pub fn is_whole(bytes: &[u8]) -> bool {
    if bytes.get(..2) != Some(&[0xFF, SOI]) {
        return false;
    }
    let mut at = 2;
    loop {
        // Markers may be preceded by fill bytes (0xFF).
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        if marker == EOI {
            return false; // an end before any image data
        }
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            at += 2; // TEM and RSTn stand alone
            continue;
        }
        let Some(&[high, low]) = bytes.get(at + 2..at + 4) else {
            return false;
        };
        let after = at + 2 + usize::from(u16::from_be_bytes([high, low]));
        if marker == SOS {
            let scans = bytes.get(after..).unwrap_or_default();
            return scans.windows(2).any(|pair| pair == [0xFF, EOI]);
        }
        at = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, an APP1 holding a whole small JPEG (as EXIF thumbnails do), SOS, data, EOI.
    fn jpeg(scan: &[u8], end: bool) -> Vec<u8> {
        let mut bytes = vec![0xFF, SOI, 0xFF, 0xE1, 0x00, 0x08];
        bytes.extend_from_slice(&[0xFF, SOI, 0xFF, SOS, 0xFF, EOI]);
        bytes.extend_from_slice(&[0xFF, 0xFF, SOS, 0x00, 0x03, 0x01]);
        bytes.extend_from_slice(scan);
        if end {
            bytes.extend_from_slice(&[0xFF, EOI]);
        }
        bytes
    }

    #[test]
    fn whole_files_pass_and_cut_ones_do_not() {
        assert!(is_whole(&jpeg(&[0x12, 0xFF, 0x00, 0xFF, 0xD0, 0x34], true)));
        let whole = [jpeg(&[1, 2], true), b"trailer".to_vec()].concat();
        assert!(is_whole(&whole));
        // The EXIF thumbnail's EOI does not count: the main scan has none.
        assert!(!is_whole(&jpeg(&[0x12, 0xFF, 0x00], false)));
        for length in 0..jpeg(&[1, 2], true).len() - 1 {
            assert!(!is_whole(&jpeg(&[1, 2], true)[..length]), "cut to {length}");
        }
        assert!(!is_whole(b"\xFF\xD8\xFF\xD9"));
        assert!(!is_whole(b"GIF89a"));
    }
}
