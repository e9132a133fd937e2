//! Writing the report files a run or `faultlab report` asks for.
//!
//! - [`check`] runs before anything else: every output's directory exists
//!   and can be written to, no two outputs share a file, at most one is
//!   `-` (standard output). A run never does its work only to find it has
//!   nowhere to put the result.
//! - [`write`] writes every output, even when one fails, and returns each
//!   failure. Regular files are written whole or not at all (a temporary
//!   file renamed into place; through a symlink, its target is replaced);
//!   special files (a FIFO, `/dev/stdout`, a device) are written in place,
//!   never replaced; `-` is standard output. The Markdown is appended, so a
//!   run can add to `$GITHUB_STEP_SUMMARY`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{RunReport, html, json, junit, markdown};

/// The report files asked for (`--json`, `--junit`, `--html`, `--markdown`).
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub json: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

/// The outputs asked for, by flag.
fn requested(outputs: &Outputs) -> Vec<(&'static str, &Path)> {
    let flags = [("--json", &outputs.json), ("--junit", &outputs.junit), ("--html", &outputs.html), ("--markdown", &outputs.markdown)];
    flags.into_iter().filter_map(|(flag, path)| Some((flag, path.as_deref()?))).collect()
}

fn is_stdout(path: &Path) -> bool {
    path == Path::new("-")
}

/// Whether any output goes to standard output (then the terminal summary
/// goes to standard error).
pub fn uses_stdout(outputs: &Outputs) -> bool {
    requested(outputs).iter().any(|(_, path)| is_stdout(path))
}

/// Every output can be written: the first problem, naming the flag, the
/// path and what is accepted.
pub fn check(outputs: &Outputs) -> anyhow::Result<()> {
    let requested = requested(outputs);
    for (i, (flag, path)) in requested.iter().enumerate() {
        if let Some((other, _)) = requested[..i].iter().find(|(_, p)| same_file(p, path)) {
            anyhow::bail!(
                "{flag} {}: {other} writes there too; accepted: a different file for each report{}",
                path.display(),
                if is_stdout(path) { " (at most one may be `-`, standard output)" } else { "" }
            );
        }
        if !is_stdout(path) {
            writable(path).with_context(|| format!("{flag} {}", path.display()))?;
        }
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// `path` can be written as [`write`] will: in place for a special file,
/// by a new file in its directory otherwise (which is created and removed
/// here, the only check that holds for root and read-only file systems alike).
fn writable(path: &Path) -> anyhow::Result<()> {
    let target = resolved(path);
    match std::fs::metadata(&target) {
        Ok(meta) if meta.is_dir() => anyhow::bail!("is a directory; accepted: a file path"),
        // Checked with access(2), not by opening it: opening and closing a
        // FIFO would hand its reader an end of file.
        Ok(meta) if !meta.is_file() => return access_writable(&target),
        _ => {}
    }
    let dir = directory(&target);
    if !dir.is_dir() {
        anyhow::bail!("the directory {} does not exist; accepted: a file in an existing directory", dir.display());
    }
    tempfile::Builder::new()
        .prefix(".faultlab-check")
        .tempfile_in(dir)
        .map(drop)
        .with_context(|| format!("cannot create a file in {}", dir.display()))
}

#[cfg(unix)]
fn access_writable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).context("the path has a NUL byte")?;
    // SAFETY: access(2) reads a NUL-terminated path and nothing else.
    match unsafe { libc::access(c_path.as_ptr(), libc::W_OK) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()).context("cannot be written to"),
    }
}

#[cfg(not(unix))]
fn access_writable(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// Through symlinks: replacing a link would leave its target stale.
fn resolved(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Write every requested file; each failure names its flag and path.
pub fn write(report: &RunReport, outputs: &Outputs) -> Vec<anyhow::Error> {
    let mut failures = Vec::new();
    for (flag, path) in requested(outputs) {
        let written = match flag {
            "--json" => serde_json::to_vec_pretty(report).context("serialising the report").map(|json| (json, false)),
            "--junit" => junit::render(report).map(|xml| (xml.into_bytes(), false)),
            "--html" => Ok((html::render(report).into_bytes(), false)),
            _ => Ok((format!("\n{}", markdown::render(report)).into_bytes(), true)),
        }
        .and_then(|(contents, append)| put(path, &contents, append));
        if let Err(e) = written {
            failures.push(e.context(format!("{flag} {}", path.display())));
        }
    }
    failures
}

/// Put `contents` at `path`: appended, replaced whole, or written in place
/// (standard output, special files).
fn put(path: &Path, contents: &[u8], append: bool) -> anyhow::Result<()> {
    if is_stdout(path) {
        let mut stdout = std::io::stdout().lock();
        return stdout.write_all(contents).and_then(|()| stdout.flush()).context("writing to standard output");
    }
    let target = resolved(path);
    let special = std::fs::metadata(&target).is_ok_and(|m| !m.is_file());
    if append || special {
        // One write of the whole rendering: an error leaves a regular file as it was.
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(append)
            .write(true)
            .open(&target)
            .with_context(|| format!("opening {}", target.display()))?;
        return file.write_all(contents).with_context(|| format!("writing {}", target.display()));
    }
    json::write_atomically(&target, contents)
}
