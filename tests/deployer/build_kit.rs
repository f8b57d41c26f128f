//! Helpers for the tests where `catup deploy` builds the function itself: the toolchain's
//! environment, a PATH without zig, copies of the source tree, and the zip as shipped.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use object::read::elf::FileHeader as _;
use object::Endianness;

use crate::common::{catup_command, Run, World};

/// Where catup reports the binary it built ("  ... built PATH in 3m05s").
pub fn built_binary(run: &Run) -> PathBuf {
    let line = run
        .stderr
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("... built "))
        .unwrap_or_else(|| panic!("no 'built' line:\n{}", run.stderr));
    let (path, _) = line.rsplit_once(" in ").expect("'built PATH in TIME'");
    PathBuf::from(path)
}

/// `catup --stack STACK ARGS` against the world's moto, with what a build needs on top of
/// the isolated environment (toolchain folders, caches) and `extra` last.
///
/// At the lowest CPU priority: a build takes both cores for minutes, and tests that run beside
/// it measure time (a role created 2.5 s into a deploy, faults failing within 30 s).
pub fn catup_building(w: &World, extra: &[(&'static str, String)], args: &[&str]) -> Run {
    let mut env = w.env_via(&w.moto.endpoint());
    env.extend(toolchain_env());
    env.extend(extra.iter().cloned());
    let args = [&["--stack", w.stack.as_str()], args].concat();
    // The same program, arguments and (cleared) environment, under `nice -n 19`: every
    // thread and child (cargo, rustc, zig) inherits the priority.
    let isolated = catup_command(&w.dir, &env, &args);
    let mut command = Command::new("nice");
    command
        .args(["-n", "19"])
        .arg(isolated.get_program())
        .args(isolated.get_args())
        .env_clear()
        .envs(isolated.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdin(Stdio::null());
    let out = command.output().expect("run catup under nice");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The test runs give catup a HOME of its own; cargo, rustup and zig's caches are the
/// caller's, so that crates are not fetched and zig's libc stubs not rebuilt per test.
pub fn toolchain_env() -> Vec<(&'static str, String)> {
    let home = std::env::var("HOME").unwrap_or_default();
    let or_home = |name: &str, under_home: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| format!("{home}/{under_home}"))
    };
    let mut env = vec![
        ("CARGO_HOME", or_home("CARGO_HOME", ".cargo")),
        ("RUSTUP_HOME", or_home("RUSTUP_HOME", ".rustup")),
        ("XDG_CACHE_HOME", or_home("XDG_CACHE_HOME", ".cache")),
    ];
    for passed in ["RUSTUP_TOOLCHAIN", "CARGO_TARGET_DIR"] {
        if let Ok(value) = std::env::var(passed) {
            env.push((passed, value));
        }
    }
    env
}

/// The zip's only entry, which must be an executable `bootstrap`.
pub fn bootstrap_of(zip: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).expect("the shipped zip reads");
    assert_eq!(archive.len(), 1, "one entry in the zip");
    let mut entry = archive.by_index(0).unwrap();
    assert_eq!(entry.name_raw(), b"bootstrap");
    assert_eq!(
        entry.unix_mode(),
        Some(0o100_755),
        "a regular file, rwxr-xr-x"
    );
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    bytes
}

/// (is x86_64 64-bit little-endian ELF executable, newest GLIBC_x.y it needs), read with
/// `object` independently of catup's own check.
pub fn elf_facts(binary: &[u8]) -> (bool, Option<(u32, u32)>) {
    let header = object::elf::FileHeader64::<Endianness>::parse(binary).expect("a 64-bit ELF");
    let endian = header.endian().unwrap();
    let executable = [object::elf::ET_DYN, object::elf::ET_EXEC].contains(&header.e_type(endian));
    let is_x86_64 = header.e_machine(endian) == object::elf::EM_X86_64 && executable;
    let sections = header.sections(endian, binary).unwrap();
    let mut newest = None;
    if let Some((mut needs, link)) = sections.gnu_verneed(endian, binary).unwrap() {
        let strings = sections.strings(endian, binary, link).unwrap();
        while let Some((_, mut auxes)) = needs.next().unwrap() {
            while let Some(aux) = auxes.next().unwrap() {
                let name = String::from_utf8_lossy(aux.name(endian, strings).unwrap());
                let Some(version) = name.strip_prefix("GLIBC_") else {
                    continue;
                };
                let mut parts = version.split('.').map(|p| p.parse::<u32>());
                if let (Some(Ok(major)), Some(Ok(minor))) = (parts.next(), parts.next()) {
                    newest = newest.max(Some((major, minor)));
                }
            }
        }
    }
    (is_x86_64, newest)
}

/// Copies catup's source tree to `to`, leaving out build output, git and installed tools.
pub fn copy_of_the_source(to: &Path) -> PathBuf {
    copy_tree(Path::new(env!("CARGO_MANIFEST_DIR")), to);
    to.to_owned()
}

fn copy_tree(from: &Path, to: &Path) {
    const LEFT_OUT: [&str; 5] = ["target", ".git", ".venv", "node_modules", "__pycache__"];
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if LEFT_OUT.iter().any(|l| name == *l) {
            continue;
        }
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name));
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// A PATH with every folder holding zig (a `zig` binary, or PyPI ziglang's `python-zig`)
/// left out; with `keep_cargo_zigbuild`, cargo-zigbuild stays reachable through `bin`.
pub fn path_without_zig(bin: &Path, keep_cargo_zigbuild: bool) -> String {
    let original = std::env::var_os("PATH").unwrap_or_default();
    let has = |dir: &Path, name: &str| dir.join(name).is_file();
    let zigbuild = std::env::split_paths(&original)
        .map(|dir| dir.join("cargo-zigbuild"))
        .find(|p| p.is_file());
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&original)
        .filter(|dir| !has(dir, "zig") && !has(dir, "python-zig"))
        .collect();
    std::fs::create_dir_all(bin).unwrap();
    if keep_cargo_zigbuild {
        let zigbuild = zigbuild.expect("cargo-zigbuild on PATH: pip install cargo-zigbuild");
        std::os::unix::fs::symlink(zigbuild, bin.join("cargo-zigbuild")).unwrap();
    }
    dirs.insert(0, bin.to_owned());
    let path = std::env::join_paths(dirs).unwrap().into_string().unwrap();
    // The premise of the tests: no zig to be found, and cargo-zigbuild only when kept.
    let zig = Command::new("python3")
        .args(["-m", "ziglang", "version"])
        .env("PATH", &path)
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(!zig, "python3 -m ziglang still works with PATH={path}");
    let zigbuild_found = std::env::split_paths(&path).any(|d| d.join("cargo-zigbuild").exists());
    assert_eq!(
        zigbuild_found, keep_cargo_zigbuild,
        "cannot hide cargo-zigbuild with PATH={path}"
    );
    path
}
