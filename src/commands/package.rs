//! `catup package --out FILE`: the function built from source exactly as deploy builds it
//! (cargo-zigbuild, the `lambda` profile, paths remapped), checked and zipped the same way,
//! written to FILE. scripts/package embeds that zip in a release catup. No AWS call.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use sha2::{Digest, Sha256};

use super::{preflight, SOURCE_TREE};
use crate::cli::{PackageArgs, StackFunction};
use crate::output::progress;
use crate::package;
use crate::package::build::FunctionCrate;

pub async fn run(args: &PackageArgs) -> anyhow::Result<ExitCode> {
    let tree = args.source.as_deref().unwrap_or(Path::new(SOURCE_TREE));
    let function = match args.function {
        StackFunction::Api => FunctionCrate::Upload,
        StackFunction::Thumbs => FunctionCrate::Thumbs,
    };
    let built = super::inputs::build(package::prepare_build_of(tree, function)?).await?;
    let checked = package::check_file(&built)?;
    preflight::check_unzipped_size(checked.bytes.len() as u64)?;
    let zipped = tokio::task::spawn_blocking(move || package::package_checked(checked));
    let zipped = zipped.await.context("packaging task")??;
    // Written aside and renamed, so a reader never takes half a zip for the function.
    let partial = args.out.with_extension("zip.part");
    std::fs::write(&partial, &zipped.zip)
        .and_then(|()| std::fs::rename(&partial, &args.out))
        .with_context(|| format!("write {}", args.out.display()))?;
    progress(format!(
        "wrote {} ({} bytes; Lambda's CodeSha256 {})",
        args.out.display(),
        zipped.zipped_bytes,
        zipped.code_sha256
    ));
    // sha256sum's format, for scripts.
    let sha256 = hex::encode(Sha256::digest(&zipped.zip));
    println!("{sha256}  {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
