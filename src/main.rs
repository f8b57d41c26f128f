use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use catup::cli::{Cli, Command};
use catup::commands::{deploy, dev, logs, package, plan, status, teardown, verify};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the async runtime");
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Deploy(args) => deploy::run(&cli.global, args).await,
            Command::Plan(args) => plan::run(&cli.global, args).await,
            Command::Status(args) => status::run(&cli.global, args).await,
            Command::Teardown(args) => teardown::run(&cli.global, args).await,
            Command::Dev(args) => dev::run(&cli.global, args).await,
            Command::Verify(args) => verify::run(&cli.global, args).await,
            Command::Logs(args) => logs::run(&cli.global, args).await,
            Command::Package(args) => package::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            // One line: the context chain joined by ": ".
            eprintln!("error: {error:#}");
            if cli.global.json {
                // A script reading stdout gets an object either way.
                println!("{}", serde_json::json!({ "error": format!("{error:#}") }));
            }
            ExitCode::FAILURE
        }
    }
}

/// Warnings only by default; -v shows catup's steps and the SDK's retries, -vv everything.
/// aws-config's own warnings (IMDS probes, a bad setting, a missing config file) stay under -v: catup reports what
/// they mean in its one error line.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn,aws_config=off,aws_runtime=off",
        1 => "info,catup=debug,aws_smithy_runtime::client::retries=debug,aws_smithy_runtime::client::orchestrator=debug",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(verbose > 0)
        .init();
}
