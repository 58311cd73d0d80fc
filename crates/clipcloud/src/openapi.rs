//! The API as an OpenAPI 3.1 document (`crates/clipcloud/openapi.json`), for users of other
//! languages and tools: the four calls, their bodies and every answer, and the gateway's own
//! extensions, tagged `gateway`. The emulator and the gateway serve it at [`PATH`].
//!
//! Written by hand, and held to the code by this module's tests: every field name of the
//! request and wire types, the known styles, the input ranges, the paths, the key parameter
//! and the messages are read from the code and looked up in the document. Native only: the
//! browser builds do not carry it.

/// Where the servers serve the document.
pub const PATH: &str = "/openapi.json";

/// The document, as JSON text.
pub const OPENAPI: &str = include_str!("../openapi.json");

#[cfg(test)]
mod tests {
    use super::OPENAPI;
    use crate::codec::{self, HttpResponse};
    use crate::gateway::{Info, KeyNeed, Mode, INFO_PATH, SERVICE};
    use crate::hold;
    use crate::model::wire::{self, Amount, StyleEntry, StylesBody};
    use crate::model::{AdvancedRequest, Style, StyleRequest, KNOWN_STYLES};
    use crate::route::{Route, API_KEY_PARAM, BALANCE_PATH, CREATION_PATH, STYLES_PATH};
    use crate::validate;
    use serde_json::Value;
    use std::collections::BTreeSet;

    fn doc() -> Value {
        serde_json::from_str(OPENAPI).expect("openapi.json is JSON")
    }

    fn schema(name: &str) -> Value {
        let schema = doc()["components"]["schemas"][name].clone();
        assert!(schema.is_object(), "no schema {name}");
        schema
    }

    /// The property names a schema declares.
    fn properties(name: &str) -> BTreeSet<String> {
        schema(name)["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no properties"))
            .keys()
            .cloned()
            .collect()
    }

    /// The member names a value serializes to (every optional field set).
    fn keys(value: impl serde::Serialize) -> BTreeSet<String> {
        match serde_json::to_value(value).unwrap() {
            Value::Object(map) => map.keys().cloned().collect(),
            other => panic!("not an object: {other}"),
        }
    }

    fn full_style() -> Style {
        Style { name: "standard".into(), description: Some("d".into()), width: Some(512), height: Some(512) }
    }

    #[test]
    fn it_is_openapi_3_1() {
        let doc = doc();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["servers"][0]["url"], crate::model::DEFAULT_BASE_URL);
    }

    #[test]
    fn request_fields_are_the_models() {
        let by_style = StyleRequest {
            negative_prompt: Some(String::new()),
            count: Some(1),
            soft_id: Some(1),
            ..StyleRequest::new("a", "standard")
        };
        assert_eq!(keys(&by_style), properties("StyleRequest"));
        let advanced = AdvancedRequest {
            negative_prompt: Some(String::new()),
            model: Some(String::new()),
            width: Some(512),
            height: Some(512),
            quality: Some(1),
            steps: Some(1),
            seed: Some(1),
            count: Some(1),
            soft_id: Some(1),
            ..AdvancedRequest::new("a")
        };
        assert_eq!(keys(&advanced), properties("AdvancedRequest"));
        // What `extra` may not set: the advanced fields, and the by-style one.
        let mut named = properties("AdvancedRequest");
        named.insert("styleName".into());
        assert_eq!(named, validate::ADVANCED_FIELDS.iter().map(|f| f.to_string()).collect());
        assert_eq!(schema("AdvancedRequest")["not"]["required"][0], "styleName");
        for name in ["StyleRequest", "AdvancedRequest"] {
            let required = schema(name)["required"].clone();
            assert!(required.as_array().unwrap().contains(&"prompt".into()), "{name}");
        }
        assert_eq!(schema("StyleRequest")["required"], serde_json::json!(["prompt", "styleName"]));
    }

    #[test]
    fn wire_fields_are_the_models() {
        let error = wire::ErrorBody { success: false, message: Some("m".into()) };
        assert_eq!(keys(&error), properties("ErrorBody"));
        let created = wire::CreatedBody { success: true, creation_id: "a".into() };
        assert_eq!(keys(&created), properties("CreatedBody"));
        let finished = wire::CheckBody {
            success: true,
            message: Some(wire::MESSAGE_DONE.into()),
            creation_id: Some("a".into()),
            cost: Some(1.1),
            censored: Some(0),
            results: Some(vec![]),
        };
        assert_eq!(keys(&finished), properties("FinishedBody"));
        let running = wire::CheckBody { cost: None, censored: None, results: None, ..finished.clone() };
        assert_eq!(keys(&running), properties("InProgressBody"));
        let balance = wire::BalanceBody { success: true, balance: Amount::Number(1.0) };
        assert_eq!(keys(&balance), properties("BalanceBody"));
        let styles = StylesBody::Wrapped { success: true, styles: vec![StyleEntry::Full(full_style())] };
        assert_eq!(keys(&styles), properties("StylesBody"));
        assert_eq!(keys(full_style()), properties("Style"));
        let info = Info { version: "1".into(), mode: Mode::Relay, apikey: KeyNeed::Required, hold: Some(30) };
        let info: Value = serde_json::from_str(&info.to_json()).unwrap();
        let info: BTreeSet<String> = info.as_object().unwrap().keys().cloned().collect();
        assert_eq!(info, properties("GatewayInfo"));
    }

    #[test]
    fn messages_modes_and_styles_are_the_codes() {
        assert_eq!(schema("InProgressBody")["properties"]["message"]["const"], wire::MESSAGE_IN_PROGRESS);
        assert_eq!(schema("FinishedBody")["properties"]["message"]["const"], wire::MESSAGE_DONE);
        assert!(OPENAPI.contains("Images processed succesfully"), "the service's own misspelling");
        let info = schema("GatewayInfo");
        assert_eq!(info["properties"]["service"]["const"], SERVICE);
        let modes: Vec<&str> = [Mode::Relay, Mode::Operator].map(Mode::as_str).to_vec();
        assert_eq!(info["properties"]["mode"]["enum"], serde_json::json!(modes));
        let needs =
            [KeyNeed::Required, KeyNeed::None, KeyNeed::Passphrase, KeyNeed::Token].map(KeyNeed::as_str);
        assert_eq!(info["properties"]["apikey"]["enum"], serde_json::json!(needs));
        assert_eq!(schema("StyleName")["examples"], serde_json::json!(KNOWN_STYLES));
    }

    fn range(schema: &Value) -> (u64, u64) {
        (schema["minimum"].as_u64().unwrap(), schema["maximum"].as_u64().unwrap())
    }

    #[test]
    fn ranges_are_the_validation_rules() {
        let pair = |r: &core::ops::RangeInclusive<u32>| (u64::from(*r.start()), u64::from(*r.end()));
        assert_eq!(range(&schema("Count")), pair(&validate::COUNT));
        let side = schema("Side");
        assert_eq!(range(&side), pair(&validate::SIDE));
        assert_eq!(side["multipleOf"].as_u64(), Some(u64::from(validate::SIDE_STEP)));
        let advanced = schema("AdvancedRequest");
        assert_eq!(range(&advanced["properties"]["quality"]), pair(&validate::QUALITY));
        assert_eq!(range(&advanced["properties"]["steps"]), pair(&validate::STEPS));
        for field in ["width", "height"] {
            assert_eq!(advanced["properties"][field]["$ref"], "#/components/schemas/Side");
        }
        for name in ["StyleRequest", "AdvancedRequest"] {
            assert_eq!(schema(name)["properties"]["count"]["$ref"], "#/components/schemas/Count");
        }
        // The id pattern says what `validate::creation_id` accepts.
        assert_eq!(schema("CreationId")["pattern"], "^[A-Za-z0-9_-]{1,128}$");
        assert!(
            validate::creation_id(&"a".repeat(128)).is_ok()
                && validate::creation_id(&"a".repeat(129)).is_err()
        );
    }

    #[test]
    fn paths_methods_and_key_are_the_routes() {
        let doc = doc();
        let paths = doc["paths"].as_object().unwrap();
        for (route, path) in [
            (Route::Create, CREATION_PATH.to_owned()),
            (Route::Check("x"), [CREATION_PATH, "/{creation_id}"].concat()),
            (Route::Balance, BALANCE_PATH.to_owned()),
            (Route::Styles, STYLES_PATH.to_owned()),
        ] {
            let operations = paths.get(&path).unwrap_or_else(|| panic!("no path {path}"));
            let methods: Vec<&String> = operations.as_object().unwrap().keys().collect();
            assert_eq!(methods, [&route.method().as_str().to_ascii_lowercase()], "{path}");
            let operation = &operations[route.method().as_str().to_ascii_lowercase()];
            assert_eq!(operation["operationId"], route.name());
            assert_eq!(operation["tags"], serde_json::json!(["api"]), "{path}");
        }
        for path in [INFO_PATH, super::PATH, "/gateway/usage", "/healthz", "/images/{name}"] {
            let operation = &paths.get(path).unwrap_or_else(|| panic!("no path {path}"))["get"];
            assert_eq!(operation["tags"], serde_json::json!(["gateway"]), "{path}");
            assert_eq!(operation["x-clipcloud-gateway"], true, "{path}");
        }
        let scheme = &doc["components"]["securitySchemes"]["apikey"];
        assert_eq!((&scheme["in"], &scheme["name"]), (&"query".into(), &API_KEY_PARAM.into()));
        assert_eq!(doc["security"], serde_json::json!([{ "apikey": [] }]));
    }

    #[test]
    fn every_error_is_the_error_shape_and_429_says_when() {
        let doc = doc();
        for (name, response) in doc["components"]["responses"].as_object().unwrap() {
            let schema = &response["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(schema, "#/components/schemas/ErrorBody", "{name}");
        }
        let retry = &doc["components"]["responses"]["TooManyRequests"]["headers"]["Retry-After"];
        assert_eq!(retry["$ref"], "#/components/headers/RetryAfter");
        assert_eq!(doc["components"]["headers"]["RetryAfter"]["required"], true);
        for (path, operations) in doc["paths"].as_object().unwrap() {
            for (method, operation) in operations.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    let code: u16 = status.parse().unwrap_or_else(|_| panic!("{method} {path}: {status}"));
                    if code >= 400 {
                        assert!(response["$ref"].is_string(), "{method} {path} {status}: a shared error");
                    }
                }
            }
        }
    }

    #[test]
    fn held_checks_are_the_hold_rules() {
        let doc = doc();
        let check = &doc["paths"][[CREATION_PATH, "/{creation_id}"].concat().as_str()]["get"];
        let prefer = check["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["in"] == "header")
            .expect("a header parameter");
        assert!(prefer["name"].as_str().unwrap().eq_ignore_ascii_case(hold::PREFER));
        assert_eq!(prefer["required"], false, "the plain service needs no Prefer");
        let at_most = format!("at most {}", hold::MAX.as_secs());
        assert!(prefer["description"].as_str().unwrap().contains(&at_most));
        let example = prefer["schema"]["examples"][0].as_str().unwrap();
        assert_eq!(example, hold::prefer(hold::MAX));
        assert_eq!(hold::requested(example), Some(hold::MAX));

        let (name, header) =
            check["responses"]["200"]["headers"].as_object().unwrap().iter().next().expect("a header");
        assert!(name.eq_ignore_ascii_case(hold::PREFERENCE_APPLIED));
        assert_eq!(header["$ref"], "#/components/headers/PreferenceApplied");
        let applied = &doc["components"]["headers"]["PreferenceApplied"]["schema"];
        assert_eq!(applied["examples"][0], hold::applied(hold::MAX));
    }

    fn answer(body: &Value) -> HttpResponse {
        HttpResponse { status: 200, retry_after: None, body: body.to_string(), received_unix_secs: 0 }
    }

    #[test]
    fn the_examples_are_what_the_core_sends_and_reads() {
        let doc = doc();
        let create = &doc["paths"][CREATION_PATH]["post"]["requestBody"]["content"]["application/json"];
        for (name, example) in create["examples"].as_object().unwrap() {
            let body = example["value"].to_string();
            let request = crate::server::decode_create_body(body.as_bytes()).unwrap();
            validate::create(&request, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let check_path = [CREATION_PATH, "/{creation_id}"].concat();
        let check =
            &doc["paths"][check_path.as_str()]["get"]["responses"]["200"]["content"]["application/json"];
        let id = "12345678-abcd-ef12-3456-7890abcdef12";
        let running = codec::decode_check(&answer(&check["examples"]["inProgress"]["value"]), id).unwrap();
        assert_eq!(running, crate::Status::InProgress);
        let finished = codec::decode_check(&answer(&check["examples"]["finished"]["value"]), id).unwrap();
        let crate::Status::Done(done) = finished else { panic!("finished") };
        assert_eq!((done.images.len(), done.cost, done.censored), (2, 2.2, 0));
    }
}
