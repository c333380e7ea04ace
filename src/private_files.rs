//! Everything the service writes to disk is for its own user only: folders 0700, files
//! 0600, whatever the umask it was started with. The modes are set when a file or folder is
//! made and tightened when one already exists with looser ones.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Makes `dir` and its missing parents (the new ones 0700), and makes `dir` itself 0700: for
/// the service's own folders (the data folder, the outbox).
pub fn dir(dir: &Path) -> io::Result<()> {
    create_dirs(dir)?;
    tighten(dir, DIR_MODE)
}

/// Makes the missing folders of `dir`, 0700, and leaves existing ones as they are: for a
/// folder the operator chose (where a database file goes may be shared, like `/var/lib`).
pub fn create_dirs(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// Creates `path` (0600) or fails if it exists.
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Makes sure `path` exists and is 0600, without touching its content: a database file is
/// created private before SQLite first opens it, and SQLite gives its `-wal` and `-shm` files the
/// database file's mode.
///
/// An existing file is tightened by path and never opened: closing any descriptor of a SQLite
/// database releases every POSIX lock this process holds on it, SQLite's own included, and
/// another process could then take itself for the only user and delete the write-ahead log.
pub fn ensure_file(path: &Path) -> io::Result<()> {
    match create_new(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => tighten(path, FILE_MODE),
        Err(e) => Err(e),
    }
}

/// Tightens a folder and everything under it: folders 0700, files 0600 (for a data folder
/// that an earlier version, or a careless `chmod`, left open). Links are not followed.
pub fn tighten_tree(dir: &Path) -> io::Result<()> {
    tighten(dir, DIR_MODE)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            tighten_tree(&entry.path())?;
        } else if kind.is_file() {
            tighten(&entry.path(), FILE_MODE)?;
        }
    }
    Ok(())
}

/// Takes away any permission beyond `mode` from an existing file or folder.
pub fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current & !mode != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(current & mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_private_and_loose_ones_are_tightened() {
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("a/b");
        dir(&nested).unwrap();
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);

        let file = nested.join("db");
        std::fs::write(&file, b"kept").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        ensure_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"kept");

        std::fs::set_permissions(&nested, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir(&nested).unwrap();
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(
            mode(
                &create_new(&nested.join("new"))
                    .map(|_| nested.join("new"))
                    .unwrap()
            ),
            0o600
        );

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        std::fs::set_permissions(&nested, std::fs::Permissions::from_mode(0o777)).unwrap();
        tighten_tree(root.path()).unwrap();
        assert_eq!((mode(&file), mode(&nested)), (0o600, 0o700));
    }
}
