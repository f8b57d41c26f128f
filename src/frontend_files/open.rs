//! Reading a frontend file so that what is read is a regular file inside the folder at the
//! moment it is read, not at the moment it was listed: an editor or a sync tool may swap a
//! file for a link, or a folder for a link to elsewhere, while catup runs. The file is opened
//! once without following a link (O_NOFOLLOW; O_NONBLOCK, so a FIFO put there meanwhile
//! cannot hang catup); the open handle must be the very file seen just before (same device
//! and inode); once it is open, every folder from the root down to it must still be a real
//! folder, the root the one that was checked. Its bytes are then read from that handle.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The largest site file catup publishes: far above any page, script or picture of a static
/// site, far below what holding it in memory would hurt (a site is read whole before upload).
pub const MAX_SITE_FILE_BYTES: u64 = 100 * 1024 * 1024;

/// The most a whole site may hold: every file is in memory until uploaded.
pub const MAX_SITE_BYTES: u64 = 500 * 1024 * 1024;

/// A file or folder's identity on disk: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity(u64, u64);

impl Identity {
    #[cfg(unix)]
    fn of(metadata: &Metadata) -> Identity {
        use std::os::unix::fs::MetadataExt;
        Identity(metadata.dev(), metadata.ino())
    }

    #[cfg(not(unix))]
    fn of(_: &Metadata) -> Identity {
        Identity(0, 0)
    }
}

/// The frontend folder, resolved once; every file is read relative to it.
#[derive(Debug)]
pub struct Root {
    pub path: PathBuf,
    identity: Identity,
}

impl Root {
    pub fn of(dir: &Path) -> anyhow::Result<Root> {
        let read = || format!("read frontend folder {}", dir.display());
        let path = dir.canonicalize().with_context(read)?;
        let identity = Identity::of(&std::fs::symlink_metadata(&path).with_context(read)?);
        Ok(Root { path, identity })
    }

    /// The bytes of the regular file at `relative` (a path inside the root made of real
    /// folders), read from one handle. `shown` names the file in errors.
    pub fn read(&self, relative: &Path, shown: &Path) -> anyhow::Result<Vec<u8>> {
        let path = self.path.join(relative);
        let changed = |why: &str| {
            anyhow::anyhow!(
                "frontend file {} changed while catup read it ({why}): run the command again once the folder is no longer being changed",
                shown.display()
            )
        };
        let listed = std::fs::symlink_metadata(&path)
            .with_context(|| format!("read {}", shown.display()))?;
        if !listed.file_type().is_file() {
            return Err(changed("it is no longer a regular file"));
        }
        let mut file = open_no_follow(&path).map_err(|e| match is_a_link(&e) {
            true => changed("it became a link"),
            false => anyhow::Error::new(e).context(format!("read {}", shown.display())),
        })?;
        let opened = file
            .metadata()
            .with_context(|| format!("read {}", shown.display()))?;
        if !opened.is_file() || Identity::of(&opened) != Identity::of(&listed) {
            return Err(changed("another file took its place"));
        }
        if let Some(folder) = self.folder_no_longer_real(relative) {
            return Err(changed(&format!(
                "{} is no longer a folder inside the frontend folder",
                folder.display()
            )));
        }
        if opened.len() > MAX_SITE_FILE_BYTES {
            anyhow::bail!(
                "frontend file {} is {} MB: catup publishes site files of at most {} MB (each is held in memory so that what was checked is what is uploaded; S3 itself takes at most 5 GB in one upload): keep large media out of the site folder",
                shown.display(),
                opened.len() / (1024 * 1024),
                MAX_SITE_FILE_BYTES / (1024 * 1024)
            );
        }
        let mut bytes = Vec::with_capacity(opened.len() as usize);
        // Never past the limit, even for a file that grows while it is read.
        (&mut file)
            .take(MAX_SITE_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("read {}", shown.display()))?;
        if bytes.len() as u64 > MAX_SITE_FILE_BYTES {
            return Err(changed("it grew past the size limit"));
        }
        Ok(bytes)
    }

    /// The first folder between the root (included) and the file that is now a link, or no
    /// folder at all, or (the root) another folder than the one checked.
    fn folder_no_longer_real(&self, relative: &Path) -> Option<PathBuf> {
        let is_real_folder =
            |path: &Path| std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_dir());
        let root_same = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.file_type().is_dir() && Identity::of(&m) == self.identity);
        if !root_same {
            return Some(self.path.clone());
        }
        let mut folder = self.path.clone();
        let parents = relative.parent().into_iter().flat_map(Path::components);
        for component in parents {
            folder.push(component);
            if !is_real_folder(&folder) {
                return Some(folder);
            }
        }
        None
    }
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

/// O_NOFOLLOW's answer when the last component is a link.
#[cfg_attr(not(unix), allow(unused_variables))]
fn is_a_link(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    return e.raw_os_error() == Some(libc::ELOOP);
    #[cfg(not(unix))]
    return false;
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn folder(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("catup-open-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.txt"), "inside").unwrap();
        dir
    }

    #[test]
    fn a_regular_file_inside_is_read() {
        let dir = folder("plain");
        let root = Root::of(&dir).unwrap();
        let bytes = root.read(Path::new("sub/a.txt"), Path::new("a")).unwrap();
        assert_eq!(bytes, b"inside");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_or_folder_swapped_for_a_link_is_never_followed() {
        let dir = folder("swapped");
        let outside = folder("swapped-outside");
        std::fs::write(outside.join("sub/a.txt"), "outside").unwrap();
        let root = Root::of(&dir).unwrap();

        std::fs::remove_file(dir.join("sub/a.txt")).unwrap();
        symlink(outside.join("sub/a.txt"), dir.join("sub/a.txt")).unwrap();
        let err = root.read(Path::new("sub/a.txt"), Path::new("sub/a.txt"));
        let err = err.unwrap_err().to_string();
        assert!(
            err.contains("sub/a.txt changed while catup read it"),
            "{err}"
        );

        std::fs::remove_dir_all(dir.join("sub")).unwrap();
        symlink(outside.join("sub"), dir.join("sub")).unwrap();
        let err = root.read(Path::new("sub/a.txt"), Path::new("sub/a.txt"));
        let err = err.unwrap_err().to_string();
        assert!(err.contains("is no longer a folder inside"), "{err}");

        for d in [dir, outside] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }

    #[test]
    fn a_fifo_put_in_place_of_a_file_is_refused_without_hanging() {
        let dir = folder("fifo");
        let root = Root::of(&dir).unwrap();
        std::fs::remove_file(dir.join("sub/a.txt")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.join("sub/a.txt"))
            .status();
        if made.is_ok_and(|s| s.success()) {
            let err = root.read(Path::new("sub/a.txt"), Path::new("sub/a.txt"));
            assert!(err
                .unwrap_err()
                .to_string()
                .contains("no longer a regular file"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
