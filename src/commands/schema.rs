use crate::cli::SchemaArgs;
use crate::schema;

use super::{EXIT_CANNOT_RUN, EXIT_OK};

pub fn run(a: SchemaArgs) -> i32 {
    if a.print_modeline {
        println!("{}", schema::modeline());
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
