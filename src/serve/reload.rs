//! Reload without losing a change. The watcher reads a file only once it has settled (its
//! stamp unchanged over a short window), keeps the stamp of the bytes it actually read (taken
//! from the open file, before and after reading), and after every attempt looks again until
//! the version on disk is the one it last read. A version whose timestamps a later write could
//! share (same clock tick, same size) is read again once that tick has passed.
//!
//! Writers should still write a new file and rename it into place: a writer that pauses longer
//! than the settle window between two chunks of one file is indistinguishable from two writes.

use std::fs::{File, Metadata};
use std::hash::Hasher;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::runtime::Runtime;
use super::{stopped, Ports, ServeOptions, Shared};
use crate::check::check_bytes;
use crate::config::policy::auth::AuthMode;

/// When a changed file is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Poll the file (and file-based JWKS); SIGHUP also reloads at once.
    Watch,
    /// Only on SIGHUP.
    Signal,
    /// Never (SIGHUP is ignored, with a log line).
    Off,
}

/// What a file looked like: which file (device, inode), its size, and its modification and
/// change times. The change time moves on every write, even one that restores the
/// modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(m: &Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }

    /// The later of the modification and change times.
    fn changed_at(&self) -> SystemTime {
        let at = |(s, ns): (i64, i64)| {
            if s < 0 {
                return SystemTime::UNIX_EPOCH;
            }
            SystemTime::UNIX_EPOCH + Duration::new(s as u64, ns.clamp(0, 999_999_999) as u32)
        };
        at(self.mtime).max(at(self.ctime))
    }
}

/// The stamp of what `path` names now, or `None` when it cannot be read.
pub fn stat(path: &Path) -> Option<Stamp> {
    std::fs::metadata(path).ok().map(|m| Stamp::of(&m))
}

/// The bytes of a file that did not change while they were read, with their stamp.
pub struct Snapshot {
    pub bytes: Vec<u8>,
    pub stamp: Stamp,
    pub hash: u64,
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    h.write(bytes);
    h.write_usize(bytes.len());
    h.finish()
}

/// Reads `path` once (at most `limit` + 1 bytes). `Ok(None)` when the file changed while it
/// was read, or the path now names another file: the caller reads again.
pub fn read_once(path: &Path, limit: usize) -> std::io::Result<Option<Snapshot>> {
    let mut f = File::open(path)?;
    let before = f.metadata()?;
    if before.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let cap = limit as u64 + 1;
    let mut bytes = Vec::with_capacity(before.len().min(cap) as usize);
    (&mut f).take(cap).read_to_end(&mut bytes)?;
    let stamp = Stamp::of(&before);
    let whole = bytes.len() as u64 == stamp.len || bytes.len() as u64 == cap;
    if !whole || Stamp::of(&f.metadata()?) != stamp || stat(path) != Some(stamp) {
        return Ok(None);
    }
    Ok(Some(Snapshot {
        hash: hash(&bytes),
        bytes,
        stamp,
    }))
}

/// How many times a file that keeps changing is looked at before the watcher gives up until
/// its next check.
const SETTLE_TRIES: usize = 50;

/// Waits until the stamp of `path` holds still for `settle`, then reads it.
pub async fn read_settled(path: &Path, settle: Duration, limit: usize) -> Result<Snapshot, String> {
    let pause = settle.max(Duration::from_millis(10));
    let mut last = stat(path);
    let mut first = true;
    for _ in 0..SETTLE_TRIES {
        if !(first && settle.is_zero()) {
            tokio::time::sleep(pause).await;
        }
        first = false;
        let now = stat(path);
        if now != last {
            last = now;
            continue;
        }
        let p = path.to_path_buf();
        match tokio::task::spawn_blocking(move || read_once(&p, limit)).await {
            Ok(Ok(Some(s))) => return Ok(s),
            Ok(Ok(None)) => last = stat(path),
            Ok(Err(e)) => return Err(format!("cannot read {}: {e}", path.display())),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
    }
    Err(format!(
        "{} kept changing for {} checks; it is read at the next one (write a new file and rename it into place)",
        path.display(),
        SETTLE_TRIES
    ))
}

/// A version of the file: its stamp and the hash of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    stamp: Stamp,
    hash: u64,
}

impl Version {
    pub fn of(s: &Snapshot) -> Version {
        Version {
            stamp: s.stamp,
            hash: s.hash,
        }
    }
}

/// Within this time of a file's last change, a later write may leave the same stamp behind
/// (timestamps move in coarse clock ticks); such a version is read again after it.
const SAME_TICK: Duration = Duration::from_secs(2);

/// How many versions one catch-up applies before waiting for the next check.
const MAX_ROUNDS: usize = 20;

/// The watcher: what is live, what was last read, and the files (JWKS) it watches besides.
pub(crate) struct Reloader {
    shared: Arc<Shared>,
    opts: ServeOptions,
    ports: Ports,
    live: Version,
    /// The last version read, live or refused (a refused one is not read again until it
    /// changes).
    seen: Version,
    /// When the last version read is read again, to catch a write in its clock tick.
    verify_at: Option<SystemTime>,
    jwks: Vec<(PathBuf, Option<Stamp>)>,
    /// The last read error logged (the same one is not logged at every check).
    last_error: Option<String>,
}

impl Reloader {
    pub(crate) fn new(
        shared: Arc<Shared>,
        opts: ServeOptions,
        ports: Ports,
        live: Version,
    ) -> Self {
        let mut r = Reloader {
            shared,
            opts,
            ports,
            live,
            seen: live,
            verify_at: same_tick(&live.stamp),
            jwks: Vec::new(),
            last_error: None,
        };
        r.watch_jwks();
        r
    }

    fn watch_jwks(&mut self) {
        let rt = self.shared.runtime.load();
        let mut paths: Vec<PathBuf> = rt.watched.clone();
        paths.sort();
        paths.dedup();
        paths.retain(|p| p != &self.opts.file);
        self.jwks = paths
            .into_iter()
            .map(|p| {
                let s = stat(&p);
                (p, s)
            })
            .collect();
    }

    /// Runs until shutdown: every `every` (in watch mode) and on SIGHUP (`hup`, installed
    /// before the first port listens, so that SIGHUP never stops agw).
    pub(crate) async fn run(
        mut self,
        mode: Mode,
        every: Duration,
        mut hup: Option<tokio::signal::unix::Signal>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let forced = tokio::select! {
                _ = stopped(&mut shutdown) => return,
                Some(_) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
                _ = tokio::time::sleep(every), if mode == Mode::Watch => false,
            };
            if mode == Mode::Off {
                tracing::info!("SIGHUP received; reload is off (--reload=off), nothing is read");
                continue;
            }
            if forced {
                tracing::info!("SIGHUP received; reading the file");
            }
            self.jwks_changed();
            tokio::select! {
                _ = stopped(&mut shutdown) => return,
                _ = self.catch_up(forced) => {}
            }
        }
    }

    /// Tells the verifier about JWKS files that changed (the next token reads them again).
    fn jwks_changed(&mut self) {
        for (p, last) in &mut self.jwks {
            let now = stat(p);
            if now != *last {
                *last = now;
                self.shared.verifier.file_changed(p);
                tracing::info!(file = %p.display(), "key file changed; it is read again");
            }
        }
    }

    /// Reads and applies the file until the version on disk is the one last read.
    async fn catch_up(&mut self, mut forced: bool) {
        let file = self.opts.file.clone();
        let name = file.display().to_string();
        for _ in 0..MAX_ROUNDS {
            let due = self
                .verify_at
                .is_some_and(|t| SystemTime::now() >= t + SAME_TICK);
            if !forced && !due && stat(&file) == Some(self.seen.stamp) {
                return;
            }
            let snap = match read_settled(
                &file,
                self.opts.reload_settle,
                self.opts.check.limits.max_file_bytes,
            )
            .await
            {
                Ok(s) => {
                    self.last_error = None;
                    s
                }
                Err(e) => {
                    if self.last_error.as_ref() != Some(&e) {
                        tracing::error!(file = %name, error = %e, "reload failed; the previous configuration keeps serving");
                        self.last_error = Some(e);
                    }
                    return;
                }
            };
            let version = Version::of(&snap);
            self.verify_at = same_tick(&snap.stamp);
            if version.hash == self.live.hash {
                if forced {
                    tracing::info!(file = %name, "the file is unchanged; nothing to reload");
                }
                self.live = version;
                self.seen = version;
            } else if version.hash == self.seen.hash && !forced {
                // The version refused last time, under a new stamp.
                self.seen = version;
            } else {
                self.seen = version;
                if self.apply(snap).await {
                    self.live = version;
                    self.watch_jwks();
                }
            }
            forced = false;
        }
        tracing::warn!(file = %name, "the file keeps changing; the watcher looks again at its next check");
    }

    /// Checks `snap` and makes it live if it passes and its ports can be bound.
    async fn apply(&mut self, snap: Snapshot) -> bool {
        let name = self.opts.file.display().to_string();
        tracing::info!(file = %name, bytes = snap.bytes.len(), "the file changed; checking the new version");
        let generation = self.shared.generation.load(Ordering::SeqCst) + 1;
        // The checked tree and the model are dropped at the end of this block: only the
        // runtime stays.
        let built = {
            let loaded = check_bytes(&name, snap.bytes, &self.opts.check);
            let passed = !loaded.has_errors();
            match loaded.config {
                Some(cfg) if passed => {
                    Runtime::build(&cfg, generation, &self.opts.root).map_err(|e| e.to_string())
                }
                _ => {
                    // the checker's findings already show `${VAR}`, never the value
                    let text = crate::diag::human::render(
                        std::slice::from_ref(&loaded.report),
                        Default::default(),
                    );
                    tracing::error!(file = %name, "reload refused: the file does not pass `agw check`; the previous configuration keeps serving\n{text}");
                    return false;
                }
            }
        };
        let rt = match built {
            Ok(rt) => rt,
            Err(e) => {
                tracing::error!(file = %name, error = %e, "reload refused; the previous configuration keeps serving");
                return false;
            }
        };
        let wanted: Vec<u16> = rt.ports.keys().copied().collect();
        if let Err(e) = self.ports.sync(&wanted).await {
            tracing::error!(file = %name, error = %e, "reload refused; the previous configuration keeps serving");
            return false;
        }
        rt.log_warnings();
        self.shared.generation.store(generation, Ordering::SeqCst);
        let old = self.shared.runtime.swap(Arc::new(rt));
        weakened_auth(&old, &self.shared.runtime.load());
        drop(old);
        self.shared.metadata_cache.lock().unwrap().clear();
        self.shared.sessions.reloaded(&self.shared.runtime.load());
        tracing::info!(file = %name, generation, "configuration reloaded");
        super::release_memory();
        true
    }
}

/// Listens for SIGHUP (from now on it no longer stops the process).
pub fn sighup() -> Option<tokio::signal::unix::Signal> {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP");
            None
        }
    }
}

/// When a version with this stamp must be read again (a write in the same clock tick would
/// leave the same stamp), or `None` when its tick is long past.
fn same_tick(s: &Stamp) -> Option<SystemTime> {
    let at = s.changed_at();
    match SystemTime::now().duration_since(at) {
        Ok(age) if age >= SAME_TICK => None,
        _ => Some(at),
    }
}

fn looseness(m: AuthMode) -> u8 {
    match m {
        AuthMode::Strict => 0,
        AuthMode::Optional => 1,
        AuthMode::Permissive => 2,
    }
}

fn mode_name(m: AuthMode) -> &'static str {
    match m {
        AuthMode::Strict => "strict",
        AuthMode::Optional => "optional",
        AuthMode::Permissive => "permissive",
    }
}

/// Warns about every route that had authentication before the reload and has none (or a
/// looser `mode`) now, or is gone.
fn weakened_auth(old: &Runtime, new: &Runtime) {
    let after = new.auth_by_route();
    let mut warned = 0;
    for (route, before) in old.auth_by_route() {
        let Some(before) = before else { continue };
        let weaker = match after.get(&route) {
            None | Some(None) => true,
            Some(Some(now)) => looseness(*now) > looseness(before),
        };
        if weaker {
            warned += 1;
        }
        if warned > super::runtime::MAX_WARNINGS {
            continue;
        }
        match after.get(&route) {
            None => tracing::warn!(
                route = %route,
                "reload: the route had authentication and is not in the new version; requests it served go to whatever route matches them now"
            ),
            Some(None) => tracing::warn!(
                route = %route,
                was = %mode_name(before),
                "reload removes authentication from the route: its requests are served without a token now"
            ),
            Some(Some(now)) if looseness(*now) > looseness(before) => tracing::warn!(
                route = %route,
                was = %mode_name(before),
                now = %mode_name(*now),
                "reload widens the authentication mode of the route"
            ),
            Some(Some(_)) => {}
        }
    }
    if warned > super::runtime::MAX_WARNINGS {
        tracing::warn!(
            "reload: {} more routes lost or loosened their authentication (the first {} are above)",
            warned - super::runtime::MAX_WARNINGS,
            super::runtime::MAX_WARNINGS
        );
    }
}
