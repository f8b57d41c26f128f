//! The function build benchmark (`scripts/bench-build`): lambda-fn built the way
//! `catup deploy` builds it, through the zig path and through the native fallback, each
//! cold (a fresh target folder; crates already downloaded) and warm (again, nothing
//! changed), with the binary's and the zip's size. Prints a Markdown table.

use std::path::Path;
use std::time::{Duration, Instant};

use catup::package::build::{minutes, Build};
use catup::package::toolchain::{self, BuildPath, Host, Missing};
use catup::package::{package_file, Package};

fn main() {
    let tree = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tree.join("target/bench-build");
    let found = toolchain::probe(tree);
    let host = Host::current();
    let zig_ready = matches!(toolchain::choose(&host, &found), Ok(BuildPath::Zig));
    let paths = [
        ("zig (cargo zigbuild)", BuildPath::Zig, zig_ready),
        (
            "native (cargo build)",
            BuildPath::Native {
                missing: Missing::Zig,
            },
            host.builds_lambda_natively(),
        ),
    ];
    let mut rows = Vec::new();
    for (name, path, possible) in paths {
        if !possible {
            rows.push(format!("| {name} | n/a on this machine | | | | |"));
            continue;
        }
        let dir = scratch.join(name.split(' ').next().unwrap());
        let _ = std::fs::remove_dir_all(&dir);
        let build = Build::new(tree, path).in_target_dir(dir.clone());
        let (cold, built) = timed(&build);
        let (warm, _) = timed(&build);
        let package: Package = package_file(&built).expect("the built bootstrap passes the checks");
        let glibc = package
            .max_glibc
            .map(|(major, minor)| format!("{major}.{minor}"))
            .unwrap_or_default();
        rows.push(format!(
            "| {name} | {} | {} | {:.2} MB | {:.2} MB | {glibc} |",
            minutes(cold),
            minutes(warm),
            mb(package.binary_bytes),
            mb(package.zip.len() as u64),
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("\n| build path | cold | warm (nothing changed) | bootstrap | zip | needs glibc |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for row in rows {
        println!("{row}");
    }
}

fn timed(build: &Build) -> (Duration, std::path::PathBuf) {
    let started = Instant::now();
    let built = build
        .run(&|line| eprintln!("  ... {line}"))
        .expect("the build succeeds");
    (started.elapsed(), built)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}
