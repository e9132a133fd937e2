//! Reading scenario files: TOML syntax, then the raw serde types, then the
//! checks serde cannot express. Each step stops at its first error, which
//! names the file, line, column and field.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ScenarioError, did_you_mean};
use super::limits;
use super::raw::{self, RawScenario};
use super::settings;
use super::{BackendFault, Driver, Fault, FaultKind, Preset, ProducerSpec, Scenario, Workload};
use crate::env::Backend;
use crate::proxy::toxic::{Stream, Toxic, ToxicKind};

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
    let raw = RawScenario::deserialize(toml::de::Deserializer::from(root.clone()))
        .map_err(|e| ScenarioError::from_toml(source, text, Some(&root), &e, 0..0))?;
    Checker { text, source, root: &root }.scenario(raw)
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

    fn scenario(&self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        let name = &raw.name;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(self.err(
                self.span_of("name"),
                "name",
                format!("`{name}`: accepted: lowercase letters a-z, digits and `-` only, not empty (the name is used in topic names)"),
            ));
        }
        if raw.description.trim().is_empty() {
            return Err(self.err(
                self.span_of("description"),
                "description",
                "must not be empty: say in one paragraph what the scenario shows",
            ));
        }
        let workload = raw.workload;
        let client = raw.client;
        let brokers = raw.brokers;
        let backends = self.backends(raw.backends.as_ref(), "backends")?;

        if raw.producers.is_empty() {
            return Err(self.err(
                self.span_of("producers"),
                "producers",
                "at least one producer is needed: add a [[producers]] table with `name` and `preset`",
            ));
        }
        let producers = raw.producers;
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
            self.http_driver(i, p, &client, &workload)?;
        }

        let mut faults = Vec::new();
        for (i, f) in raw.faults.into_iter().enumerate() {
            let fault = self.fault(i, f)?;
            if let FaultKind::Backend(backend_fault) = &fault.kind {
                self.backend_fault(i, backend_fault, brokers, workload.partitions)?;
            }
            faults.push(fault);
        }
        self.backends_can_play(&backends, &faults, brokers)?;
        let mut fault_names: HashMap<&str, usize> = HashMap::new();
        for (i, f) in faults.iter().enumerate() {
            if let Some(first) = fault_names.insert(&f.name, i) {
                return Err(self.err(self.span_of(&format!("faults[{i}]")), format!("faults[{i}].name"), format!(
                    "duplicate fault name `{}` (also faults[{first}]); names must be unique because the proxy identifies toxics by name",
                    f.name
                )));
            }
        }

        let mut expect = raw.expect;
        for (i, e) in expect.iter_mut().enumerate() {
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
            let on = self.backends(e.backends.as_ref(), &format!("expect[{i}].backends"))?;
            if e.backends.is_some() {
                e.backends = Some(on);
            }
        }

        let scenario = Scenario {
            name: raw.name,
            description: raw.description,
            observe: raw.observe,
            seed: raw.seed,
            repeat: raw.repeat,
            brokers,
            backends,
            workload,
            client,
            producers,
            faults,
            expect,
            source: self.source.to_path_buf(),
        };
        limits::check(&scenario)
            .and_then(|()| settings::check(&scenario))
            .map_err(|e| self.err(self.span_of(&e.field), e.field, e.message))?;
        Ok(scenario)
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
            let Some(found) = table.and_then(|t| raw::lookup(t, key)) else { break };
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

    /// The `[[faults]]` entry `i` in the document.
    fn fault_table(&self, i: usize) -> Option<&Spanned<DeValue<'i>>> {
        match raw::lookup(self.root.get_ref(), "faults")?.get_ref() {
            DeValue::Array(items) => items.get(i),
            _ => None,
        }
    }

    fn fault(&self, i: usize, f: Spanned<raw::RawFault>) -> Result<Fault, ScenarioError> {
        let (fault_span, f) = (f.span(), f.into_inner());
        let type_name = f.kind.get_ref();
        if !FaultKind::type_names().any(|t| t == type_name) {
            let hint = did_you_mean(type_name, FaultKind::type_names());
            let accepted: Vec<&str> = FaultKind::type_names().collect();
            return Err(self.err(
                f.kind.span(),
                format!("faults[{i}].type"),
                format!("unknown fault type `{type_name}`{hint} accepted: {}", accepted.join(", ")),
            ));
        }
        let is_toxic = ToxicKind::TYPE_NAMES.contains(&type_name.as_str());
        if !is_toxic {
            // Stream and toxicity are about a toxic's bytes; on anything
            // else they would be silently ignored, so they are refused.
            let misplaced = [("stream", f.stream.as_ref().map(|s| s.span())), ("toxicity", f.toxicity.as_ref().map(|t| t.span()))];
            if let Some((field, Some(span))) = misplaced.into_iter().find(|(_, span)| span.is_some()) {
                return Err(self.err(
                    span,
                    format!("faults[{i}].{field}"),
                    format!(
                        "`{field}` applies to toxics only, and `{type_name}` is not one; accepted: leave it out \
                     (toxics: {})",
                        ToxicKind::TYPE_NAMES.join(", ")
                    ),
                ));
            }
        }
        let stream = f.stream.as_ref().map(|s| *s.get_ref()).unwrap_or_default();
        let toxicity = match &f.toxicity {
            Some(t) => {
                let v = *t.get_ref();
                if !(0.0..=1.0).contains(&v) {
                    return Err(self.err(
                        t.span(),
                        format!("faults[{i}].toxicity"),
                        format!(
                            "`{v}` is out of range; accepted: a number from 0.0 to 1.0 (the probability that a connection is affected)"
                        ),
                    ));
                }
                v as f32
            }
            None => 1.0,
        };
        let duration = match &f.duration {
            Some(d) if d.get_ref().0.is_zero() => {
                return Err(self.err(d.span(), format!("faults[{i}].duration"), 
                    "a fault cannot last 0s; accepted: a duration > 0 such as \"3s\", or leave `duration` out to keep the fault until producing ends",
                ));
            }
            Some(d) => Some(d.get_ref().0),
            None => None,
        };

        // The attributes as they are in the document (with their spans); an
        // absent table is an empty one, so every attribute takes its default.
        let document_attributes =
            self.fault_table(i).and_then(|t| t.get_ref().as_table()).and_then(|t| raw::lookup(t, "attributes")).cloned();
        let absent = document_attributes.is_none();
        if !is_toxic {
            let kind = raw::tagged::<BackendFault>(type_name, document_attributes)
                .map_err(|e| ScenarioError::from_toml(self.source, self.text, Some(self.root), &e, fault_span.clone()))?;
            let name = self.fault_name(i, f.name, || format!("{type_name}_{i}"))?;
            return Ok(Fault { name, kind: FaultKind::Backend(kind), stream, toxicity, at: f.at.0, duration });
        }
        let attributes = document_attributes.unwrap_or_else(|| Spanned::new(fault_span.clone(), DeValue::Table(DeTable::new())));
        let kind = raw::tagged::<ToxicKind>(type_name, Some(attributes)).map_err(|e| {
            let mut err = ScenarioError::from_toml(self.source, self.text, Some(self.root), &e, fault_span.clone());
            let base = format!("faults[{i}]");
            if let Some(field) = err.field.as_mut().filter(|f| absent && f.starts_with(&base) && !f.contains(".attributes")) {
                *field = format!("{base}.attributes{}", &field[base.len()..]);
            }
            err
        })?;
        // Values the proxy cannot run (a negative bandwidth, a slicer
        // without a size) are refused here, before anything starts.
        kind.validate().map_err(|message| self.attribute_error(i, &message))?;
        kind.validate_stream(stream).map_err(|message| self.attribute_error(i, &message))?;

        let name = self.fault_name(i, f.name, || default_fault_name(&kind, stream, i))?;
        Ok(Fault { name, kind: FaultKind::Toxic(kind), stream, toxicity, at: f.at.0, duration })
    }

    /// The fault's `name`, or `default()` when the file leaves it out.
    fn fault_name(&self, i: usize, name: Option<Spanned<String>>, default: impl FnOnce() -> String) -> Result<String, ScenarioError> {
        match name {
            Some(n) if n.get_ref().trim().is_empty() => Err(self.err(
                n.span(),
                format!("faults[{i}].name"),
                "must not be empty; leave it out for the default `<type>_<stream>_<index>` (toxics) or \
                 `<type>_<index>`",
            )),
            Some(n) => Ok(n.into_inner()),
            None => Ok(default()),
        }
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
    /// `backends = [...]` (at the top, or in an `[[expect]]`, named by
    /// `field`): known names, at least one; the list without repeats.
    fn backends(&self, list: Option<&Vec<String>>, field: &str) -> Result<Vec<String>, ScenarioError> {
        let Some(list) = list else { return Ok(Vec::new()) };
        if list.is_empty() {
            return Err(self.err(
                self.span_of(field),
                field,
                format!(
                    "an empty list runs nowhere; accepted: one or more of {}, or leave `backends` out to run everywhere",
                    Backend::names().join(", ")
                ),
            ));
        }
        let mut names = Vec::new();
        for (j, name) in list.iter().enumerate() {
            if Backend::from_name(name).is_none() {
                let hint = did_you_mean(name, Backend::names());
                let field = format!("{field}[{j}]");
                return Err(self.err(
                    self.span_of(&field),
                    field,
                    format!("unknown backend `{name}`{hint} accepted: {}", Backend::names().join(", ")),
                ));
            }
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        Ok(names)
    }

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

/// `<type>_<stream>_<index>`: Toxiproxy's default name plus the fault's
/// 0-based index, so two faults of one type on one stream can overlap.
fn default_fault_name(kind: &ToxicKind, stream: Stream, index: usize) -> String {
    format!("{}_{index}", Toxic::default_name(kind, stream))
}

/// The http driver's checks.
impl<'i> Checker<'_, 'i> {
    /// `driver`, `url` and `send_mode` of producer `i`: a direct producer
    /// sets neither `url` nor `send_mode`; an http one has a mode the
    /// service knows, no settings of its own, no padding, and a base URL.
    fn http_driver(&self, i: usize, p: &ProducerSpec, client: &BTreeMap<String, String>, workload: &Workload) -> Result<(), ScenarioError> {
        let field = |name: &str| format!("producers[{i}].{name}");
        let at = |name: &str| self.span_of(&field(name));
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
