//! GET /openapi.json: an OpenAPI 3.1 description of the service.
//!
//! Built as a serde_json value rather than derived with utoipa: five
//! endpoints do not justify a proc-macro dependency, and the document sits
//! next to the code it describes (tests/serve/http.rs checks that it names
//! every route).

use serde_json::{Value, json};

use super::params::DEFAULT_TOPIC;
use super::problem::PROBLEM_JSON;

fn query(name: &str, required: bool, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": required, "schema": schema, "description": description })
}

fn problem(description: &str) -> Value {
    json!({ "description": description, "content": { PROBLEM_JSON: { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

fn problem_retry(description: &str) -> Value {
    let mut response = problem(description);
    response["headers"] = json!({ "Retry-After": { "description": "Seconds to wait before retrying", "schema": { "type": "integer" } } });
    response
}

fn json_body(description: &str, schema: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

pub fn document() -> Value {
    let send_parameters = json!([
        query(
            "mode",
            true,
            json!({ "type": "string", "enum": ["plain", "idempotent"] }),
            "plain: acks=1, enable.idempotence=false; idempotent: acks=all, enable.idempotence=true"
        ),
        query(
            "eventId",
            true,
            json!({ "type": "string", "minLength": 1 }),
            "The event's id; written into the message value and the default key"
        ),
        query(
            "topic",
            false,
            json!({ "type": "string", "default": DEFAULT_TOPIC, "pattern": "^[a-zA-Z0-9._-]{1,249}$" }),
            "Topic to write to"
        ),
        query(
            "sendMode",
            false,
            json!({ "type": "string", "enum": ["sync", "async"], "default": "sync" }),
            "sync waits for the broker's acknowledgement; async answers 202 at once"
        ),
        query("key", false, json!({ "type": "string", "minLength": 1 }), "Record key; defaults to the eventId"),
        query(
            "partition",
            false,
            json!({ "type": "integer", "minimum": 0, "maximum": i32::MAX }),
            "Explicit partition; default: chosen by the key. Any integer from 0 to 2147483647 is a valid parameter, but the partition \
             must also exist: one at or above the topic's partition count is answered 400 naming the partition and the count"
        ),
    ]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "faultlab serve: reliable idempotent Kafka producer",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Produces one JSON message per request with a plain or an idempotent librdkafka producer. \
                Unknown or repeated query parameters are rejected with 400. Every error answer is an RFC 7807 problem document, \
                including 405 (another method on a known path; Allow names the accepted one), 414 (a path and query over 8192 bytes) \
                and 431 (more than 64 header lines or over 16384 header bytes)."
        },
        "paths": {
            "/health": { "get": {
                "summary": "Liveness",
                "responses": { "200": { "description": "The service is up", "content": { "text/plain": { "schema": { "type": "string", "const": "OK" } } } } }
            }},
            "/api/v1/send": { "post": {
                "summary": "Produce one message",
                "parameters": send_parameters,
                "responses": {
                    "200": json_body("sync: acknowledged by the broker", "SendResult"),
                    "202": {
                        "description": "async: queued; poll the Location",
                        "headers": { "Location": { "description": "/api/v1/status?requestId=ID", "schema": { "type": "string" } } },
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Accepted" } } }
                    },
                    "400": problem("A parameter is missing, invalid or unknown, or the topic or partition does not exist (a sync send checks the \
                        cluster's metadata first and answers at once; an async one is accepted and ends in ERROR)"),
                    "500": problem("The producer could not be created (a bad librdkafka property)"),
                    "502": problem("Kafka did not accept the message (librdkafka's error text in `error`)"),
                    "503": problem_retry("librdkafka's queue is full, the async status store is full of PENDING sends, or the service is shutting down"),
                    "504": problem("message.timeout.ms expired; the message may still have been written")
                }
            }},
            "/api/v1/status": { "get": {
                "summary": "The outcome of an async send; without any query, the account of every send",
                "parameters": [ query("requestId", false, json!({ "type": "string", "minLength": 1 }), "The requestId from a 202 answer; leave the query out for the account") ],
                "responses": {
                    "200": { "description": "With requestId: PENDING, OK or ERROR. Without a query: the counts per mode", "content": { "application/json": {
                        "schema": { "oneOf": [ { "$ref": "#/components/schemas/Status" }, { "$ref": "#/components/schemas/Account" } ] } } } },
                    "400": problem("requestId is empty or repeated, or an unknown parameter was given"),
                    "404": problem("No such requestId: never issued, expired or evicted")
                }
            }},
            "/metrics": { "get": {
                "summary": "Prometheus metrics",
                "responses": { "200": { "description": "Text exposition format 0.0.4", "content": { "text/plain": { "schema": { "type": "string" } } } } }
            }},
            "/openapi.json": { "get": {
                "summary": "This document",
                "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": { "schema": { "type": "object" } } } } }
            }}
        },
        "components": { "schemas": {
            "SendResult": {
                "type": "object",
                "required": ["eventId", "mode", "sendMode", "topic", "key", "partition", "offset"],
                "properties": {
                    "eventId": { "type": "string" },
                    "mode": { "type": "string", "enum": ["plain", "idempotent"] },
                    "sendMode": { "type": "string", "enum": ["sync", "async"] },
                    "topic": { "type": "string" },
                    "key": { "type": "string" },
                    "partition": { "type": "integer" },
                    "offset": { "type": ["integer", "null"], "description": "null: acknowledged without an offset (a deduplicated idempotent retry)" }
                }
            },
            "Accepted": {
                "type": "object",
                "required": ["requestId", "eventId", "state"],
                "properties": {
                    "requestId": { "type": "string" },
                    "eventId": { "type": "string" },
                    "state": { "const": "PENDING" }
                }
            },
            "Status": {
                "type": "object",
                "required": ["requestId", "eventId", "state"],
                "properties": {
                    "requestId": { "type": "string" },
                    "eventId": { "type": "string" },
                    "state": { "type": "string", "enum": ["PENDING", "OK", "ERROR"] },
                    "topic": { "type": "string", "description": "OK only" },
                    "partition": { "type": "integer", "description": "OK only" },
                    "offset": { "type": ["integer", "null"], "description": "OK only" },
                    "error": { "type": "string", "description": "ERROR only: librdkafka's error text" },
                    "status": { "type": "integer", "description": "ERROR only: the HTTP status a sync send would have answered" }
                }
            },
            "Account": {
                "type": "object",
                "description": "Every message accepted (handed to librdkafka, sync or async) since the service started, per mode",
                "required": ["plain", "idempotent"],
                "properties": { "plain": { "$ref": "#/components/schemas/ModeAccount" }, "idempotent": { "$ref": "#/components/schemas/ModeAccount" } }
            },
            "ModeAccount": {
                "type": "object",
                "description": "accepted = delivered + failed + undelivered + pending",
                "required": ["accepted", "delivered", "failed", "undelivered", "pending", "possiblyWritten"],
                "properties": {
                    "accepted": { "type": "integer" },
                    "delivered": { "type": "integer", "description": "Acknowledged by the broker" },
                    "failed": { "type": "integer", "description": "librdkafka gave up with an error (not acknowledged)" },
                    "undelivered": { "type": "integer", "description": "Purged at shutdown when the flush ran out (not acknowledged)" },
                    "pending": { "type": "integer", "description": "Waiting for librdkafka's delivery report" },
                    "possiblyWritten": { "type": "integer", "description": "Of the failed and undelivered: sent without an answer, so possibly in the topic" }
                }
            },
            "Problem": {
                "type": "object",
                "description": "RFC 7807 problem details",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": { "type": "string", "format": "uri" },
                    "title": { "type": "string" },
                    "status": { "type": "integer" },
                    "detail": { "type": "string" },
                    "invalid-params": { "type": "array", "items": {
                        "type": "object", "required": ["name", "reason"],
                        "properties": { "name": { "type": "string" }, "reason": { "type": "string" } }
                    }},
                    "error": { "type": "string", "description": "librdkafka's error text" }
                }
            }
        }}
    })
}
