//! What every operation shares, added to the derived document in one place rather than on
//! each handler: its operation id, and the error answers an operation of its kind can give
//! (each in the one error shape, or in the shape the operation gives its own 400). Errors
//! particular to one operation (the platform away, 503) are on its handler.

use serde_json::{Map, Value, json};

/// The HTTP methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every (path, method) of the document.
pub fn operations(doc: &Value) -> impl Iterator<Item = (&str, &str)> {
    doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .filter(|(method, _)| METHODS.contains(&method.as_str()))
                .map(move |(method, _)| (path.as_str(), method.as_str()))
        })
}

pub fn apply(doc: &mut Value) {
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        schemas.values_mut().for_each(without_prose);
    }
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if METHODS.contains(&method.as_str()) {
                complete(path, method, operation);
            }
        }
    }
}

/// A schema without the descriptions utoipa takes from Rust doc comments: those are written
/// for whoever maintains the type (in English, naming code), the document for the teams that
/// call the API. Summaries and the descriptions of answers, bodies and headers stay.
fn without_prose(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.get("description").is_some_and(Value::is_string) {
                map.remove("description");
            }
            map.values_mut().for_each(without_prose);
        }
        Value::Array(items) => items.iter_mut().for_each(without_prose),
        _ => {}
    }
}

/// Every schema an operation holds inline: its parameters', its body's, its answers' and
/// their headers'.
fn inline_schemas(operation: &mut Value) -> Vec<&mut Value> {
    let mut schemas = Vec::new();
    let Some(operation) = operation.as_object_mut() else {
        return schemas;
    };
    for (key, value) in operation.iter_mut() {
        match key.as_str() {
            "parameters" => schemas.extend(
                value
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get_mut("schema")),
            ),
            "requestBody" => schemas.extend(media_schemas(value)),
            "responses" => {
                for response in value.as_object_mut().into_iter().flatten().map(|(_, r)| r) {
                    let Some(response) = response.as_object_mut() else {
                        continue;
                    };
                    for (part, value) in response.iter_mut() {
                        match part.as_str() {
                            "content" => schemas.extend(
                                value
                                    .as_object_mut()
                                    .into_iter()
                                    .flatten()
                                    .filter_map(|(_, m)| m.get_mut("schema")),
                            ),
                            "headers" => schemas.extend(
                                value
                                    .as_object_mut()
                                    .into_iter()
                                    .flatten()
                                    .filter_map(|(_, h)| h.get_mut("schema")),
                            ),
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    schemas
}

fn media_schemas(body: &mut Value) -> impl Iterator<Item = &mut Value> {
    body.get_mut("content")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
        .filter_map(|(_, m)| m.get_mut("schema"))
}

fn complete(path: &str, method: &str, operation: &mut Value) {
    inline_schemas(operation)
        .into_iter()
        .for_each(without_prose);
    // The same ids as ever (`delete_api_v1_me`): tools and test runs name operations by them.
    operation["operationId"] = json!(format!(
        "{method}_{}",
        path.trim_start_matches('/')
            .replace(['/', '{', '}', '.', '-'], "_")
    ));
    if let Some(body) = operation.get_mut("requestBody") {
        optional_body(body);
    }
    let has_body = operation.get("requestBody").is_some();
    let responses = operation["responses"]
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let responses = with_errors(path, method, has_body, responses);
    operation["responses"] = Value::Object(responses);
}

/// A body that may be left out is an `Option<T>` to utoipa, which JSON Schema writes as "T or
/// null". Leaving the body out is what the server takes; a `null` body it refuses like any
/// other body that is not an object, so the document says T.
fn optional_body(body: &mut Value) {
    if body["required"].as_bool() == Some(true) {
        return;
    }
    let Some(media_types) = body["content"].as_object_mut() else {
        return;
    };
    for media_type in media_types.values_mut() {
        let schema = &mut media_type["schema"];
        let without_null: Vec<Value> = schema["oneOf"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["type"] != "null")
            .cloned()
            .collect();
        if let [only] = without_null.as_slice()
            && schema["oneOf"].as_array().is_some_and(|all| all.len() == 2)
        {
            *schema = only.clone();
        }
    }
}

/// The operation's answers, with every error its kind can give that it does not list itself.
fn with_errors(
    path: &str,
    method: &str,
    has_body: bool,
    mut responses: Map<String, Value>,
) -> Map<String, Value> {
    let mut errors = vec![400, 401, 403, 404, 422];
    // A body over its limit or of another media type.
    if has_body {
        errors.extend([413, 415]);
    }
    // A write can meet the state another write left: already applied for, already ordered, a
    // request already decided.
    if method != "get" {
        errors.push(409);
    }
    let http_method = actix_web::http::Method::from_bytes(method.to_uppercase().as_bytes())
        .unwrap_or(actix_web::http::Method::GET);
    // The rate limit (and lock-outs).
    if crate::rate_limit::class_of(&http_method, path).is_some() {
        errors.push(429);
    }
    for (status, response) in responses.iter_mut() {
        let said = response["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty());
        if status.starts_with('2') && !said {
            response["description"] = json!("成功");
        }
    }
    let content = responses
        .get("400")
        .and_then(|own| own.get("content"))
        .cloned()
        .unwrap_or_else(
            || json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}),
        );
    for code in errors {
        let mut response = json!({"description": "错误", "content": content});
        if code == 429 {
            response["headers"] = json!({"Retry-After": {
                "description": "多少秒后可以再试",
                "schema": {"type": "integer", "minimum": 1},
            }});
        }
        responses.entry(code.to_string()).or_insert(response);
    }
    responses
}
