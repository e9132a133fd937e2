//! The JSON report: every count, the seed, the backend and every producer's
//! effective settings, for programs and for re-rendering later.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::{RunReport, SCHEMA_VERSION};

/// Read a saved run. A report of another schema version is refused with
/// both versions named, rather than with whichever field moved first.
pub fn read(path: &Path) -> anyhow::Result<RunReport> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let not_a_report = || format!("{} is not a faultlab JSON report", path.display());
    let value: serde_json::Value = serde_json::from_slice(&text).with_context(not_a_report)?;
    match value.get("schema_version").and_then(serde_json::Value::as_u64) {
        Some(version) if version == u64::from(SCHEMA_VERSION) => {}
        Some(version) => anyhow::bail!(
            "{} has report schema version {version}; this faultlab ({}) reads version {SCHEMA_VERSION} only \
             (re-run the scenarios to get a report of this version)",
            path.display(),
            env!("CARGO_PKG_VERSION")
        ),
        None => anyhow::bail!("{}: no schema_version field", not_a_report()),
    }
    serde_json::from_value(value).with_context(not_a_report)
}

/// Write to a temporary file beside `path`, then rename it into place.
pub fn write_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    // tempfile creates 0600 files; a report is for sharing, so it gets the
    // mode an ordinary file would (0644, before the umask's say).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut file = builder.tempfile_in(dir).with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents).with_context(|| format!("writing {}", path.display()))?;
    file.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(all(test, unix))]
mod permission_tests {
    use std::os::unix::fs::PermissionsExt;

    /// Reports are for sharing (CI artefacts, a course's web page): they
    /// must not come out private as tempfile's 0600 would make them.
    #[test]
    fn a_report_is_as_readable_as_an_ordinary_file() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("report.json");
        super::write_atomically(&report, b"{}").unwrap();
        let ordinary = dir.path().join("ordinary");
        std::fs::write(&ordinary, b"").unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&report), mode(&ordinary) & 0o644);
    }
}
