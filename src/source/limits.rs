//! Bounds on what one input may cost, so hostile YAML ends in a clear error, not a hang or a crash.

/// Every bound applied while loading a file. The defaults are far above any real gateway config
/// (the largest real ones are a few hundred kilobytes) and far below what would hurt the machine.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_file_bytes: usize,
    pub max_depth: usize,
    pub max_nodes: usize,
    pub max_scalar_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            // serde_json and the schema validator recurse per level; 64 keeps them far from the
            // stack limit while real configs nest about 15 deep.
            max_depth: 64,
            max_nodes: 2_000_000,
            max_scalar_bytes: 1024 * 1024,
        }
    }
}
