//! The admin API's OpenAPI document is exact enough to generate clients and fuzz from:
//! structural properties checked on every build (Schemathesis checks the behaviour in CI,
//! `.ci/schemathesis.sh`).

use crate::helpers::*;
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

async fn document(app: &TestApp) -> Value {
    app.http
        .get(app.url("/admin/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every operation as (method, path, operation object).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    assert!(
        out.len() > 40,
        "the admin API has more operations: {}",
        out.len()
    );
    out
}

/// Follows a `$ref` into `components`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn params<'a>(op: &'a Value, location: &str) -> Vec<&'a Value> {
    op["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter(|p| p["in"] == location).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_admin_operation_documents_401_and_403_and_the_errors_its_inputs_can_cause() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        let mut expected = vec!["401", "403"];
        if !params(&op, "query").is_empty() || op.get("requestBody").is_some() {
            expected.push("400");
        }
        if !params(&op, "path").is_empty() {
            expected.push("404");
        }
        for status in expected {
            let r = responses
                .get(status)
                .unwrap_or_else(|| panic!("{method} {path} does not document {status}"));
            assert_eq!(
                r["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path} {status}"
            );
        }
        for (status, r) in responses {
            assert!(
                r["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{method} {path} {status}: OpenAPI requires a response description"
            );
        }
    }
}

#[tokio::test]
async fn admin_operation_ids_are_present_and_unique_for_client_generators() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut seen = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(seen.insert(id.to_owned()), "operationId {id} is used twice");
    }
}

#[tokio::test]
async fn every_limit_parameter_has_the_bounds_the_server_enforces() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        for p in params(&op, "query") {
            if p["name"] != "limit" {
                continue;
            }
            let s = &p["schema"];
            assert_eq!(s["minimum"], 1, "{method} {path}");
            let max = s["maximum"]
                .as_u64()
                .unwrap_or_else(|| panic!("{method} {path}: limit has no maximum"));
            // The server refuses what the document refuses, at both ends.
            if path.matches('{').count() == 1 {
                let url = path.replace("{realm}", "demo");
                for bad in [0, max + 1] {
                    let res = app
                        .admin(Method::GET, &format!("{url}?limit={bad}"), None)
                        .await;
                    assert_eq!(res.status(), 400, "{url}?limit={bad}");
                }
                let res = app
                    .admin(Method::GET, &format!("{url}?limit={max}"), None)
                    .await;
                assert_eq!(res.status(), 200, "{url}?limit={max}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} limit parameters");
}

/// A schema a generator can satisfy: no `allOf` (whose parts could contradict each other),
/// every required property defined, and nested objects likewise.
fn assert_satisfiable(doc: &Value, schema: &Value, at: &str) {
    let schema = resolve(doc, schema);
    assert!(
        schema.get("allOf").is_none(),
        "{at}: allOf in a request body"
    );
    for key in ["oneOf", "anyOf"] {
        if let Some(parts) = schema[key].as_array() {
            for (i, part) in parts.iter().enumerate() {
                assert_satisfiable(doc, part, &format!("{at}/{key}/{i}"));
            }
        }
    }
    if let Some(items) = schema.get("items") {
        assert_satisfiable(doc, items, &format!("{at}/items"));
    }
    let props = schema["properties"].as_object();
    for r in schema["required"].as_array().into_iter().flatten() {
        let name = r.as_str().unwrap();
        assert!(
            props.is_some_and(|p| p.contains_key(name)),
            "{at}: required {name} is not a property"
        );
    }
    for (name, p) in props.into_iter().flatten() {
        assert_satisfiable(doc, p, &format!("{at}.{name}"));
        let p = resolve(doc, p);
        if let (Some(min), Some(max)) = (p["minLength"].as_u64(), p["maxLength"].as_u64()) {
            assert!(min <= max, "{at}.{name}: minLength > maxLength");
        }
        if let (Some(min), Some(max)) = (p["minimum"].as_i64(), p["maximum"].as_i64()) {
            assert!(min <= max, "{at}.{name}: minimum > maximum");
        }
    }
}

#[tokio::test]
async fn every_admin_request_body_is_one_satisfiable_schema() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut bodies = 0;
    for (method, path, op) in operations(&doc) {
        let Some(body) = op.get("requestBody") else {
            continue;
        };
        let schema = &body["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {path}: body without a JSON schema"
        );
        assert_satisfiable(&doc, schema, &format!("{method} {path}"));
        bodies += 1;
    }
    assert!(bodies >= 15, "only {bodies} request bodies");
}

#[tokio::test]
async fn admin_request_strings_carry_the_parsers_constraints() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    // Each is parsed by a domain newtype; the document must say what it accepts.
    for (schema, field) in [
        ("CreateRealmBody", "name"),
        ("UserBody", "username"),
        ("UserBody", "email"),
        ("OrgBody", "alias"),
        ("OrgBody", "name"),
        ("DomainRep", "name"),
        ("RoleBody", "name"),
        ("InvitationBody", "email"),
        ("ImpersonationBody", "reason"),
        ("ClientBody", "client_id"),
        ("SmtpBody", "host"),
        ("NewIdpBody", "alias"),
        ("NewIdpBody", "issuer"),
        ("NewIdpBody", "client_id"),
        ("NewIdpBody", "client_secret"),
        ("IdpUpdateBody", "issuer"),
        ("RealmSettingsBody", "display_name"),
        ("RealmSettingsBody", "logo_uri"),
        ("OrgBody", "logo_uri"),
        ("OrgUpdateBody", "logo_uri"),
    ] {
        let p = property(&schemas[schema], field);
        let text = p.to_string();
        assert!(
            text.contains("\"pattern\"") && text.contains("\"maxLength\""),
            "{schema}.{field} has no pattern and length: {p}"
        );
    }
    for (schema, field) in [
        ("RealmSettingsBody", "access_token_alg"),
        ("ClientBody", "id_token_alg"),
        ("ClientBody", "access_token_format"),
        ("ClientBody", "organization_claim"),
        ("SmtpBody", "security"),
        ("NewIdpBody", "auth_method"),
    ] {
        let p = property(&schemas[schema], field);
        assert!(
            p.to_string().contains("\"enum\""),
            "{schema}.{field} has no enum: {p}"
        );
    }
    // PUT replaces a profile: the password has its own endpoint.
    assert!(schemas["UserProfileBody"]["properties"]["password"].is_null());
    assert!(schemas["UserBody"]["properties"]["password"].is_object());
    // The alias in a provider's path names it; its secret is never read back.
    assert!(property(&schemas["IdpUpdateBody"], "alias").is_null());
    let secret = property(&schemas["NewIdpBody"], "client_secret");
    assert_eq!(secret["writeOnly"], true);
}

/// A body's property; a body of several shapes (SmtpBody) states it in its first, the
/// general one.
fn property<'a>(schema: &'a Value, field: &str) -> &'a Value {
    match &schema["properties"][field] {
        Value::Null => &schema["oneOf"][0]["properties"][field],
        p => p,
    }
}
