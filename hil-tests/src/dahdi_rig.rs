//! The DAHDI test rig: which channels to use, skipping where there is no DAHDI, and a
//! [`LinePair`] made of two DAHDI channels.
//!
//! # Channels
//!
//! The defaults match the VM's `hil-tests/vm/system.conf` (two cross-connected
//! `dahdi_dynamic_loc` spans, channels 1–24 and 25–48). On a real card, wire ports back to
//! back and name them with environment variables (see `hil-tests/README.md`):
//!
//! | variable | default | what |
//! |---|---|---|
//! | `HIL_EXCHANGE` / `HIL_PHONE` | 1 / 25 | main pair: FXO-signalled (`fxoks`) / FXS-signalled (`fxsks`) |
//! | `HIL_ALAW_EXCHANGE` / `HIL_ALAW_PHONE` | 3 / 27 | a pair configured A-law (`alaw=` in system.conf) |
//! | `HIL_CLEAR_A` / `HIL_CLEAR_B` | 2 / 26 | clear channels wired together (0: skip) |
//! | `HIL_CONF_A` / `HIL_CONF_B` | 4 / 5 | two exchange-side channels to bridge in a conference (0: skip) |
//! | `HIL_CONF_FAR_A` / `HIL_CONF_FAR_B` | 28 / 29 | their far ends |
//! | `HIL_SPARE_EXCHANGE` / `HIL_SPARE_PHONE` | 6 / 30 | a pair for the busy/mio tests |
//! | `HIL_UNCONFIGURED` | 48 | a channel that exists but is not configured (0: skip) |
//! | `HIL_LEVEL_TOLERANCE_DB` | 1.0 | level difference accepted across the pair |
//!
//! # Skipping
//!
//! Without `/dev/dahdi` every test prints `skipped: /dev/dahdi not present (...)` and
//! passes, so `cargo test --workspace` is green on a developer machine. With
//! `HIL_REQUIRE_DAHDI=1` (set inside the VM) a missing `/dev/dahdi` fails instead.
//!
//! # Serialising
//!
//! Channels are exclusive and the tests share them, so every test holds an exclusive
//! `flock` on `/tmp/hil-tests-dahdi.lock` while it runs: test threads and separate test
//! processes (`cargo nextest`) take turns.

use std::fs::File;
use std::time::Duration;

use dahdi::Channel;
use nix::fcntl::{Flock, FlockArg};

use crate::contract::LinePair;

/// Channel numbers for the tests (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RigConfig {
    /// Main pair, exchange side (FXO-signalled).
    pub exchange: u16,
    /// Main pair, phone side (FXS-signalled).
    pub phone: u16,
    /// A-law pair, exchange side.
    pub alaw_exchange: u16,
    /// A-law pair, phone side.
    pub alaw_phone: u16,
    /// Clear channel A (0: none).
    pub clear_a: u16,
    /// Clear channel B, wired to A.
    pub clear_b: u16,
    /// First channel to bridge in a conference.
    pub conf_a: u16,
    /// Second channel to bridge.
    pub conf_b: u16,
    /// The far end of `conf_a`.
    pub conf_far_a: u16,
    /// The far end of `conf_b`.
    pub conf_far_b: u16,
    /// Spare pair, exchange side.
    pub spare_exchange: u16,
    /// Spare pair, phone side.
    pub spare_phone: u16,
    /// A channel that exists but is not configured.
    pub unconfigured: u16,
}

fn env_u16(name: &str, default: u16) -> u16 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a channel number")),
        Err(_) => default,
    }
}

impl RigConfig {
    /// The VM's channels, overridden by `HIL_*` environment variables.
    pub fn from_env() -> Self {
        Self {
            exchange: env_u16("HIL_EXCHANGE", 1),
            phone: env_u16("HIL_PHONE", 25),
            alaw_exchange: env_u16("HIL_ALAW_EXCHANGE", 3),
            alaw_phone: env_u16("HIL_ALAW_PHONE", 27),
            clear_a: env_u16("HIL_CLEAR_A", 2),
            clear_b: env_u16("HIL_CLEAR_B", 26),
            conf_a: env_u16("HIL_CONF_A", 4),
            conf_b: env_u16("HIL_CONF_B", 5),
            conf_far_a: env_u16("HIL_CONF_FAR_A", 28),
            conf_far_b: env_u16("HIL_CONF_FAR_B", 29),
            spare_exchange: env_u16("HIL_SPARE_EXCHANGE", 6),
            spare_phone: env_u16("HIL_SPARE_PHONE", 30),
            unconfigured: env_u16("HIL_UNCONFIGURED", 48),
        }
    }
}

/// A running DAHDI test: holds the rig lock until dropped.
#[derive(Debug)]
pub struct Rig {
    _lock: Flock<File>,
    /// The channels to use.
    pub config: RigConfig,
}

/// Starts a DAHDI test: `None` (after printing why) where there is no DAHDI, otherwise the
/// rig, locked for this test.
///
/// # Panics
/// `HIL_REQUIRE_DAHDI=1` and no `/dev/dahdi`; the lock file cannot be opened.
pub fn rig(test: &str) -> Option<Rig> {
    if !std::path::Path::new(dahdi::DEV_DIR).exists() {
        assert!(
            std::env::var_os("HIL_REQUIRE_DAHDI").is_none(),
            "{test}: HIL_REQUIRE_DAHDI is set but /dev/dahdi is missing (modules not loaded?)"
        );
        println!(
            "skipped: /dev/dahdi not present (no DAHDI on this machine; {test} runs in the \
             hil-vm CI step or on a rig with a card)"
        );
        return None;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/hil-tests-dahdi.lock")
        .expect("open /tmp/hil-tests-dahdi.lock");
    let lock = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .expect("lock /tmp/hil-tests-dahdi.lock");
    println!("--- {test}");
    Some(Rig {
        _lock: lock,
        config: RigConfig::from_env(),
    })
}

/// Opens channel `n` or fails the test with the driver's explanation.
///
/// # Panics
/// The channel cannot be opened.
pub fn open(n: u16) -> Channel {
    Channel::open(n).unwrap_or_else(|e| panic!("{e}"))
}

/// Two DAHDI channels wired together, for the [`crate::contract`] checks.
#[derive(Debug)]
pub struct DahdiPair {
    /// The FXO-signalled side.
    pub exchange: Channel,
    /// The FXS-signalled side.
    pub phone: Channel,
}

impl DahdiPair {
    /// Opens `exchange` and `phone`; with `law` set, switches both to it.
    ///
    /// # Panics
    /// A channel cannot be opened or set to `law`.
    pub fn open(exchange: u16, phone: u16, law: Option<dahdi::Law>) -> Self {
        let mut pair = Self {
            exchange: open(exchange),
            phone: open(phone),
        };
        if let Some(law) = law {
            for ch in [&mut pair.exchange, &mut pair.phone] {
                ch.set_law(law).unwrap_or_else(|e| panic!("{e}"));
            }
        }
        pair
    }
}

impl LinePair for DahdiPair {
    type Ch = Channel;

    fn exchange(&mut self) -> &mut Channel {
        &mut self.exchange
    }

    fn phone(&mut self) -> &mut Channel {
        &mut self.phone
    }

    fn wait_ms(&mut self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    /// `HIL_LEVEL_TOLERANCE_DB` (for analog loops on a real card), else the contract's 1 dB.
    fn level_tolerance_db(&self) -> f64 {
        std::env::var("HIL_LEVEL_TOLERANCE_DB")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(crate::contract::LEVEL_TOLERANCE_DB)
    }
}

/// Reads and discards ready audio on `ch`; returns the events that held it up.
///
/// # Panics
/// The channel failed.
pub fn drain(ch: &mut Channel) -> Vec<dahdi::Event> {
    let mut buf = [0u8; 2 * tel_types::FRAME_SAMPLES];
    let mut events = Vec::new();
    for _ in 0..1000 {
        match ch.read(&mut buf).unwrap_or_else(|e| panic!("{e}")) {
            dahdi::ReadOutcome::Data(_) => {}
            dahdi::ReadOutcome::WouldBlock => break,
            dahdi::ReadOutcome::EventPending => {
                events.extend(ch.get_event().unwrap_or_else(|e| panic!("{e}")));
            }
        }
    }
    while let Some(e) = ch.get_event().unwrap_or_else(|e| panic!("{e}")) {
        events.push(e);
    }
    events
}

/// Waits up to `timeout_ms` for `want` on `ch` (draining audio meanwhile); returns the ms
/// waited and the events seen, or the events seen on timeout.
///
/// # Errors
/// `want` did not come; the events that did.
///
/// # Panics
/// The channel failed.
pub fn wait_event(
    ch: &mut Channel,
    want: dahdi::Event,
    timeout_ms: u64,
) -> Result<(u64, Vec<dahdi::Event>), Vec<dahdi::Event>> {
    let start = std::time::Instant::now();
    let mut seen = Vec::new();
    loop {
        seen.extend(drain(ch));
        if seen.contains(&want) {
            return Ok((start.elapsed().as_millis() as u64, seen));
        }
        if start.elapsed() >= Duration::from_millis(timeout_ms) {
            return Err(seen);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until `ch` has audio to read (`poll` for `POLLIN`), up to `timeout_ms`.
///
/// # Panics
/// `poll` failed.
pub fn wait_readable(ch: &Channel, timeout_ms: u16) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let mut fds = [PollFd::new(
        ch.as_fd(),
        PollFlags::POLLIN | PollFlags::POLLPRI,
    )];
    poll(&mut fds, PollTimeout::from(timeout_ms)).expect("poll") > 0
}
