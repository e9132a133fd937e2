//! One sequence of Toxiproxy API calls against real Toxiproxy 2.12.0
//! (`toxiproxy-server`, FAULTLAB_TOXIPROXY_SERVER) and against faultlab's
//! API, side by side: every endpoint, every toxic type with defaults and
//! with attributes, and the error cases. Status and body are compared field
//! by field; only the listen addresses each server assigns are normalised.
//! Where faultlab answers differently on purpose, [`DELIBERATE`] names the
//! step, the fields that differ and why (README's proxy section lists the
//! same); every other field must be equal, and every listed difference must
//! still be there (a fixed one is removed from the list).

use crate::common;

use std::collections::BTreeSet;
use std::net::SocketAddr;

use common::TestApi;
use common::components::{ToxiproxyServer, provisioned, skip};
use reqwest::Method;
use serde_json::{Value, json};

/// The differences kept on purpose: (steps, fields that differ in each,
/// why). Besides these, Toxiproxy 2.12.0 puts a stray `"Logger": {}` (an
/// exported Go struct field with no meaning) in every proxy it shows;
/// faultlab does not, and [`normalise`] drops it from Toxiproxy's bodies.
const DELIBERATE: &[(&[&str], &[&str], &str)] = &[
    (&["version"], &["body.version"], "faultlab names itself and its version (`faultlab-x.y.z`)"),
    (
        &["create: listen not host:port", "populate: bad listen in the middle"],
        &["status", "body.status", "body.error"],
        "the request's fault: 400 (Toxiproxy: 500), and the text names the address the same way Rust's parser does",
    ),
    (
        &[
            "create: bad JSON",
            "create: empty body",
            "create: an array",
            "create: name not a string",
            "update: bad JSON",
            "update: enabled not a bool",
            "toxic: attribute not a number",
            "toxic: attribute beyond int64",
            "toxic: bad JSON",
            "toxic update: bad JSON",
        ],
        &["body.error"],
        "`bad request body: ...` names the field and what is accepted instead of Go's decoder message (same status)",
    ),
    (
        &["populate: bad JSON", "populate: not an array"],
        &["body.error", "body.proxies"],
        "the bad-body text as above, and `\"proxies\": []` for Go's `null` as below",
    ),
    (&["toxic: unknown type", "toxic: no type"], &["body.error"], "`invalid toxic type` also names the type given and the accepted ones"),
    (
        &[
            "toxic slicer: defaults",
            "toxic: slicer variation above average",
            "toxic: negative bandwidth rate",
            "toxic: unknown attribute",
            "toxic: toxicity above 1",
            "toxic: toxicity below 0",
            "toxic update: toxicity out of range",
        ],
        &["status", "body.status", "body.error", "body.name", "body.type", "body.stream", "body.toxicity", "body.attributes"],
        "refused with 400 naming the attribute: on a slicer average_size of 0 Toxiproxy's goroutine spins forever, on a \
         variation above the average or a negative bandwidth rate it panics on the first chunk it cuts; an unknown attribute is a typo \
         Toxiproxy ignores; a toxicity outside 0..1 is not a probability (Toxiproxy stores it: above 1 is always, below 0 never)",
    ),
    (
        &[
            "toxic slicer: defaults, removed",
            "toxic: slicer variation above average, removed",
            "toxic: negative bandwidth rate, removed",
            "toxic: unknown attribute, removed",
            "toxic: toxicity above 1, removed",
            "toxic: toxicity below 0, removed",
        ],
        &["status", "body"],
        "the toxic refused above is not there to remove (Toxiproxy: 204)",
    ),
    (
        &["toxic: stream in capitals"],
        &["body.stream"],
        "the stream is accepted in any case, as in Toxiproxy, but shown as `upstream`/`downstream`",
    ),
    (&["populate: empty", "populate: error in the middle"], &["body.proxies"], "`\"proxies\": []` rather than Go's `null` for no proxies"),
];

/// A call of the sequence: a label for messages and [`DELIBERATE`], the
/// method, the path, and the body (if any).
struct Step {
    label: String,
    method: Method,
    path: String,
    body: Option<String>,
}

fn step(label: &str, method: Method, path: &str, body: Option<Value>) -> Step {
    Step { label: label.into(), method, path: path.into(), body: body.map(|b| b.to_string()) }
}

/// A call with a body that is not JSON (or not what the route expects).
fn raw(label: &str, method: Method, path: &str, body: &str) -> Step {
    Step { label: label.into(), method, path: path.into(), body: Some(body.into()) }
}

const TYPES: &[&str] = &["latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data"];

/// Attributes other than the defaults, per type.
fn attributes(kind: &str) -> Value {
    match kind {
        "latency" => json!({ "latency": 120, "jitter": 15 }),
        "bandwidth" => json!({ "rate": 64 }),
        "slow_close" => json!({ "delay": 250 }),
        "timeout" => json!({ "timeout": 1500 }),
        "reset_peer" => json!({ "timeout": 30 }),
        "slicer" => json!({ "average_size": 64, "size_variation": 16, "delay": 10 }),
        "limit_data" => json!({ "bytes": 4096 }),
        _ => unreachable!(),
    }
}

/// Values at the edge of int64, which Toxiproxy multiplies into durations
/// with Go's wrapping arithmetic (see the README's proxy section).
fn huge(kind: &str) -> Value {
    const MAX: i64 = i64::MAX;
    match kind {
        "latency" => json!({ "latency": MAX, "jitter": MAX }),
        "bandwidth" => json!({ "rate": MAX }),
        "slow_close" => json!({ "delay": MAX }),
        "timeout" => json!({ "timeout": MAX }),
        "reset_peer" => json!({ "timeout": MAX }),
        "slicer" => json!({ "average_size": MAX, "size_variation": 0, "delay": MAX }),
        "limit_data" => json!({ "bytes": MAX }),
        _ => unreachable!(),
    }
}

fn sequence(upstream: &str) -> Vec<Step> {
    use Method as M;
    let proxy = |name: &str| json!({ "name": name, "listen": "127.0.0.1:0", "upstream": upstream });
    let mut steps = vec![
        step("version", M::GET, "/version", None),
        step("list: empty", M::GET, "/proxies", None),
        step("create", M::POST, "/proxies", Some(proxy("a"))),
        step("create: duplicate name", M::POST, "/proxies", Some(proxy("a"))),
        step(
            "create: disabled",
            M::POST,
            "/proxies",
            Some(json!({ "name": "b", "listen": "127.0.0.1:0", "upstream": upstream, "enabled": false })),
        ),
        step("create: no name", M::POST, "/proxies", Some(json!({ "listen": "127.0.0.1:0", "upstream": upstream }))),
        step("create: no upstream", M::POST, "/proxies", Some(json!({ "name": "x", "listen": "127.0.0.1:0" }))),
        step("create: no listen", M::POST, "/proxies", Some(json!({ "name": "nolisten", "upstream": upstream }))),
        step("create: listen not host:port", M::POST, "/proxies", Some(json!({ "name": "x", "listen": "nonsense", "upstream": upstream }))),
        raw("create: bad JSON", M::POST, "/proxies", "{\"name\": "),
        raw("create: empty body", M::POST, "/proxies", ""),
        raw("create: an array", M::POST, "/proxies", "[]"),
        step("create: name not a string", M::POST, "/proxies", Some(json!({ "name": 7, "upstream": upstream }))),
        step("list", M::GET, "/proxies", None),
        step("show", M::GET, "/proxies/a", None),
        step("show: unknown proxy", M::GET, "/proxies/zz", None),
        step("disable", M::POST, "/proxies/a", Some(json!({ "enabled": false }))),
        step("show: disabled", M::GET, "/proxies/a", None),
        step("enable", M::POST, "/proxies/a", Some(json!({ "enabled": true }))),
        step("update: upstream", M::POST, "/proxies/b", Some(json!({ "upstream": upstream, "enabled": true }))),
        raw("update: bad JSON", M::POST, "/proxies/a", "{"),
        step("update by PATCH", M::PATCH, "/proxies/a", Some(json!({ "enabled": true, "upstream": upstream }))),
        step("update: unknown proxy", M::POST, "/proxies/zz", Some(json!({ "enabled": false }))),
        step("update: enabled not a bool", M::POST, "/proxies/a", Some(json!({ "enabled": "yes" }))),
        step("toxics: none", M::GET, "/proxies/a/toxics", None),
    ];
    for kind in TYPES {
        steps.push(step(&format!("toxic {kind}: defaults"), M::POST, "/proxies/a/toxics", Some(json!({ "type": kind }))));
        if *kind == "slicer" {
            // faultlab refuses it (DELIBERATE): without it, both lists stay alike.
            steps.push(step("toxic slicer: defaults, removed", M::DELETE, "/proxies/a/toxics/slicer_downstream", None));
        }
        let body =
            json!({ "name": format!("{kind}_up"), "type": kind, "stream": "upstream", "toxicity": 0.5, "attributes": attributes(kind) });
        steps.push(step(&format!("toxic {kind}: attributes"), M::POST, "/proxies/a/toxics", Some(body)));
        steps.push(step(&format!("toxic {kind}: show"), M::GET, &format!("/proxies/a/toxics/{kind}_up"), None));
        let body = json!({ "name": format!("{kind}_huge"), "type": kind, "attributes": huge(kind) });
        steps.push(step(&format!("toxic {kind}: int64 edge"), M::POST, "/proxies/b/toxics", Some(body)));
    }
    steps.extend([
        step("toxics: all types", M::GET, "/proxies/a/toxics", None),
        step("toxics: int64 edges", M::GET, "/proxies/b/toxics", None),
        step("show: with toxics", M::GET, "/proxies/a", None),
        step("toxic: duplicate name", M::POST, "/proxies/a/toxics", Some(json!({ "type": "latency" }))),
        step(
            "toxic: duplicate name, other type",
            M::POST,
            "/proxies/a/toxics",
            Some(json!({ "name": "latency_downstream", "type": "timeout" })),
        ),
        step("toxic: unknown type", M::POST, "/proxies/a/toxics", Some(json!({ "type": "nonsense" }))),
        step("toxic: no type", M::POST, "/proxies/a/toxics", Some(json!({ "name": "notype" }))),
        step("toxic: bad stream", M::POST, "/proxies/a/toxics", Some(json!({ "type": "latency", "stream": "sideways" }))),
        step(
            "toxic: stream in capitals",
            M::POST,
            "/proxies/a/toxics",
            Some(json!({ "name": "caps", "type": "latency", "stream": "UPSTREAM" })),
        ),
        step("toxic: stream in capitals, removed", M::DELETE, "/proxies/a/toxics/caps", None),
        step("toxic: toxicity above 1", M::POST, "/proxies/a/toxics", Some(json!({ "name": "t1", "type": "latency", "toxicity": 1.5 }))),
        step("toxic: toxicity above 1, removed", M::DELETE, "/proxies/a/toxics/t1", None),
        step("toxic: toxicity below 0", M::POST, "/proxies/a/toxics", Some(json!({ "name": "t2", "type": "latency", "toxicity": -0.1 }))),
        step("toxic: toxicity below 0, removed", M::DELETE, "/proxies/a/toxics/t2", None),
        step(
            "toxic: unknown attribute",
            M::POST,
            "/proxies/a/toxics",
            Some(json!({ "name": "u1", "type": "latency", "attributes": { "latncy": 5 } })),
        ),
        step("toxic: unknown attribute, removed", M::DELETE, "/proxies/a/toxics/u1", None),
        step(
            "toxic: slicer variation above average",
            M::POST,
            "/proxies/a/toxics",
            Some(json!({ "name": "sv", "type": "slicer", "attributes": { "average_size": 10, "size_variation": 20 } })),
        ),
        step("toxic: slicer variation above average, removed", M::DELETE, "/proxies/a/toxics/sv", None),
        step(
            "toxic: negative bandwidth rate",
            M::POST,
            "/proxies/a/toxics",
            Some(json!({ "name": "neg", "type": "bandwidth", "attributes": { "rate": -1 } })),
        ),
        step("toxic: negative bandwidth rate, removed", M::DELETE, "/proxies/a/toxics/neg", None),
        step("toxic: toxicity 0", M::POST, "/proxies/a/toxics", Some(json!({ "name": "t0", "type": "latency", "toxicity": 0 }))),
        step(
            "toxic: toxicity 0.3",
            M::POST,
            "/proxies/a/toxics",
            Some(json!({ "name": "t03", "type": "bandwidth", "stream": "upstream", "toxicity": 0.3, "attributes": { "rate": 1 } })),
        ),
        step("toxic update by PATCH", M::PATCH, "/proxies/a/toxics/t03", Some(json!({ "attributes": { "rate": 3 } }))),
        step("toxic update: toxicity 0.7", M::POST, "/proxies/a/toxics/t03", Some(json!({ "toxicity": 0.7, "attributes": { "rate": 2 } }))),
        step(
            "toxic: attribute not a number",
            M::POST,
            "/proxies/a/toxics",
            Some(json!({ "name": "t3", "type": "latency", "attributes": { "latency": "x" } })),
        ),
        step(
            "toxic: attribute beyond int64",
            M::POST,
            "/proxies/a/toxics",
            Some(json!({ "name": "t4", "type": "latency", "attributes": { "latency": 1e19 } })),
        ),
        raw("toxic: bad JSON", M::POST, "/proxies/a/toxics", "{\"type\""),
        step("toxic: unknown proxy", M::POST, "/proxies/zz/toxics", Some(json!({ "type": "latency" }))),
        step("toxics: unknown proxy", M::GET, "/proxies/zz/toxics", None),
        step("toxic show: unknown", M::GET, "/proxies/a/toxics/zz", None),
        step("toxic update: attributes", M::POST, "/proxies/a/toxics/latency_up", Some(json!({ "attributes": { "latency": 30 } }))),
        step("toxic update: toxicity", M::POST, "/proxies/a/toxics/latency_up", Some(json!({ "toxicity": 0.25 }))),
        step("toxic update: toxicity out of range", M::POST, "/proxies/a/toxics/latency_up", Some(json!({ "toxicity": 2 }))),
        step(
            "toxic update: stream and type stay",
            M::POST,
            "/proxies/a/toxics/slicer_up",
            Some(json!({ "stream": "downstream", "type": "latency", "attributes": { "delay": 5 } })),
        ),
        raw("toxic update: bad JSON", M::POST, "/proxies/a/toxics/latency_up", "nope"),
        step("toxic update: unknown toxic", M::POST, "/proxies/a/toxics/zz", Some(json!({ "toxicity": 1 }))),
        step("toxic update: unknown proxy", M::POST, "/proxies/zz/toxics/latency_up", Some(json!({ "toxicity": 1 }))),
        step("toxic delete", M::DELETE, "/proxies/a/toxics/latency_up", None),
        step("toxic delete: again", M::DELETE, "/proxies/a/toxics/latency_up", None),
        step("toxic delete: unknown proxy", M::DELETE, "/proxies/zz/toxics/latency_up", None),
        step("toxics: after delete", M::GET, "/proxies/a/toxics", None),
        step("populate", M::POST, "/populate", Some(json!([proxy("c"), proxy("d")]))),
        step(
            "populate: existing, same config",
            M::POST,
            "/populate",
            Some(json!([{ "name": "c", "listen": "127.0.0.1:0", "upstream": upstream }])),
        ),
        step(
            "populate: error in the middle",
            M::POST,
            "/populate",
            Some(json!([proxy("e"), { "name": "", "upstream": upstream }, proxy("f")])),
        ),
        step(
            "populate: bad listen in the middle",
            M::POST,
            "/populate",
            Some(json!([proxy("g"), { "name": "h", "listen": "nonsense", "upstream": upstream }, proxy("i")])),
        ),
        step("populate: empty", M::POST, "/populate", Some(json!([]))),
        raw("populate: bad JSON", M::POST, "/populate", "[{"),
        step("populate: not an array", M::POST, "/populate", Some(json!({ "name": "j" }))),
        step("list: after populate", M::GET, "/proxies", None),
        step("reset", M::POST, "/reset", None),
        step("list: after reset", M::GET, "/proxies", None),
        step("delete", M::DELETE, "/proxies/a", None),
        step("delete: again", M::DELETE, "/proxies/a", None),
        step("show: deleted", M::GET, "/proxies/a", None),
        step("list: at the end", M::GET, "/proxies", None),
        step("unknown route", M::GET, "/nope", None),
        step("method not allowed", M::PUT, "/proxies", None),
    ]);
    steps
}

/// Send one step to the API at `addr`: the status and the body as JSON (or
/// as a JSON string when it is not JSON).
async fn send(addr: SocketAddr, step: &Step) -> (u16, Value) {
    let client = crate::common::http_client().build().unwrap();
    let mut request = client.request(step.method.clone(), format!("http://{addr}{}", step.path));
    if let Some(body) = &step.body {
        request = request.body(body.clone());
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{}: {} {}: {e}", step.label, step.method, step.path));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Listen addresses are assigned by each server (port 0): the port of any
/// `"listen": "<host>:<port>"` other than 0 becomes `<port>`. Toxiproxy's
/// stray `"Logger": {}` is dropped (see [`DELIBERATE`]); whether there was
/// one is returned, so the note there stays true.
fn normalise(value: &mut Value) -> bool {
    let mut logger = false;
    match value {
        Value::Object(map) => {
            logger |= map.get("Logger") == Some(&json!({})) && map.remove("Logger").is_some();
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(text) if key == "listen" => {
                        if let Some((host, port)) = text.rsplit_once(':')
                            && port != "0"
                            && port.parse::<u16>().is_ok()
                        {
                            *text = format!("{host}:<port>");
                        }
                    }
                    other => logger |= normalise(other),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                logger |= normalise(item);
            }
        }
        _ => {}
    }
    logger
}

/// The paths of the fields where `a` and `b` differ: a field missing on
/// one side differs from any value, `null` included; numbers compare as
/// JSON text (`1` is not `1.0`), as a strict client would see them.
fn diff(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut BTreeSet<String>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            for key in x.keys().chain(y.keys()).collect::<BTreeSet<_>>() {
                diff(&format!("{path}.{key}"), x.get(key), y.get(key), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), Some(x), Some(y), out);
            }
        }
        (Some(x), Some(y)) if x.to_string() == y.to_string() => {}
        _ => {
            out.insert(path.trim_start_matches('.').to_string());
        }
    }
}

#[tokio::test]
async fn one_sequence_of_api_calls_answers_as_toxiproxy_does() {
    let server = match provisioned("FAULTLAB_TOXIPROXY_SERVER", "Toxiproxy 2.12.0's toxiproxy-server") {
        Ok(server) => server,
        Err(why) => return skip(&why),
    };
    let toxiproxy = ToxiproxyServer::start(&server).await;
    let faultlab = TestApi::start().await;
    let upstream = common::echo_server().await.to_string();

    let mut unexpected = Vec::new();
    let (mut seen, mut logger) = (BTreeSet::new(), false);
    for step in sequence(&upstream) {
        let (theirs, ours) = (send(toxiproxy.addr, &step).await, send(faultlab.addr, &step).await);
        let (mut a, mut b) = (json!({ "status": theirs.0, "body": theirs.1 }), json!({ "status": ours.0, "body": ours.1 }));
        logger |= normalise(&mut a);
        assert!(!normalise(&mut b), "{}: faultlab shows a `Logger` field: {b}", step.label);
        let mut differs = BTreeSet::new();
        diff("", Some(&a), Some(&b), &mut differs);
        let listed: Vec<_> = DELIBERATE.iter().filter(|(steps, ..)| steps.contains(&step.label.as_str())).collect();
        let allowed: BTreeSet<String> = listed.iter().flat_map(|(_, fields, _)| fields.iter().map(|f| f.to_string())).collect();
        if !listed.is_empty() {
            seen.insert(step.label.clone());
        }
        if differs != allowed {
            let body = step.body.as_deref().unwrap_or("");
            unexpected.push(format!(
                "{} ({} {} {body}):\n  differs: {differs:?}\n  listed:  {allowed:?}\n  Toxiproxy: {a}\n  faultlab:  {b}",
                step.label, step.method, step.path
            ));
        }
    }
    let unknown: Vec<_> = DELIBERATE.iter().flat_map(|(steps, ..)| steps.iter()).filter(|s| !seen.contains(**s)).collect();
    assert!(unknown.is_empty(), "DELIBERATE names steps the sequence does not have: {unknown:?}");
    assert!(logger, "Toxiproxy no longer shows `Logger`: drop the note on DELIBERATE");
    assert!(unexpected.is_empty(), "{} step(s) differ from Toxiproxy other than as listed:\n{}", unexpected.len(), unexpected.join("\n"));
}
