//! The JSON report: every count, the seed, the backend and every producer's
//! effective settings, for programs and for re-rendering later.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::RunReport;

/// Write the report to `path` atomically: a reader never sees half a file,
/// and a failed write leaves any previous file intact.
pub fn write(report: &RunReport, path: &Path) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(report).context("serialising the report")?;
    write_atomically(path, &json)
}

pub fn read(path: &Path) -> anyhow::Result<RunReport> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("{} is not a faultlab JSON report", path.display()))
}

/// Write to a temporary file beside `path`, then rename it into place.
pub fn write_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents).with_context(|| format!("writing {}", path.display()))?;
    file.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
