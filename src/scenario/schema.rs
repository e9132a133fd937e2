//! The JSON Schema of the scenario file format, for editors.
//!
//! Editors complete and check TOML against a JSON Schema: the TOML is read
//! as the JSON value it maps to (tables are objects, arrays are arrays) and
//! that value is checked against the schema. This schema is derived with
//! `schemars` from the types the file is read into ([`Scenario`] and the
//! types of its fields, the same types [`super::load`] deserialises), so
//! it cannot drift from the parser: field names, which fields are required, `deny_unknown_fields`
//! (`"additionalProperties": false`) and the doc comments (the hover help)
//! all come from there. What serde cannot see (a duration's syntax, a
//! bound's forms, ranges) is added here or with `#[schemars(...)]`
//! attributes next to the fields.
//!
//! # Generating it
//!
//! [`scenario_schema`] builds it; `scenarios/scenario.schema.json` is that
//! value, pretty-printed. The test `tests/scenario/schema.rs` fails when the
//! file is stale, and rewrites it when run as
//!
//! ```text
//! FAULTLAB_WRITE_SCHEMA=1 cargo test --release --test integration scenario::schema::
//! ```
//!
//! # How editors pick it up
//!
//! With Taplo (the TOML language server behind VS Code's *Even Better TOML*,
//! and `taplo check` on the command line), either:
//!
//! - a first-line comment in the scenario file, as `scenarios/response-delay.toml`
//!   has (a relative path is relative to the TOML file; a URL works too):
//!
//!   ```toml
//!   #:schema ./scenario.schema.json
//!   ```
//!
//!   It is an ordinary TOML comment, so faultlab ignores it; or
//! - a rule in a `.taplo.toml` at the repository root, for every scenario
//!   file at once:
//!
//!   ```toml
//!   [[rule]]
//!   include = ["scenarios/*.toml"]
//!   [rule.schema]
//!   path = "./scenarios/scenario.schema.json"
//!   ```
//!
//! The schema is draft-07, the newest draft Taplo's validator fully supports.
//!
//! # What it cannot say
//!
//! Checks that need more than one value or arithmetic are only in
//! [`super::load`]: unique producer and fault names, an `[[expect]]` naming
//! a producer that exists, a range bound whose minimum exceeds its maximum
//! (`"5..3"`) or that can never hold (`"< 0"`), a duration too large for
//! the clock, and the slicer's `size_variation <= average_size`. A file the
//! schema accepts can still be refused there, always with a message naming
//! the line; the reverse does not happen (the tests check every file in
//! `scenarios/` and a table of forms both ways).
//!
//! # Toxic attributes
//!
//! Each toxic type's attributes are a struct in `crates/proxy/src/toxics/` (a
//! Kafka toxic's wrapped in [`crate::proxy::kafka::aim::Aimed`], which adds
//! the aim's), deriving `JsonSchema`: the struct's doc comment is the
//! type's help, the fields' docs the attributes' help, defaults come from
//! serde and minimums from `#[schemars(range(..))]`. [`toxic_types`] reads
//! them from [`ToxicKind`]'s generated schema, so adding a toxic touches
//! its own file and its `ToxicKind` variant, nothing here. Unit tests fail
//! when a type or an attribute has no help, or a minimum is not what
//! `ToxicKind::validate` enforces.

use std::borrow::Cow;

use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde_json::{Map, Value, json};

use super::FaultKind;
use super::Scenario;
use super::duration::DurationValue;
use super::expect::{BOUND_FORMS, Bound, Metric};
use super::settings::SettingValue;
use crate::env::Backend;
use crate::proxy::toxic::ToxicKind;

/// The JSON Schema (draft-07) of a scenario file, as TOML maps to JSON.
/// `scenarios/scenario.schema.json` holds it, pretty-printed.
pub fn scenario_schema() -> Value {
    let mut settings = SchemaSettings::draft07();
    settings.transforms.push(Box::new(RecursiveTransform(for_toml)));
    settings.into_generator().into_root_schema_for::<Scenario>().to_value()
}

/// Drop what means nothing in TOML: `"default": null` (schemars' default
/// of an `Option` field; TOML has no null, leaving the key out is the
/// default) and `format` (`int64`, `double`: Rust's types, not the file's).
fn for_toml(schema: &mut Schema) {
    if schema.get("default").is_some_and(Value::is_null) {
        schema.remove("default");
    }
    schema.remove("format");
}

/// What [`super::duration::parse_duration`] accepts: spaces around, an
/// optional `+`, a decimal number (`1`, `1.5`, `.5`, `1.`), optional spaces
/// and a unit. A leading `-` does not match (durations cannot be negative),
/// nor does a bare number (the unit is required).
pub(super) const DURATION_PATTERN: &str = r"^\s*\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*(ns|us|µs|ms|s|m|h)\s*$";

/// A duration of zero (`"0s"`, `"0.0ms"`): refused for a fault's `duration`.
pub(crate) const ZERO_DURATION_PATTERN: &str = r"^\s*\+?(0+(\.0*)?|\.0+)\s*(ns|us|µs|ms|s|m|h)\s*$";

/// What [`Bound::parse`] accepts as a string: `N`, `>= N`, `> N`, `<= N`,
/// `< N`, `N..M` or `N..=M`, spaces optional (N written as Rust's `u64`
/// parser reads it, so an optional `+`).
pub(super) const BOUND_PATTERN: &str = r"^\s*((>=?|<=?)\s*\+?[0-9]+|\+?[0-9]+\s*\.\.=?\s*\+?[0-9]+|\+?[0-9]+)\s*$";

impl JsonSchema for DurationValue {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration: a number and a unit (ns, us or µs, ms, s, m, h), e.g. \"1.5s\", \"300ms\", \
                            \"2m\", \"0s\". No sign, and the unit is required (a bare 2 could mean seconds or \
                            milliseconds).",
            "examples": ["1.5s", "300ms", "2m"],
        })
    }
}

impl JsonSchema for Bound {
    fn schema_name() -> Cow<'static, str> {
        "Bound".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // One schema rather than a oneOf: `minimum` applies only to numbers
        // and `pattern` only to strings, and an editor's message for a
        // failed oneOf says much less.
        json_schema!({
            "type": ["integer", "string"],
            "minimum": 0,
            "pattern": BOUND_PATTERN,
            "description": format!("A bound on a count: {BOUND_FORMS}. Every form is inclusive."),
            "examples": [0, ">= 1", "<= 5", "1..5"],
        })
    }
}

impl JsonSchema for SettingValue {
    fn schema_name() -> Cow<'static, str> {
        "SettingValue".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "integer", "number", "boolean"],
            "description": "A librdkafka property value. librdkafka takes strings; integers, numbers and \
                            booleans are passed as written (2000 is \"2000\", true is \"true\"). Lists are \
                            strings too, as librdkafka writes them: \"a,b\".",
        })
    }
}

/// The `type` of a fault: a toxic's ([`ToxicKind::TYPE_NAMES`]) or another
/// fault's ([`super::BackendFault::TYPE_NAMES`]).
pub(crate) struct ToxicTypeName;

impl JsonSchema for ToxicTypeName {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "ToxicType".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = FaultKind::type_names().collect();
        json_schema!({ "type": "string", "enum": names })
    }
}

/// A fault's `attributes` in general; [`toxic_variants`] says which are
/// accepted for each type.
pub(crate) struct AttributesTable;

impl JsonSchema for AttributesTable {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Attributes".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object" })
    }
}

/// A fault's `type` and `attributes` as the schema shows them (a
/// [`super::Fault`]'s `kind`, flattened); [`toxic_variants`] then says
/// which attributes each type accepts. Never constructed: it only carries
/// the schema.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub(crate) struct FaultTypeAndAttributes {
    /// The toxic type (Toxiproxy's names), or `proxy_down`; it decides
    /// which `attributes` are accepted.
    #[schemars(rename = "type", with = "ToxicTypeName")]
    kind: (),
    /// The toxic's attributes, with Toxiproxy's names and units (mostly
    /// milliseconds); which are accepted depends on `type`. Leave out any
    /// to take its default.
    #[schemars(default, with = "AttributesTable")]
    attributes: (),
}

/// The file's view of [`crate::proxy::toxic::Stream`], which lives in the
/// proxy and does not derive `JsonSchema`; a unit test checks that the two
/// accept the same words. Never constructed: it only carries the schema.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Stream", description = "Which direction of the connection a toxic affects (Toxiproxy's words).")]
#[allow(dead_code)]
pub(crate) enum StreamName {
    /// Client to broker: the producer's requests.
    Upstream,
    /// Broker to client: the broker's responses.
    Downstream,
}

/// Each backend fault type's name, help and `attributes` schema (`None`
/// when it takes none), from [`super::BackendFault`]'s derived schema: the
/// variant's doc comment is the help, followed by the backends that play it
/// ([`crate::env::Backend::playing`]).
fn backend_fault_types() -> Vec<(String, String, Option<Value>)> {
    tagged_branches::<super::BackendFault>()
        .into_iter()
        .map(|(name, mut branch)| {
            let doc = branch.get("description").and_then(Value::as_str).map(one_line).unwrap_or_default();
            let backends = Backend::playing(&name);
            let played = if backends.len() == Backend::ALL.len() {
                "Every backend.".to_string()
            } else {
                format!("Backends: {}.", backends.join(", "))
            };
            let description = format!("{doc} {played}");
            let attributes = branch.pointer_mut("/properties/attributes").map(Value::take).map(|mut attributes| {
                // The struct's doc is an example for the code's reader;
                // the fault's help is its branch's description.
                if let Some(table) = attributes.as_object_mut() {
                    table.remove("description");
                    table.remove("title");
                }
                attributes
            });
            (name, description, attributes)
        })
        .collect()
}

/// The `oneOf` branches of an adjacently tagged enum's derived schema
/// (`type` + `attributes`, as [`ToxicKind`] and [`super::BackendFault`]),
/// each with the type name its `type` property fixes.
fn tagged_branches<T: JsonSchema>() -> Vec<(String, Value)> {
    let schema = inline_generator().into_root_schema_for::<T>().to_value();
    let branches = schema.get("oneOf").and_then(Value::as_array).cloned().unwrap_or_default();
    branches
        .into_iter()
        .filter_map(|branch| {
            let type_schema = branch.pointer("/properties/type")?;
            let name = type_schema.get("const").or_else(|| type_schema.pointer("/enum/0"))?.as_str()?.to_string();
            Some((name, branch))
        })
        .collect()
}

/// A generator with the file's settings that writes every subschema in
/// place, so a toxic's attributes are one self-contained object.
fn inline_generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft07();
    settings.inline_subschemas = true;
    settings.transforms.push(Box::new(RecursiveTransform(for_toml)));
    settings.into_generator()
}

/// Each toxic type's name, help and `attributes` schema, in
/// [`ToxicKind`]'s order, from its derived schema (the attribute structs in
/// `crates/proxy/src/toxics/`): the struct's doc comment is the type's help.
pub(super) fn toxic_types() -> Vec<(String, Option<Value>, Value)> {
    tagged_branches::<ToxicKind>()
        .into_iter()
        .filter_map(|(name, mut branch)| {
            let mut attributes = branch.pointer_mut("/properties/attributes")?.take();
            let table = attributes.as_object_mut()?;
            let description = table.remove("description").as_ref().and_then(Value::as_str).map(|d| one_line(d).into());
            table.remove("title");
            for property in table.get_mut("properties").and_then(Value::as_object_mut).into_iter().flat_map(|p| p.values_mut()) {
                if let Some(d) = property.get("description").and_then(Value::as_str) {
                    property["description"] = one_line(d).into();
                }
            }
            required_below_minimum(table);
            Some((name, description, attributes))
        })
        .collect()
}

/// A doc comment's text as one line: an editor shows the help as a
/// paragraph, and the comment's line breaks are only the source's width.
fn one_line(doc: &str) -> String {
    doc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An attribute whose default is below its minimum (the slicer's
/// `average_size`: 0 by serde, 1 or more by `validate`) must be given, so
/// the schema says it is required and shows no default.
fn required_below_minimum(table: &mut Map<String, Value>) {
    let mut required: Vec<Value> = table.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(Value::Object(properties)) = table.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            let (Some(default), Some(min)) =
                (property.get("default").and_then(Value::as_f64), property.get("minimum").and_then(Value::as_f64))
            else {
                continue;
            };
            if default < min {
                property.as_object_mut().map(|p| p.remove("default"));
                required.push(name.clone().into());
            }
        }
    }
    if !required.is_empty() {
        table.insert("required".into(), required.into());
    }
}

/// `#[schemars(transform)]` of a fault: one `oneOf` branch per toxic type,
/// each fixing `type` and saying which `attributes` that type accepts. The
/// fault's own properties (and `additionalProperties: false`) stay at the
/// top, so the branches only narrow `type` and `attributes`.
pub(super) fn toxic_variants(schema: &mut Schema) {
    let variants: Vec<Value> = toxic_types()
        .into_iter()
        .map(|(type_name, description, attributes)| {
            let needed = attributes.get("required").and_then(Value::as_array).is_some_and(|r| !r.is_empty());
            let mut branch = json!({
                "title": type_name,
                "properties": { "type": { "const": type_name }, "attributes": attributes },
                "required": if needed { json!(["type", "attributes"]) } else { json!(["type"]) },
            });
            if let Some(description) = description {
                branch["description"] = description;
            }
            branch
        })
        .chain(backend_fault_types().into_iter().map(|(type_name, description, attributes)| {
            match attributes {
                // No attributes, and no stream or toxicity: those are a toxic's.
                None => json!({
                    "title": type_name,
                    "description": description,
                    "properties": { "type": { "const": type_name } },
                    "not": { "anyOf": [
                        { "required": ["attributes"] }, { "required": ["stream"] }, { "required": ["toxicity"] },
                    ] },
                    "required": ["type"],
                }),
                Some(attributes) => json!({
                    "title": type_name,
                    "description": description,
                    "properties": { "type": { "const": type_name }, "attributes": attributes },
                    "not": { "anyOf": [{ "required": ["stream"] }, { "required": ["toxicity"] }] },
                    "required": ["type", "attributes"],
                }),
            }
        }))
        .collect();
    schema.insert("oneOf".into(), variants.into());
}

/// `#[schemars(transform)]` of an `[[expect]]` table: at least one metric
/// must be bounded.
pub(super) fn require_a_metric(schema: &mut Schema) {
    let any: Vec<Value> = Metric::EXPECTABLE.iter().map(|m| json!({ "required": [m.name()] })).collect();
    schema.insert("anyOf".into(), any.into());
}

/// `#[schemars(transform)]` of [`super::KeyStrategy::Spread`]: at least
/// one key (the `u32` alone says 0 or more).
pub(super) fn spread_at_least_one(schema: &mut Schema) {
    if let Some(spread) = schema.pointer_mut("/properties/spread").and_then(Value::as_object_mut) {
        spread.insert("minimum".into(), 1.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::toxic::Stream;
    use crate::scenario::parse_duration;

    fn schema() -> Value {
        scenario_schema()
    }

    fn validator(schema: &Value) -> jsonschema::Validator {
        jsonschema::draft7::new(schema).expect("the schema is valid draft-07")
    }

    /// A schema of one definition, for checking single values.
    fn definition(name: &str) -> jsonschema::Validator {
        let mut s = schema();
        s["$ref"] = format!("#/definitions/{name}").into();
        for key in ["properties", "required", "additionalProperties", "type", "x-taplo"] {
            s.as_object_mut().unwrap().remove(key);
        }
        validator(&s)
    }

    #[test]
    fn schema_is_valid_draft_07_with_the_file_s_top_level_fields() {
        let s = schema();
        assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(s["additionalProperties"], false);
        let mut keys: Vec<&str> = s["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "backends",
                "brokers",
                "client",
                "description",
                "expect",
                "faults",
                "name",
                "observe",
                "producers",
                "repeat",
                "seed",
                "workload"
            ]
        );
        let mut required: Vec<&str> = s["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        required.sort();
        assert_eq!(required, ["description", "name", "producers", "workload"]);
        validator(&s);
    }

    #[test]
    fn every_table_denies_unknown_fields() {
        let s = schema();
        for name in ["Workload", "Producer", "Fault", "Expect"] {
            assert_eq!(s["definitions"][name]["additionalProperties"], false, "{name}");
        }
    }

    #[test]
    fn expect_properties_are_producer_level_and_every_metric() {
        let s = schema();
        let mut keys: Vec<&str> = s["definitions"]["Expect"]["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        let mut expected: Vec<&str> = Metric::EXPECTABLE.iter().map(|m| m.name()).chain(["producer", "level", "backends"]).collect();
        expected.sort();
        assert_eq!(keys, expected);
    }

    #[test]
    fn stream_names_are_the_proxy_s() {
        let s = schema();
        let names: Vec<&str> = s["definitions"]["Stream"]["oneOf"]
            .as_array()
            .expect("Stream is a oneOf of documented values")
            .iter()
            .map(|v| v["const"].as_str().unwrap())
            .collect();
        let proxy: Vec<String> =
            [Stream::Upstream, Stream::Downstream].iter().map(|s| serde_json::to_value(s).unwrap().as_str().unwrap().to_string()).collect();
        assert_eq!(names, proxy);
        for name in names {
            serde_json::from_value::<Stream>(json!(name)).unwrap();
        }
    }

    /// A toxic type without a doc comment on its attribute struct, or an
    /// attribute without one on its field, would reach editors without
    /// help: this fails instead, naming the file to document.
    #[test]
    fn every_toxic_type_has_help_and_every_attribute_is_described() {
        let types = toxic_types();
        let names: Vec<&str> = types.iter().map(|(name, _, _)| name.as_str()).collect();
        assert_eq!(names, ToxicKind::TYPE_NAMES, "one schema branch per toxic type, in order");
        for (type_name, description, attributes) in &types {
            assert!(
                description.as_ref().and_then(Value::as_str).is_some_and(|d| !d.trim().is_empty()),
                "toxic type `{type_name}` has no help: document its attribute struct (crates/proxy/src/toxics/)"
            );
            let properties = attributes["properties"].as_object().unwrap_or_else(|| panic!("`{type_name}` has no attributes"));
            assert!(!properties.is_empty(), "`{type_name}` has no attributes");
            for (name, property) in properties {
                assert!(
                    property.get("description").and_then(Value::as_str).is_some_and(|d| !d.trim().is_empty()),
                    "attribute `{type_name}.{name}` has no help: document its field (crates/proxy/src/toxics/ or crates/proxy/src/kafka/aim.rs)"
                );
            }
            assert_eq!(attributes["additionalProperties"], false, "`{type_name}` refuses unknown attributes");
            // The schema's attributes are exactly those serde writes back.
            let kind: ToxicKind = serde_json::from_value(json!({ "type": type_name, "attributes": { "average_size": 1 } }))
                .or_else(|_| serde_json::from_value(json!({ "type": type_name, "attributes": {} })))
                .unwrap_or_else(|e| panic!("`{type_name}` does not deserialise: {e}"));
            let written = serde_json::to_value(&kind).unwrap();
            let mut serde_names: Vec<&String> = written["attributes"].as_object().unwrap().keys().collect();
            let mut schema_names: Vec<&String> = properties.keys().collect();
            serde_names.sort();
            schema_names.sort();
            assert_eq!(schema_names, serde_names, "`{type_name}`'s schema and serde agree on the attribute names");
        }
    }

    #[test]
    fn every_backend_fault_has_help_and_every_attribute_is_described() {
        let faults = backend_fault_types();
        let names: Vec<&str> = faults.iter().map(|(name, _, _)| name.as_str()).collect();
        assert_eq!(names, crate::scenario::BackendFault::TYPE_NAMES, "strum's names are serde's, in order");
        for (type_name, description, attributes) in &faults {
            let help = description.strip_suffix(" Every backend.").or_else(|| description.split(" Backends: ").next());
            assert!(
                help.is_some_and(|h| h.len() > 20),
                "`{type_name}` has no help: document its variant (src/scenario/mod.rs): {description}"
            );
            let Some(attributes) = attributes else { continue };
            assert_eq!(attributes["additionalProperties"], false, "`{type_name}` refuses unknown attributes");
            for (name, property) in attributes["properties"].as_object().unwrap() {
                assert!(
                    property.get("description").and_then(Value::as_str).is_some_and(|d| !d.is_empty()),
                    "attribute `{type_name}.{name}` has no help: document its field (src/scenario/mod.rs)"
                );
            }
        }
    }

    /// Each `minimum` in the toxics' schemas is what `validate` enforces:
    /// the attributes at their minimums pass, one below fails.
    #[test]
    fn attribute_minimums_match_validate() {
        for (type_name, _, attributes) in toxic_types() {
            let minimums: Vec<(String, i64)> = attributes["properties"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(_, p)| p["type"] == "integer")
                .filter_map(|(name, p)| Some((name.clone(), p.get("minimum")?.as_i64()?)))
                // u64's own minimum (0) is serde's to enforce, not validate's.
                .filter(|(name, _)| !["nth", "first", "every"].contains(&name.as_str()))
                .collect();
            let lowest: Map<String, Value> = minimums.iter().map(|(n, m)| (n.clone(), Value::from(*m))).collect();
            let kind = |attributes: &Map<String, Value>| -> ToxicKind {
                serde_json::from_value(json!({ "type": type_name, "attributes": attributes })).unwrap()
            };
            assert_eq!(kind(&lowest).validate(), Ok(()), "{type_name} at its minimums");
            for (name, min) in &minimums {
                let mut below = lowest.clone();
                below.insert(name.clone(), (min - 1).into());
                assert!(kind(&below).validate().is_err(), "{type_name}.{name} below its minimum");
            }
        }
    }

    #[test]
    fn fault_has_one_branch_per_toxic_type() {
        let s = schema();
        let fault = &s["definitions"]["Fault"];
        let branches: Vec<&str> =
            fault["oneOf"].as_array().unwrap().iter().map(|b| b["properties"]["type"]["const"].as_str().unwrap()).collect();
        assert_eq!(branches, FaultKind::type_names().collect::<Vec<_>>());
        let latency = &fault["oneOf"][0]["properties"]["attributes"];
        assert_eq!(latency["additionalProperties"], false);
        assert_eq!(latency["properties"]["latency"]["type"], "integer");
        assert_eq!(latency["properties"]["latency"]["default"], 0);
        let slicer = fault["oneOf"].as_array().unwrap().iter().find(|b| b["title"] == "slicer").unwrap();
        assert_eq!(slicer["required"], json!(["type", "attributes"]));
        assert_eq!(slicer["properties"]["attributes"]["required"], json!(["average_size"]));
    }

    /// The duration pattern accepts exactly what the parser does (ranges
    /// aside), on a table of forms.
    #[test]
    fn duration_pattern_agrees_with_the_parser() {
        let v = definition("Duration");
        let forms = [
            "1.5s", "300ms", "2m", "0s", "1h", "10us", "10µs", "5ns", " 2s ", "2 s", "+2s", ".5s", "5.s", "1.25ms", "-1s", "2", "", "s",
            "1sec", "1..5s", "1.2.3s", "1 h", "1S", "- 1s", "1e3ms", "1,5s",
        ];
        for form in forms {
            let parsed = parse_duration(form).is_ok();
            let matched = v.is_valid(&json!(form));
            assert_eq!(matched, parsed, "`{form}`: schema says {matched}, parser says {parsed}");
        }
        assert!(!v.is_valid(&json!(2)), "a bare number is refused");
    }

    #[test]
    fn zero_duration_pattern_matches_exactly_the_zero_durations() {
        let zero = regex_like(ZERO_DURATION_PATTERN);
        for form in ["0s", "0ms", "0.0s", "00h", ".0s", "0.s", " +0 ms", "1s", "0.5s", "10ms", "0.01s"] {
            let is_zero = parse_duration(form).is_ok_and(|d| d.is_zero());
            assert_eq!(zero.is_valid(&json!(form)), is_zero, "`{form}`");
        }
    }

    /// A validator for "a string matching `pattern`".
    fn regex_like(pattern: &str) -> jsonschema::Validator {
        validator(&json!({ "$schema": "http://json-schema.org/draft-07/schema#", "type": "string", "pattern": pattern }))
    }

    #[test]
    fn bound_pattern_agrees_with_the_parser() {
        let v = definition("Bound");
        let forms = [
            "0",
            "12",
            ">= 1",
            ">=1",
            "> 0",
            "<= 5",
            "< 5",
            "1..5",
            "1..=5",
            " 1 .. 5 ",
            "+3",
            "at least 1",
            "",
            "-1",
            ">= -1",
            "=> 1",
            "1...5",
            "1..",
            "..5",
            "1.5",
            ">",
            "1 ..= 5",
        ];
        for form in forms {
            let parsed = Bound::parse(form).is_ok();
            let matched = v.is_valid(&json!(form));
            assert_eq!(matched, parsed, "`{form}`: schema says {matched}, parser says {parsed}");
        }
        assert!(v.is_valid(&json!(0)));
        assert!(v.is_valid(&json!(7)));
        assert!(!v.is_valid(&json!(-1)));
        assert!(!v.is_valid(&json!(1.5)));
        assert!(!v.is_valid(&json!(true)));
    }

    #[test]
    fn key_forms() {
        let v = definition("Key");
        for ok in [json!("event-id"), json!({ "fixed": "account-7" }), json!({ "spread": 8 })] {
            assert!(v.is_valid(&ok), "{ok}");
        }
        for bad in [
            json!("id"),
            json!({ "spread": 0 }),
            json!({ "fixed": 3 }),
            json!({ "fixed": "a", "spread": 2 }),
            json!({}),
            json!({ "sprad": 2 }),
        ] {
            assert!(!v.is_valid(&bad), "{bad}");
        }
    }
}
