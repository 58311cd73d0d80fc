//! Property tests: every request the client can build reads back, on the wire, as the
//! same request (native; the browser tests cover the browser's JSON).
#![cfg(not(target_arch = "wasm32"))]

use clipcloud::codec::Endpoint;
use clipcloud::{AdvancedRequest, StyleRequest};
use proptest::prelude::*;

const ENDPOINT: Endpoint<'static> = Endpoint { base_url: "http://emulator.test", api_key: Some("k") };

fn text() -> impl Strategy<Value = String> {
    // Any Unicode, quotes, backslashes and control characters included.
    proptest::string::string_regex("(.|[\"\\\\\\x00-\\x1f\u{2028}\u{fffd}])*").expect("valid regex")
}

fn style_request() -> impl Strategy<Value = StyleRequest> {
    (
        text(),
        text(),
        proptest::option::of(text()),
        proptest::option::of(0u32..10),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(prompt, style_name, negative_prompt, count, soft_id)| StyleRequest {
            prompt,
            style_name,
            negative_prompt,
            count,
            soft_id,
        })
}

fn extra_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i32>().prop_map(serde_json::Value::from),
        text().prop_map(serde_json::Value::from),
    ]
}

fn advanced_request() -> impl Strategy<Value = AdvancedRequest> {
    let numbers = (
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u64>()),
    );
    let extra = proptest::collection::btree_map("[a-z_]{1,12}", extra_value(), 0..4).prop_map(|m| {
        let map: serde_json::Map<_, _> = m
            .into_iter()
            .filter(|(k, _)| !clipcloud::validate::ADVANCED_FIELDS.contains(&k.as_str()))
            .collect();
        clipcloud::Extra::from(map)
    });
    (text(), proptest::option::of(text()), proptest::option::of(text()), numbers, extra).prop_map(
        |(prompt, negative_prompt, model, (width, height, quality, steps, seed, count, soft_id), extra)| {
            AdvancedRequest {
                prompt,
                negative_prompt,
                model,
                width,
                height,
                quality,
                steps,
                seed,
                count,
                soft_id,
                extra,
            }
        },
    )
}

proptest! {
    #[test]
    fn style_requests_round_trip(request in style_request()) {
        let body = ENDPOINT.create(&request.clone().into()).body.expect("a create has a body");
        let back: StyleRequest = serde_json::from_str(&body).expect("the body is JSON");
        prop_assert_eq!(back, request);
    }

    #[test]
    fn advanced_requests_round_trip(request in advanced_request()) {
        let body = ENDPOINT.create(&request.clone().into()).body.expect("a create has a body");
        let back: AdvancedRequest = serde_json::from_str(&body).expect("the body is JSON");
        prop_assert!(!body.contains("styleName"));
        prop_assert_eq!(back, request);
    }
}
