//! One connection of any bytes into the HTTP front (HTTP/1, HTTP/2, routing, authentication, MCP).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = agw::fuzzing::http_front(data);
});
