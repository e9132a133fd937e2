//! Errors in scenario files, written for the person who edits the file.
//!
//! Every error names the file, the line and column, the field path
//! (`faults[1].at`, 0-based indices) and what would have been accepted.
//! Serde and the TOML parser give a byte span and a message in Rust terms
//! ("expected u64"); this module turns the span into a line, a column and a
//! field path (by finding the key or value at that span in the parsed
//! document) and the message into the file's terms ("expected an integer").

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One error in one scenario file.
///
/// Displayed as `scenarios/x.toml:12:5: field `workload.mesages`: unknown
/// field, did you mean `messages`? accepted: messages, rate, ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioError {
    pub file: PathBuf,
    /// 1-based; `None` for errors about the file as a whole (cannot read it).
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    /// Dotted path of the field, e.g. `faults[1].at`.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    /// An error about a file or directory as a whole.
    pub(crate) fn file(file: &Path, message: impl Into<String>) -> Self {
        ScenarioError { file: file.to_path_buf(), line: None, column: None, field: None, message: message.into() }
    }

    /// An error at a byte span of `text`.
    pub(crate) fn at(file: &Path, text: &str, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) -> Self {
        let (line, column) = line_column(text, span.start);
        let field: String = field.into();
        ScenarioError {
            file: file.to_path_buf(),
            line: Some(line),
            column: Some(column),
            field: (!field.is_empty()).then_some(field),
            message: message.into(),
        }
    }

    /// Translate an error from the TOML parser or from deserialisation.
    /// `root` is the parsed document (absent for syntax errors) and is used
    /// to find the field path at the error's span.
    pub(crate) fn from_toml(
        file: &Path,
        text: &str,
        root: Option<&Spanned<DeTable<'_>>>,
        err: &toml::de::Error,
        fallback_span: Range<usize>,
    ) -> Self {
        let span = err.span().unwrap_or(fallback_span);
        let mut path = root.map(|r| path_at(r, span.clone())).unwrap_or_default();
        if path.is_empty() && err.message() == "duplicate key" {
            // The second occurrence is not in the document tree; its text is
            // the key as written.
            path = text.get(span.clone()).unwrap_or_default().trim().to_string();
        }
        let (field, message) = rewrite(&path, err.message());
        ScenarioError::at(file, text, span, field, message)
    }
}

/// 1-based line and column (in characters) of a byte offset. Offsets past
/// the end or inside a character are clamped, never a panic.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The path of the key or value at `span`: the smallest key or value span
/// in the document containing the error's start (deepest on a tie, so an
/// `[[faults]]` header names `faults[0]` rather than `faults`). Table
/// headers have short spans that do not cover their body, which is why the
/// whole tree is searched rather than descended by containment.
fn path_at(root: &Spanned<DeTable<'_>>, span: Range<usize>) -> String {
    // Only the document itself has an empty span (errors such as a missing
    // top-level field point at it).
    if span.is_empty() {
        return String::new();
    }
    let mut best: Option<(usize, usize, String)> = None; // (width, depth, path)
    visit_table(root.get_ref(), "", 0, span.start, &mut best);
    best.map(|(_, _, path)| path).unwrap_or_default()
}

fn consider(s: Range<usize>, at: usize, depth: usize, path: &str, best: &mut Option<(usize, usize, String)>) {
    if s.start <= at && at < s.end {
        let width = s.end - s.start;
        let better = match best {
            None => true,
            Some((w, d, _)) => width < *w || (width == *w && depth > *d),
        };
        if better {
            *best = Some((width, depth, path.to_string()));
        }
    }
}

fn visit_table(table: &DeTable<'_>, prefix: &str, depth: usize, at: usize, best: &mut Option<(usize, usize, String)>) {
    for (key, value) in table.iter() {
        let path = join_key(prefix, key.get_ref());
        consider(key.span(), at, depth + 1, &path, best);
        visit_value(value, &path, depth + 1, at, best);
    }
}

fn visit_value(value: &Spanned<DeValue<'_>>, path: &str, depth: usize, at: usize, best: &mut Option<(usize, usize, String)>) {
    consider(value.span(), at, depth, path, best);
    match value.get_ref() {
        DeValue::Table(t) => visit_table(t, path, depth, at, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                visit_value(item, &format!("{path}[{i}]"), depth + 1, at, best);
            }
        }
        _ => {}
    }
}

/// `a.b`, quoting keys that are not bare TOML keys (`client."linger.ms"`).
pub(crate) fn join_key(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare { key.to_string() } else { format!("{key:?}") };
    if prefix.is_empty() { key } else { format!("{prefix}.{key}") }
}

/// Strip array indices: `faults[2].at` -> `faults[].at`.
fn normalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// What a required field accepts, for "missing field" errors.
fn required_hint(path: &str) -> Option<String> {
    Some(match normalise(path).as_str() {
        "name" => "a string of lowercase letters, digits and `-`, e.g. name = \"response-delay\"".into(),
        "description" => "a string: one paragraph saying what the scenario shows".into(),
        "workload" => "a [workload] table with at least `messages = N`".into(),
        "workload.messages" => "an integer >= 1 (messages per producer)".into(),
        "producers" => "at least one [[producers]] table with `name` and `preset`".into(),
        "producers[].name" => "a string of [a-z0-9-_]".into(),
        "producers[].preset" => "\"plain\", \"idempotent\" or \"none\"".into(),
        "faults[].type" => format!("one of {}", super::FaultKind::type_names().collect::<Vec<_>>().join(", ")),
        "faults[].at" => "a duration after producing starts, e.g. at = \"2s\"".into(),
        "expect[].producer" => "the name of a [[producers]] entry".into(),
        _ => return None,
    })
}

/// The values of the fields that are enums, for wrong-type errors.
fn enum_values(path: &str) -> Option<&'static str> {
    Some(match normalise(path).as_str() {
        "faults[].stream" => "\"upstream\" or \"downstream\"",
        "producers[].preset" => "\"plain\", \"idempotent\" or \"none\"",
        "expect[].level" => "\"required\" or \"demonstration\"",
        _ => return None,
    })
}

/// Turn serde's wording into the file's. Returns the field path and the
/// message. Unrecognised messages are kept as they are.
fn rewrite(path: &str, message: &str) -> (String, String) {
    let message = message.trim_end();
    let quoted = backticked(message);
    if message.starts_with("unknown field `") {
        let (unknown, accepted) = quoted.split_first().map_or(("", &[][..]), |(u, a)| (u.as_str(), a));
        let accepted: Vec<&str> = accepted.iter().map(String::as_str).collect();
        // The error's span is the unknown key, so `path` already ends in it.
        let ends_with_key = path == unknown || path.ends_with(&format!(".{unknown}"));
        let field = if ends_with_key { path.to_string() } else { join_key(path, unknown) };
        return (field, unknown_message("unknown field", unknown, &accepted));
    }
    if message.starts_with("unknown variant `") {
        let (unknown, accepted) = quoted.split_first().map_or(("", &[][..]), |(u, a)| (u.as_str(), a));
        let accepted: Vec<&str> = accepted.iter().map(String::as_str).collect();
        return (path.to_string(), unknown_message(&format!("unknown value `{unknown}`"), unknown, &accepted));
    }
    if let (true, Some(missing)) = (message.starts_with("missing field `"), quoted.first()) {
        let field = join_key(path, missing);
        let message = match required_hint(&field) {
            Some(hint) => format!("required field is missing; expected {hint}"),
            None => "required field is missing".to_string(),
        };
        return (field, message);
    }
    // toml's wording when an enum (stream, preset, level) gets a non-string.
    if message == "wanted string or table" {
        let accepted = enum_values(path).map(|v| format!(": {v}")).unwrap_or_default();
        return (path.to_string(), format!("wrong type: expected a string{accepted}"));
    }
    if message == "duplicate key" {
        return (path.to_string(), "duplicate key: a key may appear only once in a table".to_string());
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((found, expected)) = rest.split_once(", expected ")
        {
            let found = found.replacen("floating point", "float", 1).replace("map", "table").replace("sequence", "array");
            return (path.to_string(), format!("wrong type: expected {}, found {found}", plain_type(expected)));
        }
    }
    (path.to_string(), message.to_string())
}

/// "unknown field, did you mean `messages`? accepted: messages, rate".
fn unknown_message(what: &str, unknown: &str, accepted: &[&str]) -> String {
    let list = if accepted.is_empty() { "this table accepts no fields".to_string() } else { format!("accepted: {}", accepted.join(", ")) };
    match closest(unknown, accepted.iter().copied()) {
        Some(near) => format!("{what}, did you mean `{near}`? {list}"),
        None => format!("{what}; {list}"),
    }
}

/// Serde names Rust types ("u64", "struct Latency"); say the TOML type.
fn plain_type(expected: &str) -> String {
    let e = expected.trim();
    match e {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer".into(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer".into(),
        "f32" | "f64" => "a number".into(),
        "a map" => "a table".into(),
        "a sequence" => "an array".into(),
        _ if e.starts_with("struct ") || e.starts_with("adjacently tagged enum ") => "a table".into(),
        _ if e.starts_with("enum ") => "a string".into(),
        _ => e.to_string(),
    }
}

/// Every `quoted` word of a message, in order.
fn backticked(message: &str) -> Vec<String> {
    message.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

// The typo hints live below every layer (`crate::hint`): the environment's
// Kafka names (`env::fault::kafka`) give them too.
pub(crate) use crate::hint::{closest, did_you_mean};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one_and_never_panics() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 4), (2, 2));
        assert_eq!(line_column(text, 6), (2, 3)); // inside `é`: clamped back
        assert_eq!(line_column(text, 999), (3, 2));
        assert_eq!(line_column("", 5), (1, 1));
    }

    #[test]
    fn display_names_file_line_column_and_field() {
        let e = ScenarioError::at(Path::new("s/x.toml"), "a\nbcdef", 6..7, "workload.mesages", "unknown field");
        assert_eq!(e.to_string(), "s/x.toml:2:5: field `workload.mesages`: unknown field");
        let e = ScenarioError::file(Path::new("s/y.toml"), "cannot read");
        assert_eq!(e.to_string(), "s/y.toml: cannot read");
    }
}
