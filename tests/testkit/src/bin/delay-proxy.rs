//! `delay-proxy UPSTREAM DELAY_MS`: the test proxy in front of UPSTREAM (moto_server), holding
//! every call DELAY_MS before answering it, for scripts/bench-deploy's latency mode. Prints
//! its own endpoint on the first line of stdout and runs until killed.

use std::io::Write;
use std::time::Duration;

use catup_testkit::proxy::{FaultProxy, Policy};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(upstream), Some(delay)) = (args.next(), args.next()) else {
        eprintln!("usage: delay-proxy UPSTREAM DELAY_MS");
        std::process::exit(2);
    };
    let delay: u64 = delay.parse().unwrap_or_else(|_| {
        eprintln!("DELAY_MS must be a whole number of milliseconds, not '{delay}'");
        std::process::exit(2);
    });
    let proxy =
        FaultProxy::start_delayed(&upstream, Policy::Pass, Duration::from_millis(delay)).await;
    println!("{}", proxy.endpoint());
    std::io::stdout().flush().expect("write the endpoint");
    std::future::pending::<()>().await;
}
