use crate::cli::SchemaArgs;
use crate::schema;

use super::{EXIT_CANNOT_RUN, EXIT_OK};

pub fn run(a: SchemaArgs) -> i32 {
    if a.print_modeline {
        let line = match &a.schema_path {
            Some(p) => schema::modeline_for(&local_schema(p)),
            None => schema::modeline(),
        };
        return super::write_stdout(format!("{line}\n").as_bytes());
    }
    if a.stdout {
        return super::write_stdout(schema::files()[0].1.as_bytes());
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
fn local_schema(p: &str) -> String {
    if p.ends_with('/') || p.ends_with('\\') {
        format!("{p}{}", schema::DRAFT07_FILE)
    } else if std::path::Path::new(p).is_dir() {
        format!("{p}/{}", schema::DRAFT07_FILE)
    } else {
        p.to_string()
    }
}
