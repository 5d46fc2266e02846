use crate::cli::LspArgs;

use super::{EXIT_CANNOT_RUN, EXIT_OK};

pub fn run(_: LspArgs) -> i32 {
    let (conn, io) = lsp_server::Connection::stdio();
    let served = crate::lsp::serve(&conn);
    drop(conn);
    let joined = io.join();
    match (served, joined) {
        (Ok(()), Ok(())) => EXIT_OK,
        (Err(e), _) => {
            eprintln!("agw lsp: {e}");
            EXIT_CANNOT_RUN
        }
        (_, Err(e)) => {
            eprintln!("agw lsp: {e}");
            EXIT_CANNOT_RUN
        }
    }
}
