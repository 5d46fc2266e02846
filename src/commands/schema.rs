use crate::cli::SchemaArgs;
use crate::config::release::Release;
use crate::schema;

use super::{EXIT_CANNOT_RUN, EXIT_OK};

pub fn run(a: SchemaArgs) -> i32 {
    if a.print_modeline {
        let release = a.release.gateway_version;
        let line = match &a.schema_path {
            Some(p) => schema::modeline_for(&local_schema(p, release)),
            None => schema::modeline_for(&schema::published_url(release)),
        };
        return super::write_stdout(format!("{line}\n").as_bytes());
    }
    if a.stdout {
        let text = serde_json::to_string_pretty(&schema::published(
            a.release.gateway_version,
            schema::Draft::Draft07,
        ))
        .unwrap_or_default();
        return super::write_stdout(format!("{text}\n").as_bytes());
    }
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        eprintln!("agw: cannot create {}: {e}", a.out.display());
        return EXIT_CANNOT_RUN;
    }
    for (name, text) in schema::files() {
        let path = a.out.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("agw: cannot write {}: {e}", path.display());
            return EXIT_CANNOT_RUN;
        }
        eprintln!("wrote {}", path.display());
    }
    EXIT_OK
}

/// `--schema-path`: a file path as given; a directory (existing, or written with a trailing
/// slash) gets the draft-07 schema file name appended.
fn local_schema(p: &str, release: Release) -> String {
    let file = schema::file_name(release, schema::Draft::Draft07);
    if p.ends_with('/') || p.ends_with('\\') {
        format!("{p}{file}")
    } else if std::path::Path::new(p).is_dir() {
        format!("{p}/{file}")
    } else {
        p.to_string()
    }
}
