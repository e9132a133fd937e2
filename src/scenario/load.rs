//! Reading scenario files: TOML syntax, then the types the run uses
//! (each value checked as it is read), then the checks that need more than
//! one value. Each step stops at its first error, which names the file,
//! line, column and field.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ScenarioError, did_you_mean};
use super::limits;
use super::settings;
use super::{BackendFault, Client, Driver, Fault, FaultKind, Preset, ProducerSpec, Scenario, Workload};
use crate::env::Backend;

/// Read and validate one scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "file not found".to_string(),
            std::io::ErrorKind::InvalidData => "not UTF-8 text; scenario files are TOML".to_string(),
            _ => format!("cannot read: {e}"),
        };
        ScenarioError::file(path, why)
    })?;
    parse(&text, path)
}

/// Parse and validate scenario text; `source` is used in errors and kept in
/// [`Scenario::source`].
pub fn parse(text: &str, source: &Path) -> Result<Scenario, ScenarioError> {
    // The recovering parser gives a partial document even when the syntax
    // is wrong, so a syntax error can still name its field.
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    if let Some(e) = syntax_errors.first() {
        return Err(ScenarioError::from_toml(source, text, Some(&root), e, 0..0));
    }
    let mut document = root.clone();
    type_first(&mut document);
    let mut scenario = Scenario::deserialize(toml::de::Deserializer::from(document))
        .map_err(|e| ScenarioError::from_toml(source, text, Some(&root), &e, 0..0))?;
    scenario.source = source.to_path_buf();
    Checker { text, source, root: &root }.scenario(&scenario)?;
    Ok(scenario)
}

/// Put `type` first in each `[[faults]]` table, so a fault's attributes
/// and a toxic's own keys are read knowing the type (`super::fault`). The
/// document keeps the file's order (toml's `preserve_order`), so this is
/// the one key that moves.
fn type_first(root: &mut Spanned<DeTable<'_>>) {
    let Some(DeValue::Array(faults)) = root.get_mut().get_mut("faults").map(Spanned::get_mut) else { return };
    for fault in faults.iter_mut() {
        if let DeValue::Table(table) = fault.get_mut() {
            let (typed, rest): (Vec<_>, Vec<_>) = std::mem::take(table).into_iter().partition(|(key, _)| key.get_ref() == "type");
            table.extend(typed.into_iter().chain(rest));
        }
    }
}

/// The files to run: files as given, directories replaced by their `*.toml`
/// files (not recursive) sorted by name.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ScenarioError::file(path, "no such file or directory"),
            _ => ScenarioError::file(path, format!("cannot read: {e}")),
        })?;
        if !meta.is_dir() {
            files.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path).map_err(|e| ScenarioError::file(path, format!("cannot list: {e}")))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "toml") && p.is_file())
            .collect();
        if found.is_empty() {
            return Err(ScenarioError::file(path, "directory has no .toml scenario files"));
        }
        found.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        files.extend(found);
    }
    Ok(files)
}

/// The checks after deserialisation, with what they need to point at spans.
struct Checker<'a, 'i> {
    text: &'a str,
    source: &'a Path,
    root: &'a Spanned<DeTable<'i>>,
}

impl<'i> Checker<'_, 'i> {
    fn err(&self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at(self.source, self.text, span, field, message)
    }

    fn scenario(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        let name = &scenario.name;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(self.err(
                self.span_of("name"),
                "name",
                format!("`{name}`: accepted: lowercase letters a-z, digits and `-` only, not empty (the name is used in topic names)"),
            ));
        }
        if scenario.description.trim().is_empty() {
            return Err(self.err(
                self.span_of("description"),
                "description",
                "must not be empty: say in one paragraph what the scenario shows",
            ));
        }
        self.producers(scenario)?;
        self.faults(scenario)?;
        self.expect(scenario)?;
        limits::check(scenario).and_then(|()| settings::check(scenario)).map_err(|e| self.err(self.span_of(&e.field), e.field, e.message))
    }

    /// At least one producer; names of the right form, unique; the http
    /// driver's rules.
    fn producers(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        let producers = &scenario.producers;
        if producers.is_empty() {
            return Err(self.err(
                self.span_of("producers"),
                "producers",
                "at least one producer is needed: add a [[producers]] table with `name` and `preset`",
            ));
        }
        let mut first_seen: HashMap<&str, usize> = HashMap::new();
        for (i, p) in producers.iter().enumerate() {
            let field = format!("producers[{i}].name");
            if p.name.is_empty() || !p.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
                return Err(self.err(
                    self.span_of(&field),
                    field,
                    format!("`{}`: accepted: lowercase letters a-z, digits, `-` and `_` only, not empty", p.name),
                ));
            }
            if let Some(first) = first_seen.get(p.name.as_str()) {
                let (line, _) = super::error::line_column(self.text, self.span_of(&format!("producers[{first}].name")).start);
                return Err(self.err(
                    self.span_of(&field),
                    field,
                    format!("duplicate producer name `{}` (first used on line {line}); names must be unique", p.name),
                ));
            }
            first_seen.insert(&p.name, i);
            self.http_driver(i, p, &scenario.client, &scenario.workload)?;
        }
        Ok(())
    }

    /// Values a toxic cannot run with, brokers and partitions of backend
    /// faults, what the listed backends can play, unique names.
    fn faults(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        for (i, fault) in scenario.faults.iter().enumerate() {
            match &fault.kind {
                // Values the proxy cannot run (a negative bandwidth, a
                // slicer without a size) are refused here, before anything
                // starts.
                FaultKind::Toxic(kind) => kind
                    .validate()
                    .and_then(|()| kind.validate_stream(fault.stream))
                    .map_err(|message| self.attribute_error(i, &message))?,
                FaultKind::Backend(backend_fault) => {
                    self.backend_fault(i, backend_fault, scenario.brokers, scenario.workload.partitions)?
                }
            }
        }
        self.backends_can_play(&scenario.backends, &scenario.faults, scenario.brokers)?;
        let mut fault_names: HashMap<&str, usize> = HashMap::new();
        for (i, f) in scenario.faults.iter().enumerate() {
            if let Some(first) = fault_names.insert(&f.name, i) {
                return Err(self.err(self.span_of(&format!("faults[{i}]")), format!("faults[{i}].name"), format!(
                    "duplicate fault name `{}` (also faults[{first}]); names must be unique because the proxy identifies toxics by name",
                    f.name
                )));
            }
        }
        Ok(())
    }

    /// Each `[[expect]]` names a producer and bounds a metric.
    fn expect(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        let producers = &scenario.producers;
        for (i, e) in scenario.expect.iter().enumerate() {
            let producer = &e.producer;
            if !producers.iter().any(|p| &p.name == producer) {
                let names: Vec<&str> = producers.iter().map(|p| p.name.as_str()).collect();
                let hint = did_you_mean(producer, names.iter().copied());
                let field = format!("expect[{i}].producer");
                return Err(self.err(
                    self.span_of(&field),
                    field,
                    format!("unknown producer `{producer}`{hint} accepted: the names of [[producers]]: {}", names.join(", ")),
                ));
            }
            if e.bounds().is_empty() {
                let metrics: Vec<&str> = super::Metric::EXPECTABLE.iter().map(|m| m.name()).collect();
                let field = format!("expect[{i}]");
                return Err(self.err(
                    self.span_of(&field),
                    field,
                    format!("no metric is bounded; add at least one of: {} (e.g. duplicates = 0)", metrics.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// The span of a field named as errors name it (`workload.messages`,
    /// `faults[2].attributes.latency`, `client."linger.ms"`): the deepest
    /// part of it that is in the document, or the whole document.
    fn span_of(&self, field: &str) -> Range<usize> {
        let mut span = self.root.span();
        let mut table = Some(self.root.get_ref());
        for part in field_parts(field) {
            let (key, index) = match part.split_once('[') {
                Some((key, rest)) => (key, rest.trim_end_matches(']').parse::<usize>().ok()),
                None => (part.as_str(), None),
            };
            let Some(found) = table.and_then(|t| lookup(t, key)) else { break };
            let (mut at, mut value) = (found.span(), found.get_ref());
            if let (Some(i), DeValue::Array(items)) = (index, value) {
                let Some(item) = items.get(i) else {
                    span = at;
                    break;
                };
                (at, value) = (item.span(), item.get_ref());
            }
            span = at;
            table = value.as_table();
        }
        span
    }
}

impl<'i> Checker<'_, 'i> {
    /// An error from [`ToxicKind::validate`], at the attribute it names
    /// (`attributes.rate: ...`) when it is in the file, else at the
    /// `attributes` table (or the fault, when the table is left out).
    fn attribute_error(&self, i: usize, message: &str) -> ScenarioError {
        let named = message
            .split_once(": ")
            .and_then(|(head, rest)| Some((head.strip_prefix("attributes.")?, rest)))
            .filter(|(name, _)| !name.is_empty() && !name.contains(' '));
        let base = format!("faults[{i}].attributes");
        let Some((name, rest)) = named else {
            return self.err(self.span_of(&base), base, message);
        };
        let field = format!("{base}.{name}");
        self.err(self.span_of(&field), field, rest)
    }
}

/// Brokers, backends and the attributes of faults that are not toxics.
impl<'i> Checker<'_, 'i> {
    /// Every backend the file lists can play every fault, and has `brokers` brokers.
    /// `backends` is the file's list (empty: none given); the errors point at
    /// the fault's `type` and at `brokers`.
    fn backends_can_play(&self, backends: &[String], faults: &[Fault], brokers: u32) -> Result<(), ScenarioError> {
        for (i, fault) in faults.iter().enumerate() {
            let able = fault.kind.backends();
            if let Some(unable) = backends.iter().find(|b| !able.contains(&b.as_str())) {
                let field = format!("faults[{i}].type");
                return Err(self.err(
                    self.span_of(&field),
                    field,
                    format!(
                        "`{}` cannot be played on the {unable} backend, which `backends` lists; backends that can play it: {}",
                        fault.kind.type_name(),
                        able.join(", ")
                    ),
                ));
            }
        }
        let mut limits = backends.iter().filter_map(|b| Backend::from_name(b)).filter_map(|b| Some((b, b.max_brokers()?)));
        if let Some((backend, max)) = limits.find(|(_, max)| brokers > *max) {
            return Err(self.err(
                self.span_of("brokers"),
                "brokers",
                format!(
                    "`{brokers}`: the {backend} backend, which `backends` lists, has {}; accepted: {}, or list only \
                 backends that start several ({})",
                    if max == 1 { "one broker".to_string() } else { format!("{max} brokers") },
                    if max == 1 { "1".to_string() } else { format!("1 to {max}") },
                    Backend::several_brokers().join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Checks of a backend fault's attributes that need the rest of the
    /// file: brokers and partitions in range, at least one error to answer.
    fn backend_fault(&self, i: usize, fault: &BackendFault, brokers: u32, partitions: i32) -> Result<(), ScenarioError> {
        let field = |name: &str| format!("faults[{i}].attributes.{name}");
        if let Some(broker) = fault.broker()
            && (broker < 1 || broker as u32 > brokers)
        {
            return Err(self.err(
                self.span_of(&field("broker")),
                field("broker"),
                format!(
                    "there is no broker {broker}: the scenario has {brokers} broker{} (`brokers = {brokers}`), numbered from 1; \
                     accepted: 1 to {brokers}, or raise `brokers`",
                    if brokers == 1 { "" } else { "s" }
                ),
            ));
        }
        match fault {
            BackendFault::LeaderChange(change) => {
                if let Some(p) = change.partition.filter(|p| *p < 0 || *p >= partitions) {
                    return Err(self.err(
                        self.span_of(&field("partition")),
                        field("partition"),
                        format!(
                            "there is no partition {p}: the topic has {partitions} (`workload.partitions`); accepted: 0 to {}, \
                         or leave `partition` out for every partition",
                            partitions - 1
                        ),
                    ));
                }
            }
            BackendFault::RequestErrors(req) if req.errors.is_empty() => {
                return Err(self.err(
                    self.span_of(&field("errors")),
                    field("errors"),
                    "no errors to answer with; accepted: one or more error names, e.g. [\"not_leader_or_follower\"]",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// The value at `key` of a document table.
fn lookup<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
}

/// The keys of a field path: split at dots outside quotes, quotes removed.
fn field_parts(field: &str) -> Vec<String> {
    let (mut parts, mut part, mut quoted) = (Vec::new(), String::new(), false);
    for c in field.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut part)),
            c => part.push(c),
        }
    }
    parts.push(part);
    parts
}

/// The http driver's checks.
impl<'i> Checker<'_, 'i> {
    /// `driver`, `client`, `url` and `send_mode` of producer `i`: a direct
    /// producer sets neither `url` nor `send_mode`; an http one runs no
    /// client of faultlab's (no `client = "java"`), has a mode the
    /// service knows, no settings of its own, no padding, and a base URL.
    fn http_driver(&self, i: usize, p: &ProducerSpec, client: &BTreeMap<String, String>, workload: &Workload) -> Result<(), ScenarioError> {
        let field = |name: &str| format!("producers[{i}].{name}");
        let at = |name: &str| self.span_of(&field(name));
        if p.driver == Driver::Http && p.client != Client::Librdkafka {
            return Err(self.err(
                at("client"),
                field("client"),
                format!(
                    "client = \"{}\" is for a producer faultlab runs itself, and driver = \"http\" sends through a producer \
                 service, which has its own client; accepted: driver = \"direct\" (the default) with client = \"{}\", or \
                 driver = \"http\" without `client`",
                    p.client, p.client
                ),
            ));
        }
        if p.driver == Driver::Direct {
            let misplaced = [("url", p.url.is_some()), ("send_mode", p.send_mode.is_some())];
            if let Some((name, _)) = misplaced.into_iter().find(|(_, set)| *set) {
                return Err(self.err(at(name), field(name), format!(
                    "`{name}` applies to driver = \"http\" only; accepted: add driver = \"http\" to this producer, or leave `{name}` out"
                )));
            }
            return Ok(());
        }
        if p.preset == Preset::None {
            return Err(self.err(at("preset"), field("preset"),
                "`none` is not one of the service's modes; accepted for driver = \"http\": \"plain\" or \"idempotent\" (the service's `mode`)",
            ));
        }
        if !p.settings.is_empty() {
            return Err(self.err(
                at("settings"),
                field("settings"),
                "an http producer has no librdkafka settings of its own: the service owns its producer; accepted: leave \
                 `settings` out (the in-process service, url = \"embedded\", takes the [client] settings; a service at a \
                 URL has its own configuration)",
            ));
        }
        if workload.payload_bytes > 0 {
            return Err(self.err(
                self.span_of("workload.payload_bytes"),
                "workload.payload_bytes",
                format!(
                    "producer `{}` uses driver = \"http\", and the service writes its own message value, without padding; \
                 accepted: 0, or leave `payload_bytes` out",
                    p.name
                ),
            ));
        }
        let url = p.url.as_deref().filter(|url| *url != "embedded");
        if let Some(text) = url {
            let valid = url::Url::parse(text).ok().filter(|parsed| {
                matches!(parsed.scheme(), "http" | "https")
                    && parsed.host().is_some()
                    && parsed.query().is_none()
                    && parsed.fragment().is_none()
            });
            if valid.is_none() {
                return Err(self.err(
                    at("url"),
                    field("url"),
                    format!(
                        "`{text}` is not a service's base URL; accepted: \"embedded\" (faultlab starts the service) or an \
                     http(s) URL without query, e.g. \"http://127.0.0.1:8080\""
                    ),
                ));
            }
        }
        if url.is_none()
            && let Err(e) = crate::serve::config::ServeConfig::default().with_client_settings(client)
        {
            return Err(self.err(
                self.span_of("client"),
                "client",
                format!("{e} (producer `{}` uses the in-process service, which takes its producer settings from [client])", p.name),
            ));
        }
        Ok(())
    }
}
