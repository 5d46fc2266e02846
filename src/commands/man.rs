use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};

use super::{EXIT_CANNOT_RUN, EXIT_OK};

pub fn run(a: ManArgs) -> i32 {
    let cmd = Cli::command();
    let Some(dir) = a.out else {
        let mut buf = Vec::new();
        if let Err(e) = clap_mangen::Man::new(cmd).render(&mut buf) {
            eprintln!("agw: cannot render the manual page: {e}");
            return EXIT_CANNOT_RUN;
        }
        return super::write_stdout(&buf);
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("agw: cannot create {}: {e}", dir.display());
        return EXIT_CANNOT_RUN;
    }
    if let Err(e) = clap_mangen::generate_to(cmd, &dir) {
        eprintln!("agw: cannot write manual pages to {}: {e}", dir.display());
        return EXIT_CANNOT_RUN;
    }
    eprintln!("wrote manual pages to {}", dir.display());
    EXIT_OK
}
