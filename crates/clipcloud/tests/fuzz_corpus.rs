//! Replays the fuzz corpus (`fuzz/corpus/`) and every input a fuzzer ever found
//! (`fuzz/regressions/`) through the fuzz checks, natively, on every test run.
#![cfg(not(target_arch = "wasm32"))]

include!("../fuzz/checks.rs");

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut found = Vec::new();
    for dir in [root.join("corpus").join(target), root.join("regressions").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let bytes = std::fs::read(entry.path()).expect("readable corpus file");
            found.push((entry.path().display().to_string(), bytes));
        }
    }
    found
}

#[test]
fn decode_corpus() {
    let inputs = inputs("decode");
    assert!(inputs.len() >= 5, "the decode corpus is missing");
    for (name, data) in inputs {
        eprintln!("{name}");
        check_decode(&data);
    }
}

#[test]
fn validate_corpus() {
    let inputs = inputs("validate");
    assert!(inputs.len() >= 3, "the validate corpus is missing");
    for (name, data) in inputs {
        eprintln!("{name}");
        check_validate(&data);
    }
}
