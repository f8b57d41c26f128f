//! The frontend folder, read as the files of a public website: only regular files inside the
//! folder, each checked before any AWS call. Whatever goes wrong here would otherwise be
//! published to the world (a link to /etc/passwd, an `id_rsa`) or hang catup (a FIFO).
//!
//! Each file is read once (see `open`), and the bytes that were checked are the bytes
//! uploaded: a file changed on disk after the check (rewritten with a key, swapped for a link)
//! is never what gets published.

mod open;

use std::fs::FileType;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::resources::site_files::{cache_control, SiteFile, CONFIG_JS};

use open::Root;

/// S3's longest key, in bytes of UTF-8.
const MAX_KEY_BYTES: usize = 1024;

/// The site's files, and the hidden ones that were left out (listed, never silently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontend {
    pub files: Vec<SiteFile>,
    /// Keys of hidden files and folders (`.env`, `.git/`), which are never published.
    pub skipped_hidden: Vec<String>,
    /// Files that look like secrets, and why (refused unless the user allows them).
    pub secret_looking: Vec<(String, &'static str)>,
}

/// The flag that publishes files which look like secrets anyway.
pub const ALLOW_SECRETS_FLAG: &str = "--allow-secret-looking-files";

/// Every regular file under `dir` (keys relative to it, with '/'), except its placeholder
/// config.js, which is always replaced by the generated one. Refused, naming the file: a link
/// that leads out of the folder (or to anything but a regular file), a FIFO, socket or device,
/// a name that is not UTF-8 or holds a control character, a key over S3's 1,024 bytes, and
/// (unless `allow_secret_looking`) a file that looks like a secret.
pub fn load(dir: &Path, allow_secret_looking: bool) -> anyhow::Result<Frontend> {
    load_within(dir, allow_secret_looking, open::MAX_SITE_BYTES)
}

/// [`load`], the files together holding at most `limit` bytes.
fn load_within(dir: &Path, allow_secret_looking: bool, limit: u64) -> anyhow::Result<Frontend> {
    if dir.is_file() {
        bail!(
            "--frontend {} is a file: pass the folder that holds index.html",
            dir.display()
        );
    }
    if !dir.is_dir() {
        bail!(
            "frontend folder {} not found: pass --frontend DIR (the folder with index.html)",
            dir.display()
        );
    }
    let root = Root::of(dir)?;
    let mut walk = Walk {
        left: limit,
        root: &root,
        frontend: Frontend {
            files: Vec::new(),
            skipped_hidden: Vec::new(),
            secret_looking: Vec::new(),
        },
    };
    walk.folder(&root.path, "")?;
    let mut frontend = walk.frontend;
    frontend.files.sort_by(|a, b| a.key.cmp(&b.key));
    frontend.skipped_hidden.sort();
    if !frontend.files.iter().any(|f| f.key == "index.html") {
        bail!(
            "frontend folder {} has no index.html: pass --frontend DIR (the folder with index.html)",
            dir.display()
        );
    }
    if !allow_secret_looking {
        refuse_secret_looking(&frontend.secret_looking)?;
    }
    Ok(frontend)
}

struct Walk<'a> {
    root: &'a Root,
    frontend: Frontend,
    /// The bytes the site may still hold.
    left: u64,
}

impl Walk<'_> {
    /// `prefix`: the key of `dir` with a trailing '/' ("" for the root).
    fn folder(&mut self, dir: &Path, prefix: &str) -> anyhow::Result<()> {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("read frontend folder {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("read frontend folder {}", dir.display()))?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                bail!(
                    "frontend file {} has a name that is not valid UTF-8: rename it (S3 keys are UTF-8, and a lossy conversion could give two files one key)",
                    path.display()
                );
            };
            let key = format!("{prefix}{name}");
            // The entry's own type: a link is seen as a link, never as what it points at.
            let file_type = entry
                .file_type()
                .with_context(|| format!("read {}", path.display()))?;
            if name.starts_with('.') {
                let shown = if file_type.is_dir() {
                    format!("{key}/")
                } else {
                    key
                };
                self.frontend.skipped_hidden.push(shown);
            } else if file_type.is_dir() {
                self.folder(&path, &format!("{key}/"))?;
            } else if file_type.is_file() {
                self.file(Path::new(&key), &path, key.clone())?;
            } else if file_type.is_symlink() {
                let target = self.link_target(&path)?;
                let inside = target.strip_prefix(&self.root.path)?.to_owned();
                self.file(&inside, &path, key)?;
            } else {
                bail!(
                    "frontend file {} is {}, not a regular file: remove it from the folder (only regular files are published)",
                    path.display(),
                    special_kind(&file_type)
                );
            }
        }
        Ok(())
    }

    /// `inside`: the file's path in the root; `shown`: the path the folder listed (a link's).
    fn file(&mut self, inside: &Path, shown: &Path, key: String) -> anyhow::Result<()> {
        if key == CONFIG_JS {
            return Ok(());
        }
        check_key(&key)?;
        // Read once, checked, and kept until uploaded: what is uploaded is exactly what was
        // checked here. Held in memory rather than re-read at upload (a changed file could
        // only be caught by S3 refusing a checksum) because a website's files are small and
        // bytes in memory keep the SDK's retries of an upload working.
        let body = self.root.read(inside, shown)?;
        self.left = self.left.checked_sub(body.len() as u64).with_context(|| {
            format!(
                "frontend folder {} holds over {} MB of files (at {}): catup holds a site in memory until it is uploaded; keep large media out of the site folder",
                self.root.path.display(),
                open::MAX_SITE_BYTES / (1024 * 1024),
                shown.display()
            )
        })?;
        if let Some(why) = secret_looking(&key, &body) {
            self.frontend.secret_looking.push((key.clone(), why));
        }
        let cache_control = cache_control(&key);
        self.frontend
            .files
            .push(SiteFile::new(key, body, cache_control));
        Ok(())
    }

    /// A link is followed only to a regular file inside the folder.
    fn link_target(&self, link: &Path) -> anyhow::Result<PathBuf> {
        let target = link.canonicalize().with_context(|| {
            format!(
                "frontend file {} is a link that leads nowhere: remove it",
                link.display()
            )
        })?;
        if !target.starts_with(&self.root.path) {
            bail!(
                "frontend file {} is a link to {}, outside the frontend folder: catup never publishes files from outside --frontend; copy the file into the folder instead",
                link.display(),
                target.display()
            );
        }
        let metadata =
            std::fs::metadata(&target).with_context(|| format!("read {}", target.display()))?;
        if !metadata.is_file() {
            bail!(
                "frontend file {} is a link to {}, which is not a regular file: only links to files inside the folder are followed",
                link.display(),
                target.display()
            );
        }
        Ok(target)
    }
}

#[cfg(unix)]
fn special_kind(file_type: &FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &FileType) -> &'static str {
    "a special file"
}

/// S3 keys that would break what reads them are refused before any AWS call: a control
/// character (raw in a listing's XML, it makes the answer unreadable) and more than S3's
/// 1,024 bytes (PutObject would fail half-way through the upload).
fn check_key(key: &str) -> anyhow::Result<()> {
    if let Some(c) = key.chars().find(|c| c.is_control()) {
        bail!(
            "frontend file {key:?} has a control character (U+{:04X}) in its name: rename it (S3 keys with control characters break listings of the bucket)",
            c as u32
        );
    }
    if key.len() > MAX_KEY_BYTES {
        bail!(
            "frontend file {key} would be an S3 key of {} bytes, over S3's {MAX_KEY_BYTES}: shorten its name or its folders' names",
            key.len()
        );
    }
    Ok(())
}

/// Why a file looks like a secret, if it does: a private key's usual name or extension, an
/// environment file, or a PEM private key block in its content.
pub fn secret_looking(key: &str, body: &[u8]) -> Option<&'static str> {
    let name = key.rsplit('/').next().unwrap_or(key).to_ascii_lowercase();
    let ssh_keys = [
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "id_ecdsa_sk",
        "id_ed25519_sk",
    ];
    let extension = name.rsplit_once('.').map(|(_, e)| e);
    if ssh_keys.contains(&name.as_str()) {
        Some("an SSH private key's name")
    } else if matches!(
        extension,
        Some("pem" | "key" | "p12" | "pfx" | "jks" | "keystore")
    ) {
        Some("a private key or key store extension")
    } else if name == "env" || extension == Some("env") || name.starts_with("env.") {
        Some("an environment (.env) file")
    } else if contains(body, b"PRIVATE KEY-----") {
        Some("it holds a PRIVATE KEY block")
    } else {
        None
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn refuse_secret_looking(suspects: &[(String, &'static str)]) -> anyhow::Result<()> {
    if let Some((key, why)) = suspects.first() {
        let others = match suspects.len() - 1 {
            0 => String::new(),
            n => format!(
                " (and {n} more: {})",
                join(suspects[1..].iter().map(|s| s.0.as_str()))
            ),
        };
        bail!(
            "frontend file {key} looks like a secret ({why}){others}: the site bucket is public, so remove it from the folder, or pass {ALLOW_SECRETS_FLAG} if it is meant to be published"
        );
    }
    Ok(())
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// The progress line for what was left out, if anything was.
pub fn skipped_line(frontend: &Frontend) -> Option<String> {
    (!frontend.skipped_hidden.is_empty()).then(|| {
        format!(
            "not published (hidden): {}",
            join(frontend.skipped_hidden.iter().map(String::as_str))
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("catup-frontend-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("img")).unwrap();
        std::fs::write(dir.join("index.html"), "<html>").unwrap();
        dir
    }

    fn keys(frontend: &Frontend) -> Vec<&str> {
        frontend.files.iter().map(|f| f.key.as_str()).collect()
    }

    #[test]
    fn a_site_over_the_total_limit_is_refused_naming_the_file_past_it() {
        let dir = folder("total");
        std::fs::write(dir.join("img/cat.png"), [7; 10]).unwrap();
        let err = load_within(&dir, false, 12).unwrap_err().to_string();
        assert!(err.contains("holds over 500 MB of files"), "{err}");
        let fits = load_within(&dir, false, 16).unwrap();
        assert_eq!(keys(&fits), vec!["img/cat.png", "index.html"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn regular_files_without_the_placeholder_config_and_hidden_ones_listed() {
        let dir = folder("plain");
        std::fs::write(dir.join("config.js"), "placeholder").unwrap();
        std::fs::write(dir.join("img/cat.png"), [1, 2, 3]).unwrap();
        std::fs::write(dir.join(".DS_Store"), "x").unwrap();
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        let frontend = load(&dir, false).unwrap();
        assert_eq!(keys(&frontend), vec!["img/cat.png", "index.html"]);
        assert_eq!(frontend.skipped_hidden, vec![".DS_Store", ".git/"]);
        assert_eq!(
            skipped_line(&frontend).unwrap(),
            "not published (hidden): .DS_Store, .git/"
        );

        std::fs::remove_file(dir.join("index.html")).unwrap();
        let err = load(&dir, false).unwrap_err().to_string();
        assert!(err.contains("no index.html"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        let err = load(&dir, false).unwrap_err().to_string();
        assert!(err.contains("not found"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_only_to_regular_files_inside() {
        use std::os::unix::fs::symlink;
        let dir = folder("links");
        std::fs::write(dir.join("img/cat.png"), [1]).unwrap();
        symlink(dir.join("img/cat.png"), dir.join("same-cat.png")).unwrap();
        let frontend = load(&dir, false).unwrap();
        assert_eq!(
            keys(&frontend),
            vec!["img/cat.png", "index.html", "same-cat.png"]
        );

        for (target, needle) in [
            (PathBuf::from("/etc/passwd"), "outside the frontend folder"),
            (PathBuf::from("/dev/zero"), "outside the frontend folder"),
            (dir.join("img"), "not a regular file"),
            (dir.join("nothing-here"), "leads nowhere"),
        ] {
            let link = dir.join("link");
            let _ = std::fs::remove_file(&link);
            symlink(&target, &link).unwrap();
            let err = load(&dir, false).unwrap_err().to_string();
            assert!(
                err.contains(needle) && err.contains("link"),
                "{target:?}: {err}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn what_was_checked_is_what_is_uploaded_whatever_the_file_becomes() {
        let dir = folder("changes");
        let outside = folder("changes-outside");
        std::fs::write(outside.join("secret.txt"), "outside the folder").unwrap();
        std::fs::write(dir.join("notes.txt"), "notes").unwrap();
        let frontend = load(&dir, false).unwrap();

        std::fs::write(
            dir.join("notes.txt"),
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
        )
        .unwrap();
        std::fs::remove_file(dir.join("index.html")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), dir.join("index.html")).unwrap();

        let body = |key: &str| {
            let file = frontend.files.iter().find(|f| f.key == key).unwrap();
            (file.body.to_vec(), file.md5_hex.clone())
        };
        let md5 = |bytes: &[u8]| hex::encode(<md5::Md5 as md5::Digest>::digest(bytes));
        assert_eq!(body("notes.txt"), (b"notes".to_vec(), md5(b"notes")));
        assert_eq!(body("index.html"), (b"<html>".to_vec(), md5(b"<html>")));
        for d in [dir, outside] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }

    #[test]
    fn names_s3_cannot_list_or_hold_are_refused_naming_the_file() {
        let dir = folder("names");
        std::fs::write(dir.join("img/odd\u{1}.png"), [1]).unwrap();
        let err = load(&dir, false).unwrap_err().to_string();
        assert!(
            err.contains(r#""img/odd\u{1}.png""#) && err.contains("control character (U+0001)"),
            "{err}"
        );
        std::fs::remove_file(dir.join("img/odd\u{1}.png")).unwrap();

        // Five folders of 200 bytes and a 100-byte name: a 1,105-byte key, a valid path.
        let deep = (0..5).fold(dir.join("img"), |path, i| {
            path.join(format!("{i}").repeat(200))
        });
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("x".repeat(100)), [1]).unwrap();
        let err = load(&dir, false).unwrap_err().to_string();
        assert!(
            err.contains("over S3's 1024") && err.contains("xxxx"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secret_looking_names_and_contents() {
        for (key, body) in [
            ("id_rsa", &b"x"[..]),
            ("keys/id_ED25519", b"x"),
            ("server.pem", b"x"),
            ("tls.key", b"x"),
            ("prod.env", b"x"),
            ("notes.txt", b"-----BEGIN OPENSSH PRIVATE KEY-----\n"),
        ] {
            assert!(secret_looking(key, body).is_some(), "{key}");
        }
        for key in ["id_rsa.pub", "index.html", "keyboard.js", "environment.css"] {
            assert_eq!(
                secret_looking(key, b"-----BEGIN PUBLIC KEY-----"),
                None,
                "{key}"
            );
        }
    }
}
