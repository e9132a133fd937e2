//! The JSON Schema of the scenario file format, for editors.
//!
//! Editors complete and check TOML against a JSON Schema: the TOML is read
//! as the JSON value it maps to (tables are objects, arrays are arrays) and
//! that value is checked against the schema. This schema is derived with
//! `schemars` from the raw types in `raw.rs`, which are the file as written
//! (the same types [`super::load`] deserialises), so it cannot drift from
//! the parser: field names, which fields are required, `deny_unknown_fields`
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
//! FAULTLAB_WRITE_SCHEMA=1 cargo test --release --test scenario schema::
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
//! Each toxic type's attributes are a struct in `src/proxy/toxics/`, which
//! the proxy owns and which does not derive `JsonSchema` (the proxy has no
//! business depending on an editor format). They are described here instead,
//! without a hand-kept list of names: for each of [`ToxicKind::TYPE_NAMES`]
//! the default toxic is deserialised from empty attributes and serialised
//! back, which gives every attribute's name, JSON type and default; a probe
//! with an unknown attribute tells whether unknown names are refused. Only
//! the help text and the minimums `ToxicKind::validate` enforces are a table
//! ([`TOXICS`], [`ATTRIBUTES`]), and unit tests fail when that table and the
//! structs disagree.

use std::borrow::Cow;

use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde_json::{Map, Value, json};

use super::FaultKind;
use super::duration::DurationValue;
use super::expect::{BOUND_FORMS, Bound, Metric};
use super::raw::{RawScenario, SettingValue};
use crate::proxy::toxic::ToxicKind;

/// The JSON Schema (draft-07) of a scenario file, as TOML maps to JSON.
/// `scenarios/scenario.schema.json` holds it, pretty-printed.
pub fn scenario_schema() -> Value {
    let mut settings = SchemaSettings::draft07();
    settings.transforms.push(Box::new(RecursiveTransform(for_toml)));
    settings.into_generator().into_root_schema_for::<RawScenario>().to_value()
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

/// One line of help per toxic type, shown for the `oneOf` branch of that
/// type. Units and meanings are Toxiproxy's.
pub(super) const TOXICS: &[(&str, &str)] = &[
    ("latency", "Delays every chunk of data by `latency` ms, give or take up to `jitter` ms."),
    ("bandwidth", "Limits the connection to `rate` KB/s."),
    ("slow_close", "Holds back the close of the connection by `delay` ms."),
    (
        "timeout",
        "Stops all data; closes the connection after `timeout` ms, or with 0 never (until the toxic is removed, \
         which closes it).",
    ),
    ("reset_peer", "Resets the connection (TCP RST) `timeout` ms after the first data."),
    (
        "slicer",
        "Slices data into chunks of about `average_size` bytes (give or take `size_variation`), waiting `delay` \
         µs after each.",
    ),
    ("limit_data", "Closes the connection once `bytes` bytes have passed."),
    (
        "kafka_ack_loss",
        "Kafka: the aimed requests are written by the broker and their responses lost, then the connection closed: \
         the retry writes the batch again unless the producer is idempotent. Downstream only.",
    ),
    (
        "kafka_error",
        "Kafka: the client is told `error_code` for the aimed requests; upstream the request never reaches the \
         broker (Produce and InitProducerId), downstream the broker did the work.",
    ),
    ("kafka_latency", "Kafka: delays the aimed requests (upstream) or their responses (downstream) only; other frames flow."),
];

/// One line of help per [`super::BackendFault`] type.
pub(super) const BACKEND_FAULTS: &[(&str, &str)] = &[
    (
        "proxy_down",
        "Disables the proxy (Toxiproxy's enabled: false): open connections are dropped and new ones refused until \
         the fault ends. Every backend.",
    ),
    (
        "broker_down",
        "Broker `broker` goes down until the fault ends (mock: connections closed and refused, leadership stays; \
         docker: the container is stopped, then started; local: the process gets SIGTERM, then starts again). \
         Backends: mock, docker, local.",
    ),
    (
        "broker_pause",
        "Broker `broker` is frozen (connections stay open, nothing answers) until the fault ends: docker pauses \
         its container, local sends SIGSTOP and SIGCONT. Backends: docker, local.",
    ),
    (
        "broker_rtt",
        "Every response of broker `broker` is held back `rtt` ms until the fault ends (local and docker: a \
         downstream latency toxic on that broker's proxy only). Backends: mock, docker, local.",
    ),
    (
        "request_errors",
        "The next requests of type `request`, on any broker, are answered with `errors` in turn; leftovers are \
         dropped when the fault ends. Backends: mock.",
    ),
    (
        "leader_change",
        "Leadership of `partition` (or of every partition) moves to broker `broker`, and back when the fault \
         ends (local: Kafka's reassignment and preferred-leader election). Backends: mock, local.",
    ),
];

/// The `attributes` schema of one backend fault type: `None` when it takes none.
fn backend_fault_attributes(type_name: &str) -> Option<Value> {
    let broker = json!({
        "type": "integer", "minimum": 1, "maximum": super::limits::MAX_BROKERS,
        "description": "The broker's id, 1 to the scenario's `brokers` (mock broker ids; docker and local node.id).",
    });
    let object = |properties: Value, required: &[&str]| json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false });
    match type_name {
        "broker_down" | "broker_pause" => Some(object(json!({ "broker": broker }), &["broker"])),
        "broker_rtt" => Some(object(
            json!({ "broker": broker, "rtt": { "type": "integer", "minimum": 0, "description": "Milliseconds each response is held back." } }),
            &["broker", "rtt"],
        )),
        "request_errors" => {
            let requests: Vec<&str> = super::kafka::REQUEST_TYPES.iter().map(|(n, _)| *n).collect();
            let errors: Vec<&str> = super::kafka::ERROR_NAMES.to_vec();
            Some(object(
                json!({
                    "request": { "type": "string", "description": "The request type (Kafka's API name, snake_case).", "enum": requests },
                    "errors": {
                        "type": "array", "minItems": 1, "items": { "type": "string", "enum": errors },
                        "description": "Error codes (Kafka's names, lower case), one per request, in turn; `transport` drops the connection.",
                    },
                }),
                &["request", "errors"],
            ))
        }
        "leader_change" => Some(object(
            json!({
                "broker": broker,
                "partition": { "type": "integer", "minimum": 0, "description": "One partition; leave it out for every partition." },
            }),
            &["broker"],
        )),
        _ => None,
    }
}

/// Help for one toxic attribute, and the least value `ToxicKind::validate`
/// accepts when there is one.
pub(super) struct AttributeDoc {
    pub toxic: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub minimum: Option<i64>,
}

const fn doc(toxic: &'static str, name: &'static str, description: &'static str) -> AttributeDoc {
    AttributeDoc { toxic, name, description, minimum: None }
}

const fn doc_min(toxic: &'static str, name: &'static str, minimum: i64, description: &'static str) -> AttributeDoc {
    AttributeDoc { toxic, name, description, minimum: Some(minimum) }
}

/// Every attribute of every toxic type (checked by a unit test).
pub(super) const ATTRIBUTES: &[AttributeDoc] = &[
    doc("latency", "latency", "Milliseconds added to each chunk (default 0)."),
    doc("latency", "jitter", "Up to this many milliseconds more or less, drawn per chunk (default 0)."),
    doc_min("bandwidth", "rate", 0, "KB (1000 bytes) per second, 0 or more; 0 lets nothing through."),
    doc("slow_close", "delay", "Milliseconds the close is held back (default 0)."),
    doc("timeout", "timeout", "Milliseconds until the connection closes; 0 (the default): never."),
    doc("reset_peer", "timeout", "Milliseconds from the first data to the reset (default 0)."),
    doc_min("slicer", "average_size", 1, "Bytes per slice on average, 1 or more (required)."),
    doc_min("slicer", "size_variation", 0, "How far a slice may be from the average, 0 to average_size bytes."),
    doc("slicer", "delay", "Microseconds to wait after each slice (default 0)."),
    doc("limit_data", "bytes", "Bytes passed before the connection closes (default 0)."),
    doc("kafka_ack_loss", "connection", "After a lost response: `close` (default), `reset`, or `keep` (the client times out)."),
    doc("kafka_error", "error_code", "Kafka's name of the error (default NOT_LEADER_OR_FOLLOWER), or its number."),
    doc("kafka_latency", "latency", "Milliseconds added to each aimed frame (default 0)."),
    doc("kafka_latency", "jitter", "Up to this many milliseconds more or less, drawn per frame (default 0)."),
    // The aim, which every Kafka toxic takes (`proxy::kafka::aim`).
    doc(KAFKA, "api_key", "The requests aimed at: Kafka's API name in snake case (default `produce`) or number."),
    doc(KAFKA, "client_id", "Only the requests of clients with this `client.id` (default: any; a scenario's producer's is its name)."),
    doc(KAFKA, "topic", "Only Produce requests writing to this topic (default: any)."),
    doc(KAFKA, "partition", "Only Produce requests writing to this partition (default -1: any)."),
    doc(KAFKA, "nth", "Only the nth aimed request, 1 the first, counted on the proxy (default 0: not this way)."),
    doc(KAFKA, "first", "Only the first n aimed requests (default 0: not this way)."),
    doc(KAFKA, "every", "Every kth aimed request (default 0: not this way)."),
    doc(KAFKA, "probability", "Each aimed request with this probability, from the seeded generator (default 1)."),
];

/// The `toxic` of the attributes every Kafka toxic has (its aim).
const KAFKA: &str = "kafka_*";

/// The help of `toxic`'s attribute `name`.
pub(super) fn attribute_doc(toxic: &str, name: &str) -> Option<&'static AttributeDoc> {
    let kafka = toxic.starts_with("kafka_");
    ATTRIBUTES.iter().find(|a| a.name == name && (a.toxic == toxic || (kafka && a.toxic == KAFKA)))
}

/// What deserialising a toxic type tells about its attributes.
pub(super) struct AttributeProbe {
    /// Every attribute with its default, as serialised.
    pub defaults: Map<String, Value>,
    /// Whether an unknown attribute name is refused.
    pub denies_unknown: bool,
}

/// The attributes of a toxic type, learnt from its serde impls: `None` when
/// empty attributes do not deserialise (an attribute without a default).
pub(super) fn probe_attributes(type_name: &str) -> Option<AttributeProbe> {
    let kind: ToxicKind = serde_json::from_value(json!({ "type": type_name, "attributes": {} })).ok()?;
    let Value::Object(mut toxic) = serde_json::to_value(&kind).ok()? else { return None };
    let Some(Value::Object(defaults)) = toxic.remove("attributes") else { return None };
    let unknown = "attribute-no-toxic-has";
    let denies_unknown = serde_json::from_value::<ToxicKind>(json!({ "type": type_name, "attributes": { unknown: 0 } })).is_err();
    Some(AttributeProbe { defaults, denies_unknown })
}

fn json_type(value: &Value) -> Option<&'static str> {
    Some(match value {
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        _ => return None,
    })
}

/// The schema of one toxic type's `attributes` table.
fn attributes_schema(type_name: &str) -> (Value, bool) {
    let Some(probe) = probe_attributes(type_name) else {
        // An attribute without a default: its name cannot be learnt from
        // serde, so say only what attribute values look like.
        return (json!({ "type": "object", "additionalProperties": { "type": ["integer", "number", "string", "boolean"] } }), true);
    };
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, default) in probe.defaults {
        let mut property = Map::new();
        if let Some(t) = json_type(&default) {
            property.insert("type".into(), t.into());
        }
        let doc = attribute_doc(type_name, &name);
        if let Some(doc) = doc {
            property.insert("description".into(), doc.description.into());
        }
        match doc.and_then(|d| d.minimum) {
            // A default below the minimum means the attribute must be given.
            Some(min) if default.as_i64().is_some_and(|d| d < min) => required.push(Value::from(name.clone())),
            _ => {
                property.insert("default".into(), default);
            }
        }
        if let Some(min) = doc.and_then(|d| d.minimum) {
            property.insert("minimum".into(), min.into());
        }
        properties.insert(name, Value::Object(property));
    }
    let mut schema = json!({ "type": "object", "properties": properties });
    if probe.denies_unknown {
        schema["additionalProperties"] = false.into();
    }
    let needed = !required.is_empty();
    if needed {
        schema["required"] = required.into();
    }
    (schema, needed)
}

/// `#[schemars(transform)]` of a fault: one `oneOf` branch per toxic type,
/// each fixing `type` and saying which `attributes` that type accepts. The
/// fault's own properties (and `additionalProperties: false`) stay at the
/// top, so the branches only narrow `type` and `attributes`.
pub(super) fn toxic_variants(schema: &mut Schema) {
    let variants: Vec<Value> = ToxicKind::TYPE_NAMES
        .iter()
        .map(|&type_name| {
            let (attributes, needed) = attributes_schema(type_name);
            let mut branch = json!({
                "title": type_name,
                "properties": { "type": { "const": type_name }, "attributes": attributes },
                "required": if needed { json!(["type", "attributes"]) } else { json!(["type"]) },
            });
            if let Some((_, description)) = TOXICS.iter().find(|(t, _)| *t == type_name) {
                branch["description"] = (*description).into();
            }
            branch
        })
        .chain(BACKEND_FAULTS.iter().map(|&(type_name, description)| match backend_fault_attributes(type_name) {
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

    #[test]
    fn every_toxic_type_has_help_and_every_attribute_is_described() {
        for &type_name in ToxicKind::TYPE_NAMES {
            assert!(
                TOXICS.iter().any(|(t, _)| *t == type_name),
                "toxic type `{type_name}` has no help line in TOXICS (src/scenario/schema.rs)"
            );
            let probe = probe_attributes(type_name).unwrap_or_else(|| panic!("`{type_name}` does not deserialise from empty attributes"));
            for name in probe.defaults.keys() {
                assert!(
                    attribute_doc(type_name, name).is_some(),
                    "attribute `{type_name}.{name}` has no help in ATTRIBUTES (src/scenario/schema.rs)"
                );
            }
        }
        for a in ATTRIBUTES {
            let toxic = if a.toxic == KAFKA { "kafka_latency" } else { a.toxic };
            let probe = probe_attributes(toxic).unwrap_or_else(|| panic!("unknown toxic type `{}`", a.toxic));
            assert!(probe.defaults.contains_key(a.name), "ATTRIBUTES describes `{}.{}`, which does not exist", a.toxic, a.name);
        }
        for (t, _) in TOXICS {
            assert!(ToxicKind::TYPE_NAMES.contains(t), "TOXICS describes `{t}`, which is not a toxic type");
        }
    }

    /// Each minimum in [`ATTRIBUTES`] is what `validate` enforces: the
    /// attributes at their minimums pass, one below fails.
    #[test]
    fn attribute_minimums_match_validate() {
        for &type_name in ToxicKind::TYPE_NAMES {
            let docs: Vec<&AttributeDoc> = ATTRIBUTES.iter().filter(|a| a.toxic == type_name && a.minimum.is_some()).collect();
            let mut lowest = Map::new();
            for a in &docs {
                lowest.insert(a.name.into(), a.minimum.unwrap().into());
            }
            let kind = |attributes: &Map<String, Value>| -> ToxicKind {
                serde_json::from_value(json!({ "type": type_name, "attributes": attributes })).unwrap()
            };
            assert_eq!(kind(&lowest).validate(), Ok(()), "{type_name} at its minimums");
            for a in docs {
                let mut below = lowest.clone();
                below.insert(a.name.into(), (a.minimum.unwrap() - 1).into());
                assert!(kind(&below).validate().is_err(), "{type_name}.{} below its minimum", a.name);
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
