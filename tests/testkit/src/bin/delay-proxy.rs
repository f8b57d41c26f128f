//! `delay-proxy UPSTREAM DELAY_MS [SPANS_FILE]`: the test proxy in front of UPSTREAM
//! (moto_server), holding every call DELAY_MS before answering it, for scripts/bench-deploy's
//! latency mode. Prints its own endpoint on the first line of stdout and runs until killed.
//! With SPANS_FILE, appends one line per answered call, "START END CALL" (seconds since the
//! Unix epoch; what the call was), within 20 ms of its answer: the bench finds a command's
//! calls in a row there.

use std::io::Write;
use std::time::{Duration, SystemTime};

use catup_testkit::proxy::{FaultProxy, Policy};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(upstream), Some(delay)) = (args.next(), args.next()) else {
        eprintln!("usage: delay-proxy UPSTREAM DELAY_MS [SPANS_FILE]");
        std::process::exit(2);
    };
    let delay: u64 = delay.parse().unwrap_or_else(|_| {
        eprintln!("DELAY_MS must be a whole number of milliseconds, not '{delay}'");
        std::process::exit(2);
    });
    let spans_file = args.next();
    let proxy =
        FaultProxy::start_delayed(&upstream, Policy::Pass, Duration::from_millis(delay)).await;
    println!("{}", proxy.endpoint());
    std::io::stdout().flush().expect("write the endpoint");
    let Some(path) = spans_file else {
        return std::future::pending::<()>().await;
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("open {path}: {e}"));
    let seconds = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64()
    };
    let mut written = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let spans = proxy.spans();
        for span in &spans[written..] {
            let (start, end) = (seconds(span.start), seconds(span.end));
            writeln!(file, "{start:.6} {end:.6} {}", span.call).expect("write a span");
        }
        written = spans.len();
    }
}
