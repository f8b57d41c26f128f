//! `scripts/bench-thumbs`' Rust side: the thumbnail of one image file, timed, with the
//! process's peak memory. One process per image, so that the peak is that image's.
//!
//!     cargo bench -p thumbs-fn --bench thumbs --profile lambda -- FILE [RUNS]
//!
//! Prints one JSON line: the median and the fastest of RUNS (after one warm-up run), the
//! thumbnail's size, and VmHWM (peak resident memory) from /proc/self/status.

use std::time::{Duration, Instant};

use thumbs_fn::thumbnail::Kind;
use thumbs_fn::{make_thumbnail, Config};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let file = args.next().expect("usage: thumbs FILE [RUNS]");
    let runs: usize = args.next().map_or(5, |r| r.parse().expect("RUNS"));
    let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("read {file}: {e}"));
    let kind = Kind::of_key(&file).expect("a .jpg, .png, .gif or .webp file");
    let config = Config {
        max_decoded_bytes: 1 << 30,
        ..Config::default()
    };
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut made = None;
    for run in 0..=runs {
        let started = Instant::now();
        let thumb = make_thumbnail(&bytes, kind, &config).expect("a thumbnail");
        if run > 0 {
            times.push(started.elapsed());
        }
        made = Some(thumb);
    }
    let thumb = made.expect("at least one run");
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{{\"tool\":\"thumbs-fn\",\"file\":{file:?},\"median_ms\":{:.1},\"min_ms\":{:.1},\"width\":{},\"height\":{},\"bytes\":{},\"peak_rss_mb\":{:.1}}}",
        ms(times[times.len() / 2]),
        ms(times[0]),
        thumb.width,
        thumb.height,
        thumb.bytes.len(),
        peak_rss_kb() as f64 / 1024.0
    );
}

/// VmHWM, the most resident memory the process has had, in kB (Linux).
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
