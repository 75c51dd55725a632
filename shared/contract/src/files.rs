//! Writing files whole or not at all, the one way the project does it (the downloaded images,
//! the reports): the bytes go to a file with no name yet (`O_TMPFILE`), which is linked in
//! under its name once complete; if the writer dies half-way, the kernel frees the unnamed
//! file and nothing is left. Where the file system has no `O_TMPFILE`, a hidden `.part` name
//! in the same folder stands in, and is removed on failure.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` whole, or leaves no new file: a reader sees the old file or
/// the complete new one, never a part.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?
        .to_string_lossy();
    let mut pending = PendingFile::create(folder, &name)?;
    pending.file().write_all(contents)?;
    pending.file().sync_all()?;
    pending.publish(path)
}

/// A file being written that has no final name yet.
pub enum PendingFile {
    /// `O_TMPFILE`: no name at all until [`PendingFile::publish`] links it in.
    Unnamed(File),
    /// The fallback: a `.part` name in the same folder, removed if never published.
    Named(File, PathBuf),
}

impl PendingFile {
    /// A file to be named `file_name` in `folder` once complete.
    pub fn create(folder: &Path, file_name: &str) -> io::Result<Self> {
        let unnamed = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::fcntl::OFlag::O_TMPFILE.bits())
            .mode(0o644)
            .open(folder);
        match unnamed {
            Ok(file) => Ok(PendingFile::Unnamed(file)),
            // The file system (or kernel) has no O_TMPFILE: a hidden temporary name.
            Err(_) => {
                let part = folder.join(format!(".{file_name}.{}.part", std::process::id()));
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&part)?;
                Ok(PendingFile::Named(file, part))
            }
        }
    }

    /// The file, to write to.
    pub fn file(&mut self) -> &mut File {
        match self {
            PendingFile::Unnamed(file) | PendingFile::Named(file, _) => file,
        }
    }

    /// Gives the complete file its name, replacing any older file of that name.
    pub fn publish(&self, target: &Path) -> io::Result<()> {
        match self {
            PendingFile::Unnamed(file) => {
                let fd_path = format!("/proc/self/fd/{}", file.as_raw_fd());
                let link = || {
                    nix::unistd::linkat(
                        nix::fcntl::AT_FDCWD,
                        fd_path.as_str(),
                        nix::fcntl::AT_FDCWD,
                        target,
                        nix::fcntl::AtFlags::AT_SYMLINK_FOLLOW,
                    )
                };
                match link() {
                    Err(nix::errno::Errno::EEXIST) => {
                        // An older file of that name (a re-run into the same folder).
                        std::fs::remove_file(target)?;
                        link().map_err(io::Error::from)
                    }
                    other => other.map_err(io::Error::from),
                }
            }
            // `Drop` removes the `.part` name if the rename failed.
            PendingFile::Named(_, part) => std::fs::rename(part, target),
        }
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let PendingFile::Named(_, part) = self {
            // A published file was renamed away: this only removes an abandoned one.
            let _ = std::fs::remove_file(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_replaced_whole_and_no_temporary_is_left() {
        let folder = tempfile::tempdir().unwrap();
        let dir = folder.path();
        let path = dir.join("report.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["report.json"]);
        assert!(write_atomically(&dir.join("missing/x.json"), b"x").is_err());
    }

    #[test]
    fn an_abandoned_named_file_is_removed() {
        let folder = tempfile::tempdir().unwrap();
        let part = folder.path().join(".a.png.1.part");
        let file = std::fs::File::create(&part).unwrap();
        let mut pending = PendingFile::Named(file, part.clone());
        pending.file().write_all(b"half").unwrap();
        drop(pending);
        assert!(std::fs::read_dir(folder.path()).unwrap().next().is_none());

        let part = folder.path().join(".b.png.1.part");
        let pending = PendingFile::Named(std::fs::File::create(&part).unwrap(), part);
        pending.publish(&folder.path().join("b.png")).unwrap();
        drop(pending);
        let names: Vec<_> = std::fs::read_dir(folder.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["b.png"]);
    }

    /// Set in the copy of this test binary that [`the_file_is_made_in_its_own_folder`]
    /// runs: the file to write.
    const WRITE_TO: &str = "FILES_TEST_WRITE_TO";

    #[test]
    fn the_file_is_made_in_its_own_folder() {
        if let Some(path) = std::env::var_os(WRITE_TO) {
            write_atomically(Path::new(&path), b"whole").unwrap();
            return;
        }
        // This test again, in a copy of this binary whose current folder is /proc, where no
        // file can be made: the file must be made in the folder it is written to.
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("report.json");
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "files::tests::the_file_is_made_in_its_own_folder",
            ])
            .arg("--quiet")
            .env(WRITE_TO, &path)
            .current_dir("/proc")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{status}");
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
    }
}
