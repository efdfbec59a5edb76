//! `GET /openapi.json`: an OpenAPI 3.1 document that lists every route the router serves with
//! its methods, declares the three ways to authenticate, and whose references all resolve.

use std::collections::HashSet;

use serde_json::Value;

use crate::support::TestServer;

/// The routes of the router (health, metrics, calls, admin, public) and their methods.
const ROUTES: &[(&str, &[&str])] = &[
    ("/healthz", &["get"]),
    ("/readyz", &["get"]),
    ("/metrics", &["get"]),
    ("/openapi.json", &["get"]),
    ("/api/v1/calls", &["get", "post"]),
    ("/api/v1/calls/{id}", &["get"]),
    ("/api/v1/calls/{id}/connected", &["post"]),
    ("/api/v1/calls/{id}/hangup", &["post"]),
    ("/api/v1/calls/{id}/failure", &["post"]),
    ("/api/v1/calls/{id}/timeline", &["get"]),
    ("/api/v1/orgs", &["get", "post"]),
    ("/api/v1/orgs/{id}", &["get", "patch"]),
    ("/api/v1/api-keys", &["get", "post"]),
    ("/api/v1/api-keys/{id}", &["delete"]),
    ("/api/v1/campaigns", &["get", "post"]),
    ("/api/v1/campaigns/{id}", &["get", "patch", "delete"]),
    ("/api/v1/custom-tags", &["get", "post"]),
    ("/api/v1/custom-tags/{key}", &["delete"]),
    ("/api/v1/webhooks/incoming", &["get", "post"]),
    (
        "/api/v1/webhooks/incoming/{id}",
        &["get", "patch", "delete"],
    ),
    ("/api/v1/webhooks/incoming/{id}/rotate-key", &["post"]),
    ("/api/v1/webhooks/incoming/requests", &["get"]),
    ("/api/v1/webhooks/incoming/requests/{id}", &["get"]),
    ("/api/v1/webhooks/incoming/requests/{id}/replay", &["post"]),
    ("/api/v1/webhooks/outgoing", &["get", "post"]),
    (
        "/api/v1/webhooks/outgoing/{id}",
        &["get", "patch", "put", "delete"],
    ),
    ("/api/v1/webhooks/outgoing/{id}/test", &["post"]),
    ("/api/v1/webhooks/outgoing/requests", &["get"]),
    ("/api/v1/webhooks/outgoing/requests/{id}", &["get"]),
    ("/api/v1/webhooks/outgoing/requests/{id}/resend", &["post"]),
    ("/api/v1/event-types", &["get"]),
    ("/call-data", &["get", "post"]),
    ("/call_data", &["get", "post"]),
    ("/update-revenue", &["get", "post"]),
    ("/update_revenue", &["get", "post"]),
    ("/update-tags", &["get", "post"]),
    ("/update_tags", &["get", "post"]),
    ("/update-fields", &["get", "post"]),
    ("/update_fields", &["get", "post"]),
    ("/api/v1/webhooks/incoming/{id}/update-revenue", &["post"]),
    ("/api/v1/webhooks/incoming/{id}/update-tags", &["post"]),
];

/// The public inbound paths, which take `moja_auth_key`.
fn is_public(path: &str) -> bool {
    ["/call-data", "/call_data", "/update-", "/update_"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
        || path.ends_with("/update-revenue")
        || path.ends_with("/update-tags")
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every `$ref` in `value`, with where it was found.
fn refs<'a>(value: &'a Value, at: String, found: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                match (key.as_str(), member) {
                    ("$ref", Value::String(target)) => found.push((at.clone(), target)),
                    _ => refs(member, format!("{at}/{key}"), found),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                refs(item, format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_json_documents_every_route_and_resolves() {
    let server = TestServer::spawn().await;
    let response = server
        .client
        .get(server.url("/openapi.json"))
        .send()
        .await
        .expect("GET /openapi.json");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let doc: Value = response.json().await.expect("a JSON document");

    let version = doc["openapi"].as_str().expect("`openapi` is a string");
    assert!(version.starts_with("3.1."), "openapi {version}");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(doc["info"]["title"].as_str().is_some_and(|t| !t.is_empty()));

    // Every route the router serves, with each of its methods.
    let paths = doc["paths"].as_object().expect("`paths` is an object");
    for (path, methods) in ROUTES {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"));
        for method in *methods {
            let operation = &item[*method];
            assert!(operation.is_object(), "{method} {path} is not documented");
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| r.keys().any(|status| status.starts_with('2'))),
                "{method} {path} documents no success response"
            );
            if is_public(path) {
                let parameters = operation["parameters"].as_array().expect("parameters");
                assert!(
                    parameters
                        .iter()
                        .any(|p| p["name"] == "moja_auth_key" && p["in"] == "query"),
                    "{method} {path} lacks the moja_auth_key query parameter"
                );
                assert_eq!(
                    operation["security"],
                    serde_json::json!([{"moja_auth_key": []}]),
                    "{method} {path}"
                );
                for status in ["200", "400", "401", "413", "415", "429", "500"] {
                    assert!(
                        operation["responses"][status].is_object(),
                        "{method} {path} lacks {status}"
                    );
                }
                if *method == "post" {
                    let content = &operation["requestBody"]["content"];
                    assert!(content["application/json"]["schema"].is_object());
                    assert!(content["application/x-www-form-urlencoded"]["schema"].is_object());
                }
            }
        }
    }
    let admin = &paths["/api/v1/campaigns"]["post"];
    assert_eq!(admin["security"], serde_json::json!([{"org_api_key": []}]));
    assert!(admin["requestBody"]["content"]["application/json"]["schema"].is_object());
    for status in ["201", "400", "401", "403"] {
        assert!(
            admin["responses"][status].is_object(),
            "campaigns lack {status}"
        );
    }
    assert_eq!(
        paths["/api/v1/orgs"]["post"]["security"],
        serde_json::json!([{"operator_token": []}])
    );

    // Outgoing webhooks: their own view (not the incoming webhooks'), every event type, an
    // optional test body, and resend's 202 and 409.
    let created = &paths["/api/v1/webhooks/outgoing"]["post"]["responses"]["201"];
    assert_eq!(
        created["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/OutgoingWebhookView"
    );
    let events = &doc["components"]["schemas"]["EventTypeView"]["enum"];
    assert_eq!(events.as_array().map(Vec::len), Some(11), "{events}");
    let test_body = &paths["/api/v1/webhooks/outgoing/{id}/test"]["post"]["requestBody"];
    assert!(test_body["content"]["application/json"]["schema"].is_object());
    assert_ne!(
        test_body["required"], true,
        "the test send's body is optional"
    );
    let resend = &paths["/api/v1/webhooks/outgoing/requests/{id}/resend"]["post"];
    for status in ["202", "404", "409"] {
        assert!(
            resend["responses"][status].is_object(),
            "resend lacks {status}"
        );
    }

    // Operation ids are unique.
    let mut ids = HashSet::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(id) = item[method]["operationId"].as_str() {
                assert!(
                    ids.insert(id.to_owned()),
                    "{method} {path}: duplicate id {id}"
                );
            }
        }
    }

    // The three ways to authenticate.
    let schemes = &doc["components"]["securitySchemes"];
    for name in ["org_api_key", "operator_token"] {
        assert_eq!(schemes[name]["type"], "http", "{name}");
        assert_eq!(schemes[name]["scheme"], "bearer", "{name}");
    }
    assert_eq!(schemes["moja_auth_key"]["type"], "apiKey");
    assert_eq!(schemes["moja_auth_key"]["in"], "query");
    assert_eq!(schemes["moja_auth_key"]["name"], "moja_auth_key");

    // Every reference resolves inside the document.
    let mut found = Vec::new();
    refs(&doc, String::new(), &mut found);
    let schemas = found
        .iter()
        .filter(|(_, target)| target.starts_with("#/components/schemas/"))
        .count();
    assert!(schemas > 20, "only {schemas} schema references");
    for (at, target) in found {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{at}: {target} is not local"));
        assert!(
            doc.pointer(pointer).is_some_and(Value::is_object),
            "{at}: {target} does not resolve"
        );
    }

    server.stop().await;
}
