//! The loader (text, environment, YAML, schema, model, rules, runtime build) on any bytes, with secrets in the environment.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = agw::fuzzing::config(data);
});
