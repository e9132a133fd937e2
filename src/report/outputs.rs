//! Writing the report files a run or `faultlab report` asks for.

use std::io::Write;

use anyhow::Context;

use super::{RunReport, html, json, junit, markdown};
use crate::cli::Outputs;

/// Write every requested file. Each is written whole or not at all; the
/// Markdown is appended, so a run can add to `$GITHUB_STEP_SUMMARY`.
pub fn write(report: &RunReport, outputs: &Outputs) -> anyhow::Result<()> {
    if let Some(path) = &outputs.json {
        json::write(report, path)?;
    }
    if let Some(path) = &outputs.junit {
        json::write_atomically(path, junit::render(report)?.as_bytes())?;
    }
    if let Some(path) = &outputs.html {
        json::write_atomically(path, html::render(report).as_bytes())?;
    }
    if let Some(path) = &outputs.markdown {
        // Rendered first, then appended in one write: an error leaves the file as it was.
        let text = format!("\n{}", markdown::render(report));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.write_all(text.as_bytes()).with_context(|| format!("appending to {}", path.display()))?;
    }
    Ok(())
}
