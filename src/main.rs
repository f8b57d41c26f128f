use clap::Parser;

/// Deploy the Cat Upload stack (S3 website, private images bucket, Rust Lambda behind a
/// Function URL) to AWS in one command, and remove it with another.
#[derive(Debug, Parser)]
#[command(name = "catup", version)]
struct Cli {}

fn main() {
    Cli::parse();
    // The deploy, status and teardown commands arrive with the deployer.
    let _ = <Cli as clap::CommandFactory>::command().print_help();
}
