//! The seed corpus of the fuzz targets (`fuzz/corpus/<target>/`) through the same cases the
//! targets run, so that the invariants are checked on every test run and the cases keep
//! compiling without cargo-fuzz. `fuzz/README.md` says how to fuzz for real.

use std::path::PathBuf;

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() >= 3, "{}: too few seeds", dir.display());
    out
}

#[test]
fn config_seeds() {
    for (_, data) in seeds("config") {
        agw::fuzzing::config(&data);
    }
}

#[test]
fn the_front_configuration_is_a_seed_that_passes_check() {
    let seed = seeds("config")
        .into_iter()
        .find(|(n, _)| n == "front.yaml")
        .unwrap();
    assert_eq!(
        String::from_utf8(seed.1).unwrap(),
        agw::fuzzing::front_config()
    );
}

#[test]
fn token_seeds() {
    for (_, data) in seeds("token") {
        agw::fuzzing::token(&data);
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn http_front_seeds() {
    for (name, data) in seeds("http_front") {
        let quiet = std::time::Duration::from_millis(200);
        let out = text(&agw::fuzzing::http_front_with(&data, quiet));
        match name.as_str() {
            "get-open" => assert!(out.contains("open-body"), "{out}"),
            "get-protected-with-token" => assert!(out.contains("protected-body"), "{out}"),
            "get-protected-expired" | "pipelined-without-token" => {
                assert!(out.starts_with("HTTP/1.1 401"), "{name}: {out}");
                assert!(!out.contains("protected-body"), "{name}: {out}");
            }
            "mcp-initialize" => assert!(out.contains("cannot start"), "{out}"),
            "redirect" => assert!(
                out.contains("location: http://gw.example/new/a?b=c"),
                "{out}"
            ),
            "h2-get" => assert!(out.contains("open-body"), "{out:?}"),
            _ => {}
        }
    }
}
