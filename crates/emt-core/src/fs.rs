//! Writing outputs safely: refuse what must not be replaced, write atomically.
//!
//! Every emt output (a model, a figure, a summary) goes through [`write_atomic`]: the bytes go to
//! a temporary file beside the target, which is then renamed over it, so a reader (or a killed
//! run) never sees a half-written file. Only regular files are replaced: a device, FIFO, socket
//! or directory is refused, and a symlink is written through to its target. [`ensure_writable`]
//! checks a path before long work starts, so a typo fails in a second, not after an hour.
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("emt-fs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let out = dir.join("summary.json");
//! emt_core::fs::ensure_writable(&out, &[])?;
//! emt_core::fs::write_atomic(&out, b"{}\n")?;
//! assert_eq!(std::fs::read(&out)?, b"{}\n");
//! // A directory is never replaced.
//! assert!(emt_core::fs::write_atomic(&dir, b"x").is_err());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Errors now, before any work, if `path` cannot be written: its directory is missing or
/// read-only, it is a directory, a device, a FIFO or a socket, a dangling symlink, or it is
/// the same file as one of `inputs` (writing would destroy what is being read). Leaves no file
/// behind.
pub fn ensure_writable(path: &Path, inputs: &[&Path]) -> Result<()> {
    let target = output_target(path)?;
    for input in inputs {
        if same_file(&target, input) {
            return Err(Error::param(
                "output path",
                path.display(),
                format!("is the input {} itself: writing it would destroy what is read", input.display()),
            ));
        }
    }
    let probe = temp_sibling(&target);
    std::fs::write(&probe, b"").map_err(|e| Error::file(path, e))?;
    std::fs::remove_file(&probe).map_err(|e| Error::file(&probe, e))
}

/// Where writing `path` really goes: `path` itself, or for a symlink the file it points to (so
/// the link survives and its target is replaced). Only regular files are ever replaced: emt
/// turned `/dev/full` into a regular file when run as root, and would have replaced a FIFO a
/// pipeline was reading.
pub fn output_target(path: &Path) -> Result<PathBuf> {
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(e) => return Err(Error::file(path, e)),
        Ok(m) => m,
    };
    if meta.file_type().is_symlink() {
        let target = std::fs::canonicalize(path).map_err(|e| {
            Error::param("output path", path.display(), format!("is a symlink whose target cannot be resolved ({e})"))
        })?;
        return regular(path, &target, std::fs::metadata(&target).map_err(|e| Error::file(&target, e))?);
    }
    regular(path, path, meta)
}

fn regular(path: &Path, target: &Path, meta: std::fs::Metadata) -> Result<PathBuf> {
    let what = if meta.is_file() {
        return Ok(target.to_path_buf());
    } else if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file (a device, FIFO or socket); emt replaces only regular files"
    };
    let shown = if path == target {
        format!("{}", path.display())
    } else {
        format!("{} -> {}", path.display(), target.display())
    };
    Err(Error::param("output path", shown, format!("is {what}")))
}

/// Whether `a` and `b` name one existing file (through links, `..` or hard links).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(x), Ok(y)) => {
            use std::os::unix::fs::MetadataExt;
            x.dev() == y.dev() && x.ino() == y.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok(),
        _ => false,
    }
}

fn temp_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().map_or("out".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Temporary files being written now, so a process that must end abruptly (a CLI deadline) can
/// remove them first: [`remove_in_flight`].
static IN_FLIGHT: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Removes the temporary files of writes still in progress (for a caller about to end the
/// process: none of them is left behind half-written). Returns how many it removed.
pub fn remove_in_flight() -> usize {
    let temps = std::mem::take(&mut *IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner()));
    let n = temps.len();
    for t in temps {
        let _ = std::fs::remove_file(t);
    }
    n
}

/// Writes `bytes` to a temporary file beside the target and renames it over the target, so a
/// reader (or a killed run) never sees a half-written file. The target is `path`, or the file
/// a symlink at `path` points to; anything but a regular file is refused
/// ([`output_target`]). A failed write removes its temporary file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let target = output_target(path)?;
    let tmp = temp_sibling(&target);
    IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner()).push(tmp.clone());
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &target));
    IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner()).retain(|t| t != &tmp);
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::file(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("emt-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_write_replaces_a_regular_file_and_leaves_no_temporary() {
        let dir = scratch("replace");
        let out = dir.join("a.txt");
        std::fs::write(&out, b"old").unwrap();
        write_atomic(&out, b"new").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn directories_missing_parents_and_the_input_itself_are_refused_by_name() {
        let dir = scratch("refuse");
        let e = ensure_writable(&dir, &[]).unwrap_err().to_string();
        assert!(e.contains("a directory"), "{e}");
        let missing = dir.join("no/such/dir/x.png");
        assert!(ensure_writable(&missing, &[]).unwrap_err().to_string().contains("no/such/dir"));
        let input = dir.join("model.safetensors");
        std::fs::write(&input, b"m").unwrap();
        let e = ensure_writable(&input, &[&input]).unwrap_err().to_string();
        assert!(e.contains("is the input"), "{e}");
        assert_eq!(std::fs::read(&input).unwrap(), b"m");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_written_through_and_survives() {
        let dir = scratch("link");
        let target = dir.join("target.json");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let dangling = dir.join("dangling");
        std::os::unix::fs::symlink(dir.join("gone"), &dangling).unwrap();
        assert!(write_atomic(&dangling, b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_never_replaced() {
        let e = output_target(Path::new("/dev/null")).unwrap_err().to_string();
        assert!(e.contains("/dev/null") && e.contains("not a regular file"), "{e}");
    }
}
