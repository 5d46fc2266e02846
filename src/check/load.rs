//! The one way a configuration comes in: a path, standard input or text (an editor's buffer),
//! read within the size limit, then checked by [`check_bytes`]. `check`, `compile`,
//! `verify-token` and the editor server load this way; `serve` reads snapshots that keep their
//! version for reloads (`serve::reload`) and checks them with the same `check_bytes`.

use std::io::Read;
use std::path::Path;

use super::{check_bytes, CheckOptions, Loaded};

/// Where a configuration is.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Path(&'a Path),
    Stdin,
    Text(&'a str),
}

impl<'a> Input<'a> {
    /// A command-line argument: `-` is standard input.
    pub fn arg(arg: &'a str) -> Input<'a> {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(Path::new(arg))
        }
    }
}

/// The bytes of `input`, reading at most one byte past `limit`, so that a huge file is refused
/// (by the size check of `check_bytes`) without being read whole.
pub fn read(input: Input, limit: usize) -> Result<Vec<u8>, String> {
    let cap = limit as u64 + 1;
    let mut buf = Vec::new();
    match input {
        Input::Text(t) => buf.extend_from_slice(t.as_bytes()),
        Input::Stdin => {
            std::io::stdin()
                .take(cap)
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
        }
        Input::Path(p) => {
            let fail = |e: std::io::Error| format!("cannot read {}: {e}", p.display());
            let f = std::fs::File::open(p).map_err(fail)?;
            if f.metadata().map_err(fail)?.is_dir() {
                return Err(fail(std::io::Error::other("is a directory")));
            }
            f.take(cap).read_to_end(&mut buf).map_err(fail)?;
        }
    }
    Ok(buf)
}

/// Reads and checks `input`; findings name it `name`.
pub fn load(input: Input, name: &str, opts: &CheckOptions) -> Result<Loaded, String> {
    Ok(check_bytes(
        name,
        read(input, opts.limits.max_file_bytes)?,
        opts,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_within_the_limit_and_says_what_it_could_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, "x".repeat(100)).unwrap();
        // one byte past the limit is enough for the size check to refuse it
        assert_eq!(read(Input::Path(&big), 10).unwrap().len(), 11);
        let e = read(Input::Path(dir.path()), 10).unwrap_err();
        assert!(e.contains("is a directory"), "{e}");
        let e = read(Input::Path(&dir.path().join("none.yaml")), 10).unwrap_err();
        assert!(
            e.starts_with("cannot read ") && e.contains("none.yaml"),
            "{e}"
        );
        assert_eq!(read(Input::Text("a: 1\n"), 10).unwrap(), b"a: 1\n");
        assert!(matches!(Input::arg("-"), Input::Stdin));
    }
}
