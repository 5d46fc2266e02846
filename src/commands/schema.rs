use crate::cli::SchemaArgs;
use crate::schema;

use super::{EXIT_CANNOT_RUN, EXIT_OK};

pub fn run(a: SchemaArgs) -> i32 {
    if a.print_modeline {
        match &a.schema_path {
            Some(p) => println!("{}", schema::modeline_for(&local_schema(p))),
            None => println!("{}", schema::modeline()),
        }
        return EXIT_OK;
    }
    if a.stdout {
        print!("{}", schema::files()[0].1);
        return EXIT_OK;
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
