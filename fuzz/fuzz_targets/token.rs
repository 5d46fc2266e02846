//! The token verifier on any bytes: the report and the runtime's fast path agree.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = agw::fuzzing::token(data);
});
