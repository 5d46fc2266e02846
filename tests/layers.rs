//! The layers of ARCHITECTURE.md, kept: a module may not name a layer above it.

use std::path::Path;

/// Each layer (a folder of `src/`) and the modules of the crate it may not name.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "source",
        &[
            "config", "check", "diag", "token", "oidc", "serve", "compile", "lsp", "commands",
            "cli",
        ],
    ),
    (
        "config",
        &[
            "check", "diag", "token", "oidc", "serve", "compile", "lsp", "commands", "cli",
        ],
    ),
    (
        "diag",
        &["check", "serve", "compile", "lsp", "commands", "cli"],
    ),
    (
        "oidc",
        &[
            "check", "diag", "serve", "compile", "lsp", "commands", "cli",
        ],
    ),
    (
        "token",
        &[
            "check", "diag", "serve", "compile", "lsp", "commands", "cli",
        ],
    ),
    (
        "compile",
        &["check", "token", "oidc", "serve", "lsp", "commands", "cli"],
    ),
    // `check::catalog` lists the rules `compile/` declares; `compile/` does not name `check/`
    ("check", &["serve", "lsp", "commands", "cli"]),
    ("serve", &["compile", "lsp", "commands", "cli"]),
    ("lsp", &["serve", "compile", "commands", "cli"]),
];

/// Crates that speak to terminals or serve HTTP, which `token/` and `oidc/` must not use.
const TERMINAL_OR_SERVER: &[&str] = &["miette::", "axum::", "hyper::server", "owo_colors::"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_layer_names_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (layer, forbidden) in FORBIDDEN {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "no files under src/{layer}");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let f = f.strip_prefix(&src).unwrap().to_path_buf();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for m in *forbidden {
                    if code.contains(&format!("crate::{m}::"))
                        || code.contains(&format!("crate::{m};"))
                    {
                        broken.push(format!(
                            "{}:{}: src/{layer} names crate::{m}",
                            f.display(),
                            n + 1
                        ));
                    }
                }
                if matches!(*layer, "token" | "oidc") {
                    for c in TERMINAL_OR_SERVER {
                        if code.contains(c) {
                            broken.push(format!("{}:{}: src/{layer} uses {c}", f.display(), n + 1));
                        }
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
