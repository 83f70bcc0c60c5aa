//! The daemon's configuration: one TOML file (`/etc/ivrd/ivrd.toml`).
//!
//! [`Config::load`] reads the file, parses it into typed values (unknown keys
//! are errors), checks what the types cannot (channel ranges that overlap, a
//! trunk naming a script that does not exist, a station used twice, a backend
//! without its URL, …) and finally that the files it names exist. It reports
//! **every** problem it finds, each as
//!
//! ```text
//! /etc/ivrd/ivrd.toml:31:12: trunks[1].channels: channel 5 of board "card0" is already used by trunks[0].channels (line 24)
//! ```
//!
//! — the file, the line and column, the key path and the problem.
//!
//! Relative paths in the file are relative to the folder the file is in.
//! The annotated examples are `docs/config/ivrd-dahdi.toml` (a real DAHDI
//! install) and `docs/config/ivrd-sim.toml` (the simulated 120-port card);
//! `docs/operator-guide.md` has the reference of every key.
//!
//! No threads, no global state; parsing a config never touches a device.
//!
//! ```
//! let text = r#"
//! [[boards]]
//! name = "card0"
//! kind = "dahdi"
//!
//! [[trunks]]
//! name = "400-line"
//! board = "card0"
//! channels = "1-8"
//! script = "order-status"
//!
//! [scripts]
//! order-status = "scripts/order-status.ivr"
//!
//! [prompts]
//! dir = "prompts"
//!
//! [order_hooks]
//! backend = "sqlite"
//! path = "shop.sqlite"
//!
//! [recordings]
//! dir = "recordings"
//!
//! [cdr]
//! path = "cdr.sqlite"
//! "#;
//! let cfg = ivrd::config::Config::parse(text, "/etc/ivrd/ivrd.toml".as_ref()).unwrap();
//! assert_eq!(cfg.trunks[0].channels.channels(), (1..=8).collect::<Vec<u16>>());
//! assert_eq!(cfg.boards[0].tone_zone, "cn");
//! assert_eq!(cfg.scripts["order-status"], std::path::Path::new("/etc/ivrd/scripts/order-status.ivr"));
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub use tel_types::Law;

// ---------------------------------------------------------------------------
// The typed configuration
// ---------------------------------------------------------------------------

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[daemon]`: process-wide settings.
    #[serde(default)]
    pub daemon: Daemon,
    /// `[logging]`: what goes to stderr (and so to the journal).
    #[serde(default)]
    pub logging: Logging,
    /// `[metrics]`: the Prometheus endpoint.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// `[[boards]]`: the voice boards (DAHDI or the simulated card).
    pub boards: Vec<Board>,
    /// `[[trunks]]`: groups of incoming lines and the script each runs.
    #[serde(default)]
    pub trunks: Vec<TrunkGroup>,
    /// `[[stations]]`: FXS ports with the agents' analog phones.
    #[serde(default)]
    pub stations: Vec<StationGroup>,
    /// `[[agent_groups]]`: where scripts transfer callers to.
    #[serde(default)]
    pub agent_groups: Vec<AgentGroup>,
    /// `[scripts]`: script name → script file.
    pub scripts: BTreeMap<String, PathBuf>,
    /// `[prompts]`: the prompt packs.
    pub prompts: Prompts,
    /// `[order_hooks]`: the shop database the scripts look orders up in.
    pub order_hooks: OrderHooks,
    /// `[recordings]`: where call recordings go.
    pub recordings: Recordings,
    /// `[cdr]`: where call detail records go.
    pub cdr: CdrStore,
}

/// `[daemon]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Daemon {
    /// `grace_period_s`: on SIGTERM, how long calls in progress may go on
    /// before they are ended (1–3600 s; default 120). systemd's
    /// `TimeoutStopSec` must be longer.
    pub grace_period_s: u32,
    /// `max_channels`: the most channels the daemon holds open at once (1–1024; default
    /// 256). The audio thread reserves room for this many before it starts, so a reload
    /// can open channels without allocating on it; changing it needs a restart.
    pub max_channels: u32,
    /// `cpu_wakeup_latency_us`: while the daemon runs, no CPU may enter an idle state that
    /// takes longer than this to leave (0–10000 µs, or `"off"`: no request; default 0).
    /// Deep idle states empty the caches the audio thread's next block needs; the request
    /// goes through `/dev/cpu_dma_latency` and ends with the daemon. Changing it needs a
    /// restart.
    pub cpu_wakeup_latency_us: WakeupLatency,
    /// `hours`: who decides when the call centre is open, wherever a script asks
    /// (`open(...)`): `"script"` (its `hours` tables, the default), `"open"` (staffed round
    /// the clock: every hours table reads open) or `"closed"` (night service all day: an
    /// early close, an emergency). A reload applies it at once.
    pub hours: Hours,
    /// `audio_cpu`: pin the real-time audio thread to this CPU (0–1023; default: not
    /// pinned). Best with the CPU kept free of other work (`isolcpus=`, `nohz_full=` on the
    /// kernel command line). Changing it needs a restart.
    pub audio_cpu: Option<u32>,
}

impl Default for Daemon {
    fn default() -> Self {
        Self {
            grace_period_s: 120,
            max_channels: 256,
            cpu_wakeup_latency_us: WakeupLatency::Us(0),
            hours: Hours::Script,
            audio_cpu: None,
        }
    }
}

/// `daemon.hours`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Hours {
    /// The scripts' `hours` tables decide.
    #[default]
    Script,
    /// Open round the clock.
    Open,
    /// Closed (night service) all day.
    Closed,
}

impl Hours {
    /// The engine's mode for this setting.
    pub fn mode(self) -> ivr::HoursMode {
        match self {
            Self::Script => ivr::HoursMode::Script,
            Self::Open => ivr::HoursMode::Open,
            Self::Closed => ivr::HoursMode::Closed,
        }
    }
}

/// `daemon.cpu_wakeup_latency_us`: a number of microseconds, or `"off"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeupLatency {
    /// Make no request: the CPUs idle as the system's policy says.
    Off,
    /// Hold every CPU's wake-up latency at most this many µs (0: idle CPUs poll).
    Us(u32),
}

impl WakeupLatency {
    /// The request to make, in µs (`None`: none).
    pub fn as_us(self) -> Option<u32> {
        match self {
            Self::Off => None,
            Self::Us(us) => Some(us),
        }
    }
}

impl fmt::Display for WakeupLatency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::Us(us) => write!(f, "{us}"),
        }
    }
}

impl std::str::FromStr for WakeupLatency {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "off" {
            return Ok(Self::Off);
        }
        s.parse()
            .map(Self::Us)
            .map_err(|_| format!("{s:?} is neither a number of microseconds nor \"off\""))
    }
}

impl<'de> Deserialize<'de> for WakeupLatency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = WakeupLatency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of microseconds (0-10000) or \"off\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<WakeupLatency, E> {
                u32::try_from(v)
                    .map(WakeupLatency::Us)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<WakeupLatency, E> {
                u32::try_from(v)
                    .map(WakeupLatency::Us)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<WakeupLatency, E> {
                match v {
                    "off" => Ok(WakeupLatency::Off),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Only errors.
    Error,
    /// Errors and warnings.
    Warn,
    /// Plus one line per call and per reload (default).
    #[default]
    Info,
    /// Plus every state change of every call.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The `log` crate's filter for this level.
    pub const fn filter(self) -> log::LevelFilter {
        match self {
            Self::Error => log::LevelFilter::Error,
            Self::Warn => log::LevelFilter::Warn,
            Self::Info => log::LevelFilter::Info,
            Self::Debug => log::LevelFilter::Debug,
            Self::Trace => log::LevelFilter::Trace,
        }
    }
}

/// `[logging]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Logging {
    /// `level`: `error`, `warn`, `info` (default), `debug` or `trace`.
    pub level: LogLevel,
    /// `filter`: optional per-module filter in `env_logger` syntax, e.g.
    /// `"ivrd=debug,postgres=warn"`; overrides `level` where it matches.
    /// `RUST_LOG` in the environment overrides both.
    pub filter: Option<String>,
}

impl Logging {
    /// The stderr logger for this config: `level`, then `filter`, then
    /// `rust_log` (the `RUST_LOG` environment variable, if set) on top.
    ///
    /// With `journal` (pass `std::env::var_os("JOURNAL_STREAM").is_some()`:
    /// stderr is connected to the systemd journal) each line starts with the
    /// syslog priority, `<3>` for errors … `<7>` for debug, which journald
    /// turns into the entry's priority (`journalctl -p warning` works), and
    /// carries no timestamp (the journal has its own). Otherwise lines look
    /// like `2024-06-01T12:00:00Z WARN  ivrd::cdr: …`.
    pub fn builder(&self, journal: bool, rust_log: Option<&str>) -> env_logger::Builder {
        let mut b = env_logger::Builder::new();
        b.target(env_logger::Target::Stderr);
        b.filter_level(self.level.filter());
        if let Some(f) = &self.filter {
            b.parse_filters(f);
        }
        if let Some(f) = rust_log {
            b.parse_filters(f);
        }
        if journal {
            b.format(|buf, rec| {
                use std::io::Write as _;
                writeln!(
                    buf,
                    "<{}>{}: {}",
                    journal_priority(rec.level()),
                    rec.target(),
                    rec.args()
                )
            });
        }
        b
    }
}

/// The syslog priority journald gives a log line of `level`.
pub const fn journal_priority(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// `enabled`: serve metrics (default true).
    pub enabled: bool,
    /// `listen`: address:port for `GET /metrics` (default
    /// `127.0.0.1:9464`, loopback only; open it wider deliberately).
    pub listen: Address,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: Address(SocketAddr::from(([127, 0, 0, 1], 9464))),
        }
    }
}

/// A socket address written as `"ip:port"` (`"[::1]:9464"` for IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address(pub SocketAddr);

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(Address).map_err(|_| {
            serde::de::Error::custom(format!(
                "{s:?} is not an ip:port address (write e.g. \"127.0.0.1:9464\")"
            ))
        })
    }
}

/// Which driver a board uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoardKind {
    /// A real card through the DAHDI kernel drivers (`/dev/dahdi/*`).
    Dahdi,
    /// The simulated card (`drivers/simboard`) with a profile from
    /// `firmware-stubs/`.
    Sim,
}

/// `[[boards]]`: one voice board.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    /// `name`: how trunks and stations refer to this board.
    pub name: String,
    /// `kind`: `"dahdi"` or `"sim"`.
    pub kind: BoardKind,
    /// `law`: `"alaw"` (default; China, Europe) or `"ulaw"` (North America,
    /// Japan): the companding on the line.
    #[serde(default = "default_law", deserialize_with = "de_law")]
    pub law: Law,
    /// `tone_zone`: the country's call-progress tones, for busy-tone
    /// disconnect and the tones we play (default `"cn"`).
    #[serde(default = "default_zone")]
    pub tone_zone: String,
    /// `profile` (sim only, required): the board profile, e.g.
    /// `firmware-stubs/install-120.toml`.
    pub profile: Option<PathBuf>,
    /// `[boards.load]` (sim only): the simulated callers.
    pub load: Option<SimLoad>,
    /// `bridge`: who carries the audio between a caller and the agent it was transferred
    /// to: `"user"` (default; the daemon mixes it) or `"kernel"` (dahdi only: the DAHDI
    /// kernel conferences both channels; less CPU and latency, but DTMF clamping and
    /// listening do not apply while bridged; calls on `record = true` trunks stay in user
    /// space so the recording has both parties).
    #[serde(default)]
    pub bridge: BridgeMode,
    /// `block_ms`: the board's I/O block, `10` or `20` milliseconds. The audio thread reads
    /// and writes one block per wake-up and builds what it sends per block, so a prompt
    /// starts at most one block after its command; detectors always analyse 20 ms frames.
    /// Default: `10` on either kind (80-sample blocks: `DAHDI_SET_BLOCKSIZE 80` on DAHDI,
    /// `SimChannel::set_io_block(80)` on the simulated card). See [`Board::block_samples`].
    pub block_ms: Option<u32>,
    /// `tx_prime_blocks`: silent blocks written ahead of a channel's first, so the board's
    /// transmit queue holds that much more than the minimum (0–2 with 10 ms blocks, 0–1
    /// with 20 ms; default 0). Each block rides out that much more of a pause of the CPU
    /// without a gap in the audio sent, and delays every prompt's start by as much.
    #[serde(default)]
    pub tx_prime_blocks: u8,
}

impl Board {
    /// Block lengths `block_ms` may take.
    pub const BLOCK_MS: &'static [u32] = &[10, 20];

    /// The I/O block in samples: `block_ms` (checked to be 10 or 20), 80 (10 ms) by default.
    pub fn block_samples(&self) -> usize {
        let ms = self.block_ms.unwrap_or(10);
        ms as usize * tel_types::SAMPLES_PER_MS as usize
    }
}

/// `[[boards]] bridge`: where a caller and an agent are connected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BridgeMode {
    /// The daemon's audio thread mixes the two legs (the media pipeline sees the audio).
    #[default]
    User,
    /// The board's kernel driver bridges them (DAHDI conference); falls back to `User`
    /// for a call whose bridge the kernel refuses, or whose trunk records.
    Kernel,
}

fn default_law() -> Law {
    Law::ALaw
}

fn de_law<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Law, D::Error> {
    match String::deserialize(d)?.as_str() {
        "alaw" | "a-law" => Ok(Law::ALaw),
        "ulaw" | "mulaw" | "u-law" => Ok(Law::MuLaw),
        other => Err(serde::de::Error::custom(format!(
            "unknown law {other:?}, expected \"alaw\" or \"ulaw\""
        ))),
    }
}

fn default_zone() -> String {
    "cn".to_owned()
}

/// Tone zones the daemon knows (DAHDI's zone names).
pub const TONE_ZONES: &[&str] = &["cn", "us", "uk", "de", "fr", "jp", "hk", "tw", "sg", "au"];

/// `[boards.load]`: calls the simulated card generates.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimLoad {
    /// `calls_per_hour`: mean rate of incoming calls (Poisson).
    pub calls_per_hour: f64,
    /// `hold_mean_s`: mean time an agent talks with a caller who was put
    /// through (lognormal; default 150 s). Callers who stay in the IVR stay as
    /// long as their way through the script takes.
    #[serde(default = "default_hold")]
    pub hold_mean_s: f64,
    /// `seed`: the same seed gives the same calls (default 1).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `personas`: persona name → weight, one of [`PERSONAS`] (callers of the
    /// bundled shop hotline). Default: only `order-status`.
    #[serde(default = "default_personas")]
    pub personas: BTreeMap<String, f64>,
}

fn default_hold() -> f64 {
    150.0
}
fn default_seed() -> u64 {
    1
}
fn default_personas() -> BTreeMap<String, f64> {
    BTreeMap::from([("order-status".to_owned(), 1.0)])
}

/// Personas the simulated callers can be (callers of the bundled shop hotline,
/// `ivr-scripts/shop-hotline.ivr`):
///
/// - `order-status`: hears the menus, types an order number, hears the status, done;
/// - `two-orders`: the same for two orders;
/// - `mistypes`: too few digits, then a number the shop lacks, then the right one;
/// - `returns`: returns menu, order number, reason, a spoken message, the reference;
/// - `order-then-agent`: hears an order's status, then asks for an agent;
/// - `wants-agent`, `new-order`, `complaint`: key 0, 2 or 4 in the main menu, to an agent
///   (after hours they ask for a callback instead);
/// - `callback`: after hours, asks to be called back;
/// - `voice-message`: after hours, leaves a voice message (closed menu key 3), most with
///   the order number first; in opening hours the returns menu takes the message. After
///   hours the demo also turns `returns` callers and most of those who want an agent into
///   `voice-message` callers;
/// - `hangs-up`: hangs up during the greeting;
/// - `impatient`: hangs up if not answered within 8 s;
/// - `sloppy-keys`: quiet, twisted, short key tones.
pub const PERSONAS: &[&str] = &[
    "order-status",
    "two-orders",
    "mistypes",
    "returns",
    "order-then-agent",
    "wants-agent",
    "new-order",
    "complaint",
    "callback",
    "voice-message",
    "hangs-up",
    "impatient",
    "sloppy-keys",
];

/// A list of channel numbers written as `"1-8,10,12-15"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelList(Vec<(u16, u16)>);

/// Highest channel number DAHDI has (`DAHDI_MAX_CHANNELS - 1`).
pub const MAX_CHANNEL: u16 = 1023;

impl ChannelList {
    /// Parses `"1-8,10,12-15"`: numbers and inclusive ranges, separated by
    /// commas; numbers from 1 to [`MAX_CHANNEL`].
    ///
    /// # Errors
    ///
    /// A message naming the part that is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for part in s.split(',') {
            let p = part.trim();
            let num = |t: &str| -> Result<u16, String> {
                match t.trim().parse::<u16>() {
                    Ok(n) if (1..=MAX_CHANNEL).contains(&n) => Ok(n),
                    _ => Err(format!(
                        "{t:?} in {s:?} is not a channel number (1 to {MAX_CHANNEL})"
                    )),
                }
            };
            let (a, b) = match p.split_once('-') {
                Some((a, b)) => (num(a)?, num(b)?),
                None => {
                    let n = num(p)?;
                    (n, n)
                }
            };
            if a > b {
                return Err(format!("range {p:?} in {s:?} goes backwards"));
            }
            out.push((a, b));
        }
        Ok(Self(out))
    }

    /// Every channel number, in the order written.
    pub fn channels(&self) -> Vec<u16> {
        self.0.iter().flat_map(|&(a, b)| a..=b).collect()
    }
}

impl fmt::Display for ChannelList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (a, b)) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            if a == b {
                write!(f, "{sep}{a}")?;
            } else {
                write!(f, "{sep}{a}-{b}")?;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for ChannelList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How caller ID is sent on a trunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallerIdStandard {
    /// FSK, 1200 baud, Bell 202 tones (1200/2200 Hz): China's usual.
    FskBell202,
    /// FSK, 1200 baud, ITU-T V.23 tones (1300/2100 Hz).
    FskV23,
    /// DTMF digits (some Chinese exchanges, before the first ring).
    Dtmf,
    /// The line sends no caller ID: do not wait for it.
    None,
}

/// When caller ID arrives relative to ringing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallerIdTiming {
    /// Before the first ring (usual for DTMF caller ID).
    BeforeFirstRing,
    /// Between the first and the second ring (usual for FSK).
    AfterFirstRing,
    /// After a polarity reversal that precedes the first ring.
    OnPolarityReversal,
}

/// `[trunks.caller_id]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallerIdConfig {
    /// `standard`: `fsk-bell202` (default), `fsk-v23`, `dtmf` or `none`.
    pub standard: CallerIdStandard,
    /// `arrives`: `before-first-ring`, `after-first-ring` (default) or
    /// `on-polarity-reversal`.
    pub arrives: CallerIdTiming,
    /// `timeout_ms`: how long after its trigger to wait for caller ID
    /// before answering without it (default 4000).
    pub timeout_ms: u32,
}

impl Default for CallerIdConfig {
    fn default() -> Self {
        Self {
            standard: CallerIdStandard::FskBell202,
            arrives: CallerIdTiming::AfterFirstRing,
            timeout_ms: 4000,
        }
    }
}

/// `[trunks.busy_tone]`: hang up when the exchange plays busy tone (how
/// most Chinese analog lines say the caller has hung up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusyToneConfig {
    /// `disconnect`: hang up on busy tone (default true; turn off only on a
    /// line that signals hangup by loop-current drop or polarity reversal).
    pub disconnect: bool,
    /// `cadences`: on/off cycles that must match before hanging up
    /// (2–10; default 4: about 2.8 s of China's 350/350 ms busy tone).
    pub cadences: u32,
    /// `on_ms`: tone-on time, if the exchange differs from the tone zone.
    pub on_ms: Option<u32>,
    /// `off_ms`: tone-off time, if the exchange differs from the tone zone.
    pub off_ms: Option<u32>,
    /// `frequency_hz`: tone frequency, if it differs from the tone zone.
    pub frequency_hz: Option<u32>,
}

impl Default for BusyToneConfig {
    fn default() -> Self {
        Self {
            disconnect: true,
            cadences: 4,
            on_ms: None,
            off_ms: None,
            frequency_hz: None,
        }
    }
}

/// `[[trunks]]`: a group of incoming lines.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkGroup {
    /// `name`: the trunk group's name (in logs, CDRs and metrics).
    pub name: String,
    /// `board`: the board the channels are on.
    pub board: String,
    /// `channels`: channel numbers, e.g. `"1-8"` or `"1-4,7"`.
    pub channels: ChannelList,
    /// `script`: the name of the script (in `[scripts]`) calls on these
    /// lines run.
    pub script: String,
    /// `language`: the prompt language for these lines (default
    /// `prompts.default_language`).
    pub language: Option<String>,
    /// `answer_after_rings`: rings before answering (1–10; default 2, so
    /// FSK caller ID between the first and second ring is received).
    #[serde(default = "default_rings")]
    pub answer_after_rings: u32,
    /// `hangup_on_polarity`: treat a polarity reversal as the caller
    /// hanging up (only if the carrier provides it; default false).
    #[serde(default)]
    pub hangup_on_polarity: bool,
    /// `record`: record calls on these lines (default false).
    #[serde(default)]
    pub record: bool,
    /// `rx_gain_db`: gain applied to what we hear, dB (−24 to +24; default 0).
    #[serde(default)]
    pub rx_gain_db: f32,
    /// `tx_gain_db`: gain applied to what we send, dB (−24 to +24; default 0).
    #[serde(default)]
    pub tx_gain_db: f32,
    /// `[trunks.caller_id]`.
    #[serde(default)]
    pub caller_id: CallerIdConfig,
    /// `[trunks.busy_tone]`.
    #[serde(default)]
    pub busy_tone: BusyToneConfig,
}

fn default_rings() -> u32 {
    2
}

/// `[[stations]]`: FXS ports with the agents' phones.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationGroup {
    /// `board`: the board the ports are on.
    pub board: String,
    /// `channels`: channel numbers, e.g. `"9-16"`.
    pub channels: ChannelList,
    /// `groups`: the agent groups these stations answer for.
    pub groups: Vec<String>,
    /// `rx_gain_db`: gain on what the agent says, dB (−24 to +24).
    #[serde(default)]
    pub rx_gain_db: f32,
    /// `tx_gain_db`: gain on what the agent hears, dB (−24 to +24).
    #[serde(default)]
    pub tx_gain_db: f32,
}

/// How an agent group picks a station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Ring the station that has been idle longest (default).
    #[default]
    LongestIdle,
    /// Ring every free station; the first to answer gets the call.
    RingAll,
    /// Take turns.
    RoundRobin,
    /// Always in the order the stations are listed.
    Linear,
}

/// `[[agent_groups]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentGroup {
    /// `name`: what scripts transfer to.
    pub name: String,
    /// `strategy`: `longest-idle` (default), `ring-all`, `round-robin`,
    /// `linear`.
    #[serde(default)]
    pub strategy: Strategy,
    /// `ring_timeout_s`: ring a station this long before trying the next
    /// (1–120; default 20).
    #[serde(default = "default_ring_timeout")]
    pub ring_timeout_s: u32,
    /// `max_wait_s`: longest a caller waits in the queue before the
    /// script's fallback (default 300).
    #[serde(default = "default_max_wait")]
    pub max_wait_s: u32,
    /// `wrap_up_s`: pause after a call before the station is rung again
    /// (default 10).
    #[serde(default = "default_wrap_up")]
    pub wrap_up_s: u32,
}

fn default_ring_timeout() -> u32 {
    20
}
fn default_max_wait() -> u32 {
    300
}
fn default_wrap_up() -> u32 {
    10
}

/// `[prompts]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prompts {
    /// `dir`: the prompt packs folder, one subfolder per language
    /// (`zh-CN/`, `en/`), 8 kHz mono WAV files.
    pub dir: PathBuf,
    /// `default_language`: the language used unless a trunk says otherwise
    /// (default `"zh-CN"`).
    #[serde(default = "default_language")]
    pub default_language: String,
}

fn default_language() -> String {
    "zh-CN".to_owned()
}

/// Which database the order hooks talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookBackend {
    /// A SQLite file (`path`).
    Sqlite,
    /// PostgreSQL (`url`).
    Postgres,
    /// MySQL / MariaDB (`url`: `mysql://` or `mariadb://`), e.g. an ECShop
    /// database.
    Mysql,
}

/// Which queries the order hooks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HookPreset {
    /// The workspace's generic order schema (default).
    #[default]
    Generic,
    /// ECShop's tables (`ecs_order_info`, …).
    Ecshop,
    /// The queries in `custom_sql`.
    Custom,
}

/// `[order_hooks]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderHooks {
    /// `backend`: `sqlite`, `postgres` or `mysql`.
    pub backend: HookBackend,
    /// `path`: the database file (sqlite only).
    pub path: Option<PathBuf>,
    /// `url`: `postgres://user:pass@host/db` or `mysql://user:pass@host/db`
    /// (postgres and mysql only).
    pub url: Option<String>,
    /// `preset`: `generic` (default), `ecshop` or `custom`.
    #[serde(default)]
    pub preset: HookPreset,
    /// `table_prefix`: ECShop's table prefix (preset `ecshop` only;
    /// default `"ecs_"`).
    pub table_prefix: Option<String>,
    /// `custom_sql`: the integrator's queries file (preset `custom` only),
    /// in the order-hooks crate's format: a TOML file whose `[queries]`
    /// table holds `order_by_no`, `recent_by_phone`, `create_after_sales`
    /// and `request_callback`.
    pub custom_sql: Option<PathBuf>,
    /// `timeout_ms`: a lookup slower than this gives the caller the
    /// script's fallback (50–10000; default 1500).
    #[serde(default = "default_hook_timeout")]
    pub timeout_ms: u32,
    /// `pool_size`: database connections (and hook worker threads), 1–64
    /// (default 4).
    #[serde(default = "default_pool")]
    pub pool_size: u32,
}

fn default_hook_timeout() -> u32 {
    1500
}
fn default_pool() -> u32 {
    4
}

/// `[recordings]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recordings {
    /// `dir`: where WAV recordings go, one subfolder per day. It must exist
    /// and be writable by the `ivrd` user.
    pub dir: PathBuf,
}

/// Where CDRs are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CdrBackend {
    /// A SQLite file (default).
    #[default]
    Sqlite,
    /// The shop's PostgreSQL.
    Postgres,
}

/// `[cdr]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CdrStore {
    /// `store`: `sqlite` (default) or `postgres`.
    #[serde(default)]
    pub store: CdrBackend,
    /// `path`: the SQLite file (created if missing; its folder must exist).
    pub path: Option<PathBuf>,
    /// `url`: the PostgreSQL URL (store `postgres`).
    pub url: Option<String>,
    /// `spill`: the append-only file CDRs go to while the store is failing;
    /// replayed automatically. Default: `<path>.spill.jsonl` for sqlite;
    /// required for postgres.
    pub spill: Option<PathBuf>,
}

impl CdrStore {
    /// The CDR writer's settings for this store (defaults for the rest).
    /// Call on a config from [`Config::parse`]/[`Config::load`], where the
    /// spill path is always set.
    pub fn writer_config(&self) -> crate::cdr::WriterConfig {
        crate::cdr::WriterConfig::new(self.store_spec(), self.spill.clone().unwrap_or_default())
    }

    /// The store as the CDR writer takes it.
    pub fn store_spec(&self) -> crate::cdr::StoreSpec {
        match self.store {
            CdrBackend::Sqlite => {
                crate::cdr::StoreSpec::Sqlite(self.path.clone().unwrap_or_default())
            }
            CdrBackend::Postgres => {
                crate::cdr::StoreSpec::Postgres(self.url.clone().unwrap_or_default())
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// What is wrong with one key.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Problem {
    /// The file could not be read.
    Read(String),
    /// Not valid TOML, or a value of the wrong type/shape (the parser's words).
    Parse(String),
    /// A key that must be there is not.
    Missing,
    /// A key that does not belong with the other settings.
    NotAllowed(&'static str),
    /// More channels configured than `daemon.max_channels` allows.
    TooManyChannels {
        /// Channels the trunks and stations name.
        configured: usize,
        /// `daemon.max_channels`.
        max: u32,
    },
    /// A name that refers to nothing.
    Unknown {
        /// What kind of thing (board, script, agent group…).
        what: &'static str,
        /// The name given.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// A name defined twice.
    Duplicate {
        /// What kind of thing.
        what: &'static str,
        /// The name.
        name: String,
        /// Where it was first defined (key path and line).
        first: String,
    },
    /// A channel used twice.
    ChannelInUse {
        /// The board.
        board: String,
        /// The channel.
        channel: u16,
        /// Where it was first used (key path and line).
        first: String,
    },
    /// A number out of its range.
    OutOfRange {
        /// The value.
        value: String,
        /// The lowest allowed.
        min: String,
        /// The highest allowed.
        max: String,
    },
    /// A file or folder that does not exist.
    NoSuchFile(PathBuf),
    /// A value that does not fit with others (explained).
    Conflict(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(e) => write!(f, "cannot read the file: {e}"),
            Self::Parse(m) => f.write_str(m),
            Self::Missing => f.write_str("missing"),
            Self::NotAllowed(why) => write!(f, "not allowed here: {why}"),
            Self::TooManyChannels { configured, max } => write!(
                f,
                "{configured} channels are configured, more than daemon.max_channels ({max}); raise it (up to 1024) or configure fewer"
            ),
            Self::Unknown { what, name, known } => {
                write!(f, "no {what} is called {name:?}")?;
                if known.is_empty() {
                    write!(f, " (none is defined)")
                } else {
                    write!(f, " (known: {})", known.join(", "))
                }
            }
            Self::Duplicate { what, name, first } => {
                write!(f, "{what} {name:?} is already defined at {first}")
            }
            Self::ChannelInUse {
                board,
                channel,
                first,
            } => write!(
                f,
                "channel {channel} of board {board:?} is already used by {first}"
            ),
            Self::OutOfRange { value, min, max } => {
                write!(f, "{value} is out of range ({min} to {max})")
            }
            Self::NoSuchFile(p) => write!(f, "{} does not exist", p.display()),
            Self::Conflict(m) => f.write_str(m),
        }
    }
}

/// One problem in a config file, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub line_col: Option<(usize, usize)>,
    /// The key path, e.g. `trunks[1].channels` (empty for the whole file).
    pub key: String,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((l, c)) = self.line_col {
            write!(f, ":{l}:{c}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// Every problem found in a config file (at least one).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

// ---------------------------------------------------------------------------
// Key paths and spans
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn path_string(p: &[Seg]) -> String {
    let mut s = String::new();
    for seg in p {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                let bare = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if bare {
                    s.push_str(k);
                } else {
                    s.push_str(&format!("{k:?}"));
                }
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn contains(span: &Range<usize>, at: usize) -> bool {
    span.start <= at && at < span.end.max(span.start + 1)
}

/// The key path of the deepest key or value whose span holds `at`.
fn path_at(v: &Spanned<DeValue<'_>>, at: usize) -> Option<Vec<Seg>> {
    match v.get_ref() {
        DeValue::Table(t) => {
            for (k, val) in t.iter() {
                if contains(&k.span(), at) {
                    return Some(vec![Seg::Key(k.get_ref().to_string())]);
                }
                if let Some(mut sub) = path_at(val, at) {
                    sub.insert(0, Seg::Key(k.get_ref().to_string()));
                    return Some(sub);
                }
            }
            contains(&v.span(), at).then(Vec::new)
        }
        DeValue::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                if let Some(mut sub) = path_at(e, at) {
                    sub.insert(0, Seg::Index(i));
                    return Some(sub);
                }
            }
            contains(&v.span(), at).then(Vec::new)
        }
        _ => contains(&v.span(), at).then(Vec::new),
    }
}

/// The span of the value at `path`, or of the nearest existing parent.
fn span_of(root: &Spanned<DeValue<'_>>, path: &[Seg]) -> Range<usize> {
    let mut cur = root;
    let mut best = root.span();
    for seg in path {
        let next = match (seg, cur.get_ref()) {
            (Seg::Key(k), DeValue::Table(t)) => t
                .iter()
                .find(|(kk, _)| kk.get_ref() == k)
                .map(|(kk, vv)| (kk.span(), vv)),
            (Seg::Index(i), DeValue::Array(a)) => a.get(*i).map(|e| (e.span(), e)),
            _ => None,
        };
        let Some((key_span, v)) = next else {
            return best;
        };
        // Tables from `[header]`s have the header's span; values their own.
        best = if matches!(v.get_ref(), DeValue::Table(_) | DeValue::Array(_)) {
            if v.span().is_empty() {
                key_span
            } else {
                v.span()
            }
        } else {
            v.span()
        };
        cur = v;
    }
    best
}

fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit_once('\n')
        .map_or(before, |(_, rest)| rest)
        .chars()
        .count()
        + 1;
    (line, col)
}

/// Collects problems with their locations.
struct Checker<'a> {
    file: &'a Path,
    text: &'a str,
    root: Spanned<DeValue<'a>>,
    errors: Vec<ConfigError>,
}

fn k(s: &str) -> Seg {
    Seg::Key(s.to_owned())
}

impl Checker<'_> {
    fn here(&self, path: &[Seg]) -> String {
        let (l, _) = line_col(self.text, span_of(&self.root, path).start);
        format!("{} (line {l})", path_string(path))
    }

    fn report(&mut self, path: &[Seg], problem: Problem) {
        let span = span_of(&self.root, path);
        self.errors.push(ConfigError {
            file: self.file.to_owned(),
            line_col: Some(line_col(self.text, span.start)),
            key: path_string(path),
            problem,
        });
    }

    fn range<T: PartialOrd + fmt::Display + Copy>(
        &mut self,
        path: &[Seg],
        value: T,
        min: T,
        max: T,
    ) {
        if !(value >= min && value <= max) {
            self.report(
                path,
                Problem::OutOfRange {
                    value: value.to_string(),
                    min: min.to_string(),
                    max: max.to_string(),
                },
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

impl Config {
    /// Reads, parses and checks the config file at `path`, including that
    /// the files it names exist.
    ///
    /// # Errors
    ///
    /// Every problem found, each naming the file, line:col and key.
    pub fn load(path: &Path) -> Result<Self, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                file: path.to_owned(),
                line_col: None,
                key: String::new(),
                problem: Problem::Read(e.to_string()),
            }])
        })?;
        let cfg = Self::parse(&text, path)?;
        let missing = cfg.missing_files(&text, path);
        if missing.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigErrors(missing))
        }
    }

    /// Parses and checks config `text` that came from `file` (used in
    /// messages and to resolve relative paths). Does not look at other files.
    ///
    /// # Errors
    ///
    /// Every problem found, each naming the file, line:col and key.
    pub fn parse(text: &str, file: &Path) -> Result<Self, ConfigErrors> {
        let root = match DeTable::parse(text) {
            Ok(t) => {
                let span = t.span();
                Spanned::new(span, DeValue::Table(t.into_inner()))
            }
            Err(e) => {
                return Err(ConfigErrors(vec![ConfigError {
                    file: file.to_owned(),
                    line_col: e.span().map(|s| line_col(text, s.start)),
                    key: String::new(),
                    problem: Problem::Parse(e.message().to_owned()),
                }]));
            }
        };
        let mut ck = Checker {
            file,
            text,
            root,
            errors: Vec::new(),
        };
        let mut cfg: Self = match toml::from_str(text) {
            Ok(c) => c,
            Err(e) => {
                let at = e.span().map_or(0, |s| s.start);
                let mut path = path_at(&ck.root, at).unwrap_or_default();
                let msg = e.message().to_owned();
                let problem = if let Some(name) = msg
                    .strip_prefix("missing field `")
                    .and_then(|r| r.split('`').next())
                {
                    path.push(Seg::Key(name.to_owned()));
                    Problem::Missing
                } else {
                    Problem::Parse(msg)
                };
                return Err(ConfigErrors(vec![ConfigError {
                    file: file.to_owned(),
                    line_col: e.span().map(|s| line_col(text, s.start)),
                    key: path_string(&path),
                    problem,
                }]));
            }
        };
        cfg.check(&mut ck);
        if !ck.errors.is_empty() {
            return Err(ConfigErrors(ck.errors));
        }
        cfg.resolve_paths(file.parent().unwrap_or(Path::new(".")));
        Ok(cfg)
    }

    /// The semantic checks: names, references, channel use, ranges and
    /// combinations. Adds every problem to `ck`.
    fn check(&self, ck: &mut Checker<'_>) {
        ck.range(
            &[k("daemon"), k("grace_period_s")],
            self.daemon.grace_period_s,
            1,
            3600,
        );
        ck.range(
            &[k("daemon"), k("max_channels")],
            self.daemon.max_channels,
            1,
            1024,
        );
        if let Some(cpu) = self.daemon.audio_cpu {
            ck.range(&[k("daemon"), k("audio_cpu")], cpu, 0, 1023);
        }
        if let WakeupLatency::Us(us) = self.daemon.cpu_wakeup_latency_us {
            ck.range(&[k("daemon"), k("cpu_wakeup_latency_us")], us, 0, 10_000);
        }
        let configured = self.channel_set().len();
        if configured > self.daemon.max_channels as usize && !self.trunks.is_empty() {
            ck.report(
                &[k("daemon"), k("max_channels")],
                Problem::TooManyChannels {
                    configured,
                    max: self.daemon.max_channels,
                },
            );
        }

        // Boards.
        if self.boards.is_empty() {
            ck.report(&[k("boards")], Problem::Missing);
        }
        let mut boards: HashMap<&str, usize> = HashMap::new();
        for (i, b) in self.boards.iter().enumerate() {
            let at = |key: &str| [k("boards"), Seg::Index(i), k(key)];
            if i > 0 {
                ck.report(
                    &at("name"),
                    Problem::NotAllowed(
                        "one [[boards]] per daemon: DAHDI numbers the channels of all its spans in one range, so list every span's channels under one board (the simulated card is one profile)",
                    ),
                );
            }
            if let Some(&first) = boards.get(b.name.as_str()) {
                let first = ck.here(&[k("boards"), Seg::Index(first), k("name")]);
                ck.report(
                    &at("name"),
                    Problem::Duplicate {
                        what: "board",
                        name: b.name.clone(),
                        first,
                    },
                );
            } else {
                boards.insert(&b.name, i);
            }
            if !TONE_ZONES.contains(&b.tone_zone.as_str()) {
                ck.report(
                    &at("tone_zone"),
                    Problem::Unknown {
                        what: "tone zone",
                        name: b.tone_zone.clone(),
                        known: TONE_ZONES.iter().map(|z| (*z).to_owned()).collect(),
                    },
                );
            }
            // The board's transmit buffers are 40 ms (4 × 80 or 2 × 160 samples on DAHDI):
            // the primed blocks and the one being written must fit.
            let most = if b.block_samples() == tel_types::FRAME_SAMPLES {
                1
            } else {
                2
            };
            if b.tx_prime_blocks > most {
                ck.report(
                    &at("tx_prime_blocks"),
                    Problem::Conflict(format!(
                        "{} blocks of {} ms do not fit the board's 40 ms of transmit buffers with the block being written: use at most {most}",
                        b.tx_prime_blocks,
                        b.block_samples() / tel_types::SAMPLES_PER_MS as usize
                    )),
                );
            }
            if let Some(ms) = b.block_ms.filter(|ms| !Board::BLOCK_MS.contains(ms)) {
                ck.report(
                    &at("block_ms"),
                    Problem::Conflict(format!(
                        "{ms} ms is not a block the audio loop runs: use 10 or 20"
                    )),
                );
            }
            match b.kind {
                BoardKind::Dahdi => {
                    if b.profile.is_some() {
                        ck.report(
                            &at("profile"),
                            Problem::NotAllowed("only for kind = \"sim\""),
                        );
                    }
                    if b.load.is_some() {
                        ck.report(&at("load"), Problem::NotAllowed("only for kind = \"sim\""));
                    }
                }
                BoardKind::Sim => {
                    if b.bridge == BridgeMode::Kernel {
                        ck.report(
                            &at("bridge"),
                            Problem::NotAllowed(
                                "\"kernel\" needs kind = \"dahdi\" (the simulated card bridges in user space)",
                            ),
                        );
                    }
                    if b.profile.is_none() {
                        ck.report(&at("profile"), Problem::Missing);
                    }
                    if let Some(load) = &b.load {
                        let l = |key: &str| [k("boards"), Seg::Index(i), k("load"), k(key)];
                        ck.range(&l("calls_per_hour"), load.calls_per_hour, 0.0, 100_000.0);
                        ck.range(&l("hold_mean_s"), load.hold_mean_s, 1.0, 3600.0);
                        if load.personas.is_empty() {
                            ck.report(&l("personas"), Problem::Missing);
                        }
                        for (name, w) in &load.personas {
                            let p = [
                                k("boards"),
                                Seg::Index(i),
                                k("load"),
                                k("personas"),
                                k(name),
                            ];
                            if !PERSONAS.contains(&name.as_str()) {
                                ck.report(
                                    &p,
                                    Problem::Unknown {
                                        what: "persona",
                                        name: name.clone(),
                                        known: PERSONAS.iter().map(|s| (*s).to_owned()).collect(),
                                    },
                                );
                            }
                            ck.range(&p, *w, 0.0, 1000.0);
                        }
                    }
                }
            }
        }
        let mut board_names: Vec<String> = self.boards.iter().map(|b| b.name.clone()).collect();
        board_names.dedup();

        // Channels: every channel of every board used at most once.
        let mut used: HashMap<(&str, u16), Vec<Seg>> = HashMap::new();
        let mut claim = |ck: &mut Checker<'_>, board: &str, list: &ChannelList, at: Vec<Seg>| {
            let mut reported = false;
            for ch in list.channels() {
                let Some(b) = self.boards.iter().find(|b| b.name == board) else {
                    return;
                };
                if let Some(first) = used.get(&(b.name.as_str(), ch)) {
                    if reported {
                        continue; // one report per list is enough
                    }
                    reported = true;
                    let first = ck.here(first);
                    ck.report(
                        &at,
                        Problem::ChannelInUse {
                            board: board.to_owned(),
                            channel: ch,
                            first,
                        },
                    );
                    continue;
                }
                used.insert((b.name.as_str(), ch), at.clone());
            }
        };

        // Trunks.
        let mut trunk_names: HashMap<&str, usize> = HashMap::new();
        for (i, t) in self.trunks.iter().enumerate() {
            let at = |key: &str| vec![k("trunks"), Seg::Index(i), k(key)];
            if let Some(&first) = trunk_names.get(t.name.as_str()) {
                let first = ck.here(&[k("trunks"), Seg::Index(first), k("name")]);
                ck.report(
                    &at("name"),
                    Problem::Duplicate {
                        what: "trunk group",
                        name: t.name.clone(),
                        first,
                    },
                );
            } else {
                trunk_names.insert(&t.name, i);
            }
            if !boards.contains_key(t.board.as_str()) {
                ck.report(
                    &at("board"),
                    Problem::Unknown {
                        what: "board",
                        name: t.board.clone(),
                        known: board_names.clone(),
                    },
                );
            }
            claim(ck, &t.board, &t.channels, at("channels"));
            if !self.scripts.contains_key(&t.script) {
                ck.report(
                    &at("script"),
                    Problem::Unknown {
                        what: "script",
                        name: t.script.clone(),
                        known: self.scripts.keys().cloned().collect(),
                    },
                );
            }
            ck.range(&at("answer_after_rings"), t.answer_after_rings, 1, 10);
            ck.range(&at("rx_gain_db"), t.rx_gain_db, -24.0, 24.0);
            ck.range(&at("tx_gain_db"), t.tx_gain_db, -24.0, 24.0);
            let cid = &t.caller_id;
            let cid_at = |key: &str| vec![k("trunks"), Seg::Index(i), k("caller_id"), k(key)];
            if cid.standard != CallerIdStandard::None
                && cid.arrives == CallerIdTiming::AfterFirstRing
                && t.answer_after_rings < 2
            {
                ck.report(
                    &at("answer_after_rings"),
                    Problem::Conflict(
                        "caller ID arrives after the first ring, so answer after at least 2 rings \
                         (or set caller_id.standard = \"none\")"
                            .to_owned(),
                    ),
                );
            }
            ck.range(&cid_at("timeout_ms"), cid.timeout_ms, 500, 10_000);
            let bt = &t.busy_tone;
            let bt_at = |key: &str| vec![k("trunks"), Seg::Index(i), k("busy_tone"), k(key)];
            ck.range(&bt_at("cadences"), bt.cadences, 2, 10);
            if let Some(v) = bt.on_ms {
                ck.range(&bt_at("on_ms"), v, 50, 2000);
            }
            if let Some(v) = bt.off_ms {
                ck.range(&bt_at("off_ms"), v, 50, 2000);
            }
            if let Some(v) = bt.frequency_hz {
                ck.range(&bt_at("frequency_hz"), v, 300, 3400);
            }
            if !bt.disconnect && !t.hangup_on_polarity {
                log::warn!(
                    "trunks[{i}] ({}): busy-tone disconnect and polarity hangup are both off; \
                     hangups will only be seen as loop-current drops",
                    t.name
                );
            }
        }

        // Agent groups.
        let mut groups: HashMap<&str, usize> = HashMap::new();
        for (i, g) in self.agent_groups.iter().enumerate() {
            let at = |key: &str| vec![k("agent_groups"), Seg::Index(i), k(key)];
            if let Some(&first) = groups.get(g.name.as_str()) {
                let first = ck.here(&[k("agent_groups"), Seg::Index(first), k("name")]);
                ck.report(
                    &at("name"),
                    Problem::Duplicate {
                        what: "agent group",
                        name: g.name.clone(),
                        first,
                    },
                );
            } else {
                groups.insert(&g.name, i);
            }
            ck.range(&at("ring_timeout_s"), g.ring_timeout_s, 1, 120);
            ck.range(&at("max_wait_s"), g.max_wait_s, 0, 3600);
            ck.range(&at("wrap_up_s"), g.wrap_up_s, 0, 600);
        }
        let group_names: Vec<String> = self.agent_groups.iter().map(|g| g.name.clone()).collect();

        // Stations.
        let mut staffed: HashMap<&str, bool> = HashMap::new();
        for (i, s) in self.stations.iter().enumerate() {
            let at = |key: &str| vec![k("stations"), Seg::Index(i), k(key)];
            if !boards.contains_key(s.board.as_str()) {
                ck.report(
                    &at("board"),
                    Problem::Unknown {
                        what: "board",
                        name: s.board.clone(),
                        known: board_names.clone(),
                    },
                );
            }
            claim(ck, &s.board, &s.channels, at("channels"));
            ck.range(&at("rx_gain_db"), s.rx_gain_db, -24.0, 24.0);
            ck.range(&at("tx_gain_db"), s.tx_gain_db, -24.0, 24.0);
            for (j, g) in s.groups.iter().enumerate() {
                let gp = vec![k("stations"), Seg::Index(i), k("groups"), Seg::Index(j)];
                if let Some(prev) = s.groups[..j].iter().position(|x| x == g) {
                    let first =
                        ck.here(&[k("stations"), Seg::Index(i), k("groups"), Seg::Index(prev)]);
                    ck.report(
                        &gp,
                        Problem::Duplicate {
                            what: "agent group",
                            name: g.clone(),
                            first,
                        },
                    );
                } else if groups.contains_key(g.as_str()) {
                    staffed.insert(g, true);
                } else {
                    ck.report(
                        &gp,
                        Problem::Unknown {
                            what: "agent group",
                            name: g.clone(),
                            known: group_names.clone(),
                        },
                    );
                }
            }
        }
        for (i, g) in self.agent_groups.iter().enumerate() {
            if !staffed.contains_key(g.name.as_str()) {
                ck.report(
                    &[k("agent_groups"), Seg::Index(i), k("name")],
                    Problem::Conflict(format!(
                        "no station is in agent group {:?}: calls transferred there would never \
                         be answered (add it to a [[stations]] groups list)",
                        g.name
                    )),
                );
            }
        }

        // Scripts and prompts.
        for (name, p) in &self.scripts {
            if p.as_os_str().is_empty() {
                ck.report(&[k("scripts"), k(name)], Problem::Missing);
            }
        }
        if self.scripts.is_empty() {
            ck.report(&[k("scripts")], Problem::Missing);
        }
        for (i, t) in self.trunks.iter().enumerate() {
            if let Some(lang) = &t.language {
                if lang.trim().is_empty() {
                    ck.report(
                        &[k("trunks"), Seg::Index(i), k("language")],
                        Problem::Missing,
                    );
                }
            }
        }

        // Order hooks.
        let h = &self.order_hooks;
        let hk = |key: &str| vec![k("order_hooks"), k(key)];
        match h.backend {
            HookBackend::Sqlite => {
                if h.path.is_none() {
                    ck.report(&hk("path"), Problem::Missing);
                }
                if h.url.is_some() {
                    ck.report(
                        &hk("url"),
                        Problem::NotAllowed("backend \"sqlite\" uses path"),
                    );
                }
            }
            HookBackend::Postgres | HookBackend::Mysql => {
                let (scheme, name): (&[&str], &str) = if h.backend == HookBackend::Postgres {
                    (&["postgres://", "postgresql://"], "postgres")
                } else {
                    (&["mysql://", "mariadb://"], "mysql")
                };
                match &h.url {
                    None => ck.report(&hk("url"), Problem::Missing),
                    Some(u) if !scheme.iter().any(|s| u.starts_with(s)) => ck.report(
                        &hk("url"),
                        Problem::Conflict(format!(
                            "backend {name:?} needs a URL starting with {}",
                            scheme.join(" or ")
                        )),
                    ),
                    Some(_) => {}
                }
                if h.path.is_some() {
                    ck.report(
                        &hk("path"),
                        Problem::NotAllowed("only for backend \"sqlite\""),
                    );
                }
            }
        }
        match (h.preset, &h.custom_sql) {
            (HookPreset::Custom, None) => ck.report(&hk("custom_sql"), Problem::Missing),
            (HookPreset::Generic | HookPreset::Ecshop, Some(_)) => ck.report(
                &hk("custom_sql"),
                Problem::NotAllowed("only with preset = \"custom\""),
            ),
            _ => {}
        }
        if h.table_prefix.is_some() && h.preset != HookPreset::Ecshop {
            ck.report(
                &hk("table_prefix"),
                Problem::NotAllowed("only with preset = \"ecshop\""),
            );
        }
        ck.range(&hk("timeout_ms"), h.timeout_ms, 50, 10_000);
        ck.range(&hk("pool_size"), h.pool_size, 1, 64);

        // CDRs.
        let c = &self.cdr;
        let ck_at = |key: &str| vec![k("cdr"), k(key)];
        match c.store {
            CdrBackend::Sqlite => {
                if c.path.is_none() {
                    ck.report(&ck_at("path"), Problem::Missing);
                }
                if c.url.is_some() {
                    ck.report(
                        &ck_at("url"),
                        Problem::NotAllowed("store \"sqlite\" uses path"),
                    );
                }
            }
            CdrBackend::Postgres => {
                match &c.url {
                    None => ck.report(&ck_at("url"), Problem::Missing),
                    Some(u)
                        if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) =>
                    {
                        ck.report(
                            &ck_at("url"),
                            Problem::Conflict(
                                "store \"postgres\" needs a URL starting with postgres://".into(),
                            ),
                        );
                    }
                    Some(_) => {}
                }
                if c.path.is_some() {
                    ck.report(
                        &ck_at("path"),
                        Problem::NotAllowed("only for store \"sqlite\""),
                    );
                }
                if c.spill.is_none() {
                    ck.report(
                        &ck_at("spill"),
                        Problem::Conflict(
                            "missing: store \"postgres\" needs a local spill file for CDRs \
                             written while the database is unreachable"
                                .into(),
                        ),
                    );
                }
            }
        }
    }

    /// Makes every relative path absolute against `base` (the config
    /// file's folder) and fills in derived defaults.
    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = clean_join(base, p);
            }
        };
        for b in &mut self.boards {
            if let Some(p) = &mut b.profile {
                fix(p);
            }
        }
        for p in self.scripts.values_mut() {
            fix(p);
        }
        fix(&mut self.prompts.dir);
        if let Some(p) = &mut self.order_hooks.path {
            fix(p);
        }
        if let Some(p) = &mut self.order_hooks.custom_sql {
            fix(p);
        }
        fix(&mut self.recordings.dir);
        if let Some(p) = &mut self.cdr.path {
            fix(p);
        }
        if let Some(p) = &mut self.cdr.spill {
            fix(p);
        }
        if self.cdr.spill.is_none() {
            if let Some(p) = &self.cdr.path {
                let mut s = p.clone().into_os_string();
                s.push(".spill.jsonl");
                self.cdr.spill = Some(PathBuf::from(s));
            }
        }
    }
}

/// `base` joined with the relative path `rel`, with `.` and `..` removed
/// lexically (`/etc/ivrd/../x` is `/etc/x`), so messages show plain paths.
fn clean_join(base: &Path, rel: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in base.join(rel).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                // Keep leading `..` of a relative base; never pop past the root.
                let poppable = matches!(out.components().next_back(), Some(Component::Normal(_)));
                if poppable {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    out
}

impl Config {
    /// Checks that the files and folders the config names exist: the sim
    /// profiles, scripts, the prompt folder and its default-language pack,
    /// the hooks' SQLite file and custom SQL, the recordings folder, and the
    /// folders of the CDR database and spill file. `text` and `file` are the
    /// config the paths came from (for locations).
    pub fn missing_files(&self, text: &str, file: &Path) -> Vec<ConfigError> {
        let root = match DeTable::parse(text) {
            Ok(t) => {
                let span = t.span();
                Spanned::new(span, DeValue::Table(t.into_inner()))
            }
            Err(_) => return Vec::new(),
        };
        let mut ck = Checker {
            file,
            text,
            root,
            errors: Vec::new(),
        };
        let need = |ck: &mut Checker<'_>, path: Vec<Seg>, p: &Path, dir: bool| {
            let ok = if dir { p.is_dir() } else { p.is_file() };
            if !ok {
                ck.report(&path, Problem::NoSuchFile(p.to_owned()));
            }
        };
        for (i, b) in self.boards.iter().enumerate() {
            if let Some(p) = &b.profile {
                need(
                    &mut ck,
                    vec![k("boards"), Seg::Index(i), k("profile")],
                    p,
                    false,
                );
            }
        }
        for (name, p) in &self.scripts {
            need(&mut ck, vec![k("scripts"), k(name)], p, false);
        }
        need(
            &mut ck,
            vec![k("prompts"), k("dir")],
            &self.prompts.dir,
            true,
        );
        if self.prompts.dir.is_dir() {
            need(
                &mut ck,
                vec![k("prompts"), k("default_language")],
                &self.prompts.dir.join(&self.prompts.default_language),
                true,
            );
            for (i, t) in self.trunks.iter().enumerate() {
                if let Some(lang) = t.language.as_deref().filter(|l| !l.trim().is_empty()) {
                    need(
                        &mut ck,
                        vec![k("trunks"), Seg::Index(i), k("language")],
                        &self.prompts.dir.join(lang),
                        true,
                    );
                }
            }
        }
        if let Some(p) = &self.order_hooks.path {
            need(&mut ck, vec![k("order_hooks"), k("path")], p, false);
        }
        if let Some(p) = &self.order_hooks.custom_sql {
            need(&mut ck, vec![k("order_hooks"), k("custom_sql")], p, false);
        }
        need(
            &mut ck,
            vec![k("recordings"), k("dir")],
            &self.recordings.dir,
            true,
        );
        for (key, p) in [("path", &self.cdr.path), ("spill", &self.cdr.spill)] {
            if let Some(parent) = p.as_ref().and_then(|p| p.parent()) {
                need(&mut ck, vec![k("cdr"), k(key)], parent, true);
            }
        }
        ck.errors
    }
}

// ---------------------------------------------------------------------------
// Reload
// ---------------------------------------------------------------------------

/// When a setting changed by a reload (SIGHUP) takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Takes {
    /// At once (the grace period, the log level, the metrics endpoint).
    Immediately,
    /// For calls that start after the reload; calls in progress keep the
    /// old setting until they end.
    NewCalls,
    /// On each affected channel the next time it is idle.
    IdleChannels,
    /// Only after a restart: the reload keeps the old value and says so.
    Restart,
}

/// One changed setting and when it takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The key path, e.g. `trunks[0].script` or `cdr`.
    pub key: String,
    /// When it applies.
    pub takes: Takes,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let when = match self.takes {
            Takes::Immediately => "now",
            Takes::NewCalls => "for new calls",
            Takes::IdleChannels => "on each channel when it is idle",
            Takes::Restart => "after a restart (kept as it was until then)",
        };
        write!(f, "{}: applies {when}", self.key)
    }
}

impl Config {
    /// Every (board, channel) the daemon opens.
    fn channel_set(&self) -> std::collections::BTreeSet<(String, u16)> {
        let trunks = self.trunks.iter().map(|t| (&t.board, &t.channels));
        let stations = self.stations.iter().map(|s| (&s.board, &s.channels));
        trunks
            .chain(stations)
            .flat_map(|(b, l)| l.channels().into_iter().map(move |c| (b.clone(), c)))
            .collect()
    }

    /// What a reload from `self` to `new` changes, and when each change
    /// takes effect, in key order. Empty when nothing changed. Script
    /// *contents* are not compared here: the script loader versions them.
    pub fn reload_plan(&self, new: &Self) -> Vec<Change> {
        let mut out = Vec::new();
        let mut add = |key: String, takes: Takes| out.push(Change { key, takes });
        if self.daemon.max_channels != new.daemon.max_channels {
            add("daemon.max_channels".into(), Takes::Restart);
        }
        if self.daemon.cpu_wakeup_latency_us != new.daemon.cpu_wakeup_latency_us {
            add("daemon.cpu_wakeup_latency_us".into(), Takes::Restart);
        }
        if self.daemon.audio_cpu != new.daemon.audio_cpu {
            add("daemon.audio_cpu".into(), Takes::Restart);
        }
        if self.daemon.hours != new.daemon.hours {
            add("daemon.hours".into(), Takes::Immediately);
        }
        if self.daemon.grace_period_s != new.daemon.grace_period_s {
            add("daemon".into(), Takes::Immediately);
        }
        // The level changes at once; a `filter` (or RUST_LOG) is fixed when the logger
        // starts, so the daemon says "restart" for those.
        if self.logging != new.logging {
            add("logging".into(), Takes::Immediately);
        }
        // The endpoint is rebound (the old one stays if the new address cannot be bound).
        if self.metrics != new.metrics {
            add("metrics".into(), Takes::Immediately);
        }
        // The board is opened once; each key that differs is named.
        for (i, (o, b)) in self.boards.iter().zip(&new.boards).enumerate() {
            let mut named = false;
            let mut key = |f: &str, differs: bool| {
                if differs {
                    named = true;
                    add(format!("boards[{i}].{f}"), Takes::Restart);
                }
            };
            key("name", o.name != b.name);
            key("kind", o.kind != b.kind);
            key("law", o.law != b.law);
            key("tone_zone", o.tone_zone != b.tone_zone);
            key("profile", o.profile != b.profile);
            key("bridge", o.bridge != b.bridge);
            key("load", o.load != b.load);
            key("block_ms", o.block_ms != b.block_ms);
            key("tx_prime_blocks", o.tx_prime_blocks != b.tx_prime_blocks);
            // Any other board key (one added later) is still reported.
            if o != b && !named {
                add(format!("boards[{i}]"), Takes::Restart);
            }
        }
        if self.boards.len() != new.boards.len() {
            add("boards (added or removed)".into(), Takes::Restart);
        }
        if self.channel_set() != new.channel_set() {
            add(
                "trunks/stations channels (channels opened or closed)".into(),
                Takes::IdleChannels,
            );
        }
        for (i, t) in new.trunks.iter().enumerate() {
            let key = |f: &str| format!("trunks[{i}].{f}");
            match self.trunks.iter().find(|o| o.name == t.name) {
                None => add(
                    format!("trunks[{i}] (new group {:?})", t.name),
                    Takes::IdleChannels,
                ),
                Some(o) => {
                    if o.script != t.script {
                        add(key("script"), Takes::NewCalls);
                    }
                    if o.language != t.language {
                        add(key("language"), Takes::NewCalls);
                    }
                    if o.record != t.record {
                        add(key("record"), Takes::NewCalls);
                    }
                    let line = |x: &TrunkGroup| {
                        (
                            x.board.clone(),
                            x.channels.clone(),
                            x.answer_after_rings,
                            x.hangup_on_polarity,
                            x.rx_gain_db.to_bits(),
                            x.tx_gain_db.to_bits(),
                            x.caller_id,
                            x.busy_tone,
                        )
                    };
                    if line(o) != line(t) {
                        add(key("(line settings)"), Takes::IdleChannels);
                    }
                }
            }
        }
        for o in &self.trunks {
            if !new.trunks.iter().any(|t| t.name == o.name) {
                add(
                    format!("trunks (group {:?} removed)", o.name),
                    Takes::IdleChannels,
                );
            }
        }
        if self.stations != new.stations {
            add("stations".into(), Takes::IdleChannels);
        }
        if self.agent_groups != new.agent_groups {
            add("agent_groups".into(), Takes::NewCalls);
        }
        if self.scripts != new.scripts {
            add("scripts".into(), Takes::NewCalls);
        }
        if self.prompts != new.prompts {
            add("prompts".into(), Takes::NewCalls);
        }
        if self.order_hooks != new.order_hooks {
            add("order_hooks".into(), Takes::NewCalls);
        }
        if self.recordings != new.recordings {
            add("recordings".into(), Takes::NewCalls);
        }
        // Flush, then switch: records from then on go to the new store.
        if self.cdr != new.cdr {
            add("cdr".into(), Takes::Immediately);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[[boards]]
name = "card0"
kind = "dahdi"

[[trunks]]
name = "400"
board = "card0"
channels = "1-4"
script = "main"

[[stations]]
board = "card0"
channels = "5-8"
groups = ["sales"]

[[agent_groups]]
name = "sales"

[scripts]
main = "main.ivr"

[prompts]
dir = "prompts"

[order_hooks]
backend = "sqlite"
path = "shop.sqlite"

[recordings]
dir = "rec"

[cdr]
path = "cdr.sqlite"
"#;

    fn errs(text: &str) -> Vec<String> {
        match Config::parse(text, Path::new("/etc/ivrd/ivrd.toml")) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn minimal_config_gets_defaults_and_absolute_paths() {
        let c = Config::parse(MINIMAL, Path::new("/etc/ivrd/ivrd.toml")).unwrap();
        assert_eq!(c.daemon.grace_period_s, 120);
        assert_eq!(c.metrics.listen.0, "127.0.0.1:9464".parse().unwrap());
        assert_eq!(c.boards[0].law, Law::ALaw);
        assert_eq!(c.boards[0].tone_zone, "cn");
        let t = &c.trunks[0];
        assert_eq!(t.answer_after_rings, 2);
        assert_eq!(t.caller_id, CallerIdConfig::default());
        assert!(t.busy_tone.disconnect);
        assert_eq!(c.agent_groups[0].strategy, Strategy::LongestIdle);
        assert_eq!(c.prompts.default_language, "zh-CN");
        assert_eq!(c.order_hooks.timeout_ms, 1500);
        assert_eq!(
            c.cdr.path.as_deref(),
            Some(Path::new("/etc/ivrd/cdr.sqlite"))
        );
        assert_eq!(
            c.cdr.spill.as_deref(),
            Some(Path::new("/etc/ivrd/cdr.sqlite.spill.jsonl"))
        );
        assert_eq!(c.scripts["main"], Path::new("/etc/ivrd/main.ivr"));
        let w = c.cdr.writer_config();
        assert_eq!(
            w.store,
            crate::cdr::StoreSpec::Sqlite("/etc/ivrd/cdr.sqlite".into())
        );
        assert_eq!(w.spill_path, Path::new("/etc/ivrd/cdr.sqlite.spill.jsonl"));
    }

    #[test]
    fn relative_paths_are_joined_cleanly() {
        let j = |b: &str, r: &str| clean_join(Path::new(b), Path::new(r));
        assert_eq!(j("/etc/ivrd", "../../x/y"), Path::new("/x/y"));
        assert_eq!(j("/etc/ivrd", "./a/../b"), Path::new("/etc/ivrd/b"));
        assert_eq!(j("docs/config", "../../../z"), Path::new("../z"));
        assert_eq!(j("", "a"), Path::new("a"));
    }

    #[test]
    fn logging_levels_and_filters() {
        let default = Logging::default().builder(false, None).build();
        assert_eq!(default.filter(), log::LevelFilter::Info);
        let m = |l: &env_logger::Logger, level, target: &str| {
            l.matches(&log::Record::builder().level(level).target(target).build())
        };
        assert!(m(&default, log::Level::Info, "ivrd::cdr"));
        assert!(!m(&default, log::Level::Debug, "ivrd::cdr"));
        let cfg = Logging {
            level: LogLevel::Warn,
            filter: Some("ivrd::cdr=debug".into()),
        };
        let l = cfg.builder(true, None).build();
        assert!(m(&l, log::Level::Debug, "ivrd::cdr"));
        assert!(!m(&l, log::Level::Info, "postgres"));
        // RUST_LOG wins over the file.
        let l = cfg.builder(true, Some("postgres=trace")).build();
        assert!(m(&l, log::Level::Trace, "postgres"));
        assert_eq!(journal_priority(log::Level::Error), 3);
        assert_eq!(journal_priority(log::Level::Warn), 4);
        assert_eq!(journal_priority(log::Level::Info), 6);
        assert_eq!(journal_priority(log::Level::Trace), 7);
    }

    #[test]
    fn reload_plan_says_when_each_change_applies() {
        let f = Path::new("/etc/ivrd/ivrd.toml");
        let old = Config::parse(MINIMAL, f).unwrap();
        assert!(old.reload_plan(&old).is_empty());

        let text = MINIMAL
            .replace("script = \"main\"", "script = \"other\"\nrx_gain_db = -2.0")
            .replace(
                "main = \"main.ivr\"",
                "main = \"main.ivr\"\nother = \"o.ivr\"",
            )
            .replace(
                "[[agent_groups]]\nname = \"sales\"",
                "[[agent_groups]]\nname = \"sales\"\nwrap_up_s = 30",
            )
            .replace("[daemon]", "")
            .replace("[[boards]]", "[daemon]\ngrace_period_s = 60\n\n[[boards]]");
        let new = Config::parse(&text, f).unwrap();
        let plan = old.reload_plan(&new);
        let got: Vec<(&str, Takes)> = plan.iter().map(|c| (c.key.as_str(), c.takes)).collect();
        assert_eq!(
            got,
            [
                ("daemon", Takes::Immediately),
                ("trunks[0].script", Takes::NewCalls),
                ("trunks[0].(line settings)", Takes::IdleChannels),
                ("agent_groups", Takes::NewCalls),
                ("scripts", Takes::NewCalls),
            ]
        );
        assert_eq!(
            plan[1].to_string(),
            "trunks[0].script: applies for new calls"
        );

        // Opening more channels applies on idle channels; the CDR store is switched at
        // once; a board's settings and `max_channels` need a restart, each named.
        let text = MINIMAL
            .replace("channels = \"5-8\"", "channels = \"5-9\"")
            .replace("path = \"cdr.sqlite\"", "path = \"cdr2.sqlite\"");
        let new = Config::parse(&text, f).unwrap();
        let plan = old.reload_plan(&new);
        assert!(plan.iter().all(|c| c.takes != Takes::Restart), "{plan:?}");
        assert!(plan.contains(&Change {
            key: "trunks/stations channels (channels opened or closed)".into(),
            takes: Takes::IdleChannels,
        }));
        let mut new = old.clone();
        new.boards[0].tone_zone = "us".into();
        new.daemon.max_channels = 512;
        let restart: Vec<String> = old
            .reload_plan(&new)
            .into_iter()
            .filter(|c| c.takes == Takes::Restart)
            .map(|c| c.key)
            .collect();
        assert_eq!(restart, ["daemon.max_channels", "boards[0].tone_zone"]);
    }

    #[test]
    fn channel_lists() {
        let l = ChannelList::parse("1-3, 7,9-10").unwrap();
        assert_eq!(l.channels(), vec![1, 2, 3, 7, 9, 10]);
        assert_eq!(l.to_string(), "1-3,7,9-10");
        assert!(ChannelList::parse("0").unwrap_err().contains("\"0\""));
        assert!(ChannelList::parse("5-2").unwrap_err().contains("backwards"));
        assert!(ChannelList::parse("1-x").is_err());
        assert!(ChannelList::parse("").is_err());
        assert!(ChannelList::parse("2000").is_err());
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let e = errs("[daemon]\ngrace_period_s = = 3\n");
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("/etc/ivrd/ivrd.toml:2:"), "{e:?}");
    }

    #[test]
    fn type_errors_name_the_key_and_line() {
        let text = MINIMAL.replace("channels = \"1-4\"", "channels = \"1-4,0\"");
        let e = errs(&text);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("/etc/ivrd/ivrd.toml:9:12: trunks[0].channels: "),
            "{e:?}"
        );
        assert!(e[0].contains("\"0\""), "{e:?}");

        let text = MINIMAL.replace("kind = \"dahdi\"", "kind = \"zaptel\"");
        let e = errs(&text);
        assert!(
            e[0].starts_with("/etc/ivrd/ivrd.toml:4:8: boards[0].kind: "),
            "{e:?}"
        );
        assert!(e[0].contains("zaptel"), "{e:?}");
    }

    #[test]
    fn block_ms_defaults_to_ten_on_either_board_and_anything_but_10_or_20_is_refused() {
        let f = Path::new("/etc/ivrd/ivrd.toml");
        let b = &Config::parse(MINIMAL, f).unwrap().boards[0];
        assert_eq!((b.block_ms, b.block_samples()), (None, 80));
        let text = MINIMAL.replace("kind = \"dahdi\"", "kind = \"dahdi\"\nblock_ms = 20");
        assert_eq!(
            Config::parse(&text, f).unwrap().boards[0].block_samples(),
            160
        );
        let text = MINIMAL.replace("kind = \"dahdi\"", "kind = \"dahdi\"\nblock_ms = 5");
        let e = errs(&text);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("/etc/ivrd/ivrd.toml:5:12: boards[0].block_ms: 5 ms "),
            "{e:?}"
        );
        assert!(e[0].contains("use 10 or 20"), "{e:?}");
        // The simulated card: 10 ms by default too, 20 on request, 5 refused alike.
        let sim = MINIMAL.replace("kind = \"dahdi\"", "kind = \"sim\"\nprofile = \"p.toml\"");
        let b = &Config::parse(&sim, f).unwrap().boards[0];
        assert_eq!((b.block_ms, b.block_samples()), (None, 80));
        for (ms, samples) in [(10, 80), (20, 160)] {
            let text = sim.replace(
                "kind = \"sim\"",
                &format!("kind = \"sim\"\nblock_ms = {ms}"),
            );
            let b = &Config::parse(&text, f).unwrap().boards[0];
            assert_eq!(b.block_samples(), samples);
        }
        let text = sim.replace("kind = \"sim\"", "kind = \"sim\"\nblock_ms = 5");
        let e = errs(&text);
        assert!(
            e.iter().any(
                |e| e.starts_with("/etc/ivrd/ivrd.toml:5:12: boards[0].block_ms: 5 ms ")
                    && e.contains("use 10 or 20")
            ),
            "{e:?}"
        );
    }

    #[test]
    fn cpu_wakeup_latency_defaults_to_zero_takes_off_and_refuses_the_rest_with_the_line() {
        let f = Path::new("/etc/ivrd/ivrd.toml");
        let latency = |text: &str| Config::parse(text, f).unwrap().daemon.cpu_wakeup_latency_us;
        assert_eq!(latency(MINIMAL), WakeupLatency::Us(0));
        assert_eq!(latency(MINIMAL).as_us(), Some(0));
        let with = |v: &str| format!("[daemon]\ncpu_wakeup_latency_us = {v}\n{MINIMAL}");
        assert_eq!(latency(&with("50")), WakeupLatency::Us(50));
        assert_eq!(latency(&with("\"off\"")).as_us(), None);
        let e = errs(&with("20000"));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("/etc/ivrd/ivrd.toml:2:25: daemon.cpu_wakeup_latency_us: ")
                && e[0].contains("20000"),
            "{e:?}"
        );
        for bad in ["-1", "\"none\"", "1.5"] {
            let e = errs(&with(bad));
            assert!(
                e.len() == 1
                    && e[0].starts_with("/etc/ivrd/ivrd.toml:2:")
                    && e[0].contains("cpu_wakeup_latency_us")
                    && e[0].contains("\"off\""),
                "{bad}: {e:?}"
            );
        }
        // The same words on the command line (`ivrd audio-check`).
        assert_eq!("off".parse(), Ok(WakeupLatency::Off));
        assert_eq!("0".parse(), Ok(WakeupLatency::Us(0)));
        assert!(
            "-3".parse::<WakeupLatency>()
                .unwrap_err()
                .contains("\"-3\"")
        );
    }

    #[test]
    fn audio_cpu_is_unpinned_by_default_and_needs_a_restart() {
        let f = Path::new("/etc/ivrd/ivrd.toml");
        let old = Config::parse(MINIMAL, f).unwrap();
        assert_eq!(old.daemon.audio_cpu, None);
        let new = Config::parse(&format!("[daemon]\naudio_cpu = 1\n{MINIMAL}"), f).unwrap();
        assert_eq!(new.daemon.audio_cpu, Some(1));
        let changes: Vec<String> = old
            .reload_plan(&new)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            changes
                .iter()
                .any(|c| c.starts_with("daemon.audio_cpu") && c.contains("restart")),
            "{changes:?}"
        );
        let e = errs(&format!("[daemon]\naudio_cpu = 4096\n{MINIMAL}"));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("/etc/ivrd/ivrd.toml:2:13: daemon.audio_cpu: 4096 is out of range"),
            "{e:?}"
        );
    }

    #[test]
    fn daemon_hours_default_to_the_scripts_and_a_wrong_word_is_refused_at_its_line() {
        let f = Path::new("/etc/ivrd/ivrd.toml");
        let hours = |text: &str| Config::parse(text, f).unwrap().daemon.hours;
        assert_eq!(hours(MINIMAL), Hours::Script);
        let with = |v: &str| format!("[daemon]\nhours = \"{v}\"\n{MINIMAL}");
        assert_eq!(hours(&with("open")).mode(), ivr::HoursMode::Open);
        assert_eq!(hours(&with("closed")).mode(), ivr::HoursMode::Closed);
        let e = errs(&with("night"));
        assert!(
            e.len() == 1
                && e[0].starts_with("/etc/ivrd/ivrd.toml:2:9: daemon.hours: ")
                && e[0].contains("night")
                && e[0].contains("closed"),
            "{e:?}"
        );
    }

    #[test]
    fn tx_prime_blocks_default_to_none_and_must_fit_the_transmit_buffers() {
        let f = Path::new("/etc/ivrd/ivrd.toml");
        let board = |extra: &str| {
            MINIMAL.replace("kind = \"dahdi\"", &format!("kind = \"dahdi\"\n{extra}"))
        };
        assert_eq!(
            Config::parse(MINIMAL, f).unwrap().boards[0].tx_prime_blocks,
            0
        );
        let ok = Config::parse(&board("tx_prime_blocks = 2"), f).unwrap();
        assert_eq!(ok.boards[0].tx_prime_blocks, 2);
        let e = errs(&board("block_ms = 20\ntx_prime_blocks = 2"));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("/etc/ivrd/ivrd.toml:6:19: boards[0].tx_prime_blocks: ")
                && e[0].contains("use at most 1"),
            "{e:?}"
        );
        let e = errs(&board("tx_prime_blocks = 3"));
        assert!(e.len() == 1 && e[0].contains("use at most 2"), "{e:?}");
        // Needs a restart, named.
        let old = Config::parse(MINIMAL, f).unwrap();
        let plan: Vec<String> = old
            .reload_plan(&ok)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            plan.iter()
                .any(|c| c.starts_with("boards[0].tx_prime_blocks")),
            "{plan:?}"
        );
    }

    #[test]
    fn bridge_mode_defaults_to_user_and_kernel_is_for_dahdi_only() {
        let f = Path::new("/etc/ivrd/ivrd.toml");
        assert_eq!(
            Config::parse(MINIMAL, f).unwrap().boards[0].bridge,
            BridgeMode::User
        );
        let text = MINIMAL.replace("kind = \"dahdi\"", "kind = \"dahdi\"\nbridge = \"kernel\"");
        assert_eq!(
            Config::parse(&text, f).unwrap().boards[0].bridge,
            BridgeMode::Kernel
        );
        let text = MINIMAL.replace(
            "kind = \"dahdi\"",
            "kind = \"dahdi\"\nbridge = \"hardware\"",
        );
        let e = errs(&text);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("/etc/ivrd/ivrd.toml:5:10: boards[0].bridge: "),
            "{e:?}"
        );
        assert!(
            e[0].contains("hardware") && e[0].contains("kernel"),
            "{e:?}"
        );
        let text = MINIMAL.replace(
            "kind = \"dahdi\"",
            "kind = \"sim\"\nprofile = \"p.toml\"\nbridge = \"kernel\"",
        );
        let e = errs(&text);
        assert!(
            e.iter().any(
                |e| e.starts_with("/etc/ivrd/ivrd.toml:6:10: boards[0].bridge: ")
                    && e.contains("\"kernel\" needs kind = \"dahdi\"")
            ),
            "{e:?}"
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_their_place() {
        let text = MINIMAL.replace("[recordings]\n", "[recordings]\nfromat = \"wav\"\n");
        let e = errs(&text);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("/etc/ivrd/ivrd.toml:31:1: recordings.fromat: unknown field `fromat`"),
            "{e:?}"
        );
    }

    #[test]
    fn missing_keys_name_the_full_path() {
        let text = MINIMAL
            .replace("path = \"shop.sqlite\"\n", "")
            .replace("backend", "pool_size = 2\nbackend");
        // Removing path is semantic (sqlite needs path): reported at order_hooks.
        let e = errs(&text);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("order_hooks.path: missing"), "{e:?}");

        let text = MINIMAL.replace("dir = \"rec\"\n", "");
        let e = errs(&text);
        assert!(e[0].contains(": recordings.dir: missing"), "{e:?}");
        assert!(e[0].starts_with("/etc/ivrd/ivrd.toml:30:1:"), "{e:?}");
    }

    #[test]
    fn errors_inside_arrays_of_tables_name_the_element() {
        let two = MINIMAL.replace(
            "[[stations]]",
            "[[trunks]]\nname = \"b\"\nboard = \"card0\"\nchannels = \"9\"\nscript = \"main\"\n\n\
             [[stations]]",
        );
        assert!(errs(&two).is_empty(), "{:?}", errs(&two));
        // A missing key in the second [[trunks]]: its header line and full key.
        let e = errs(&two.replace(
            "channels = \"9\"\nscript = \"main\"\n",
            "channels = \"9\"\n",
        ));
        assert_eq!(e, ["/etc/ivrd/ivrd.toml:12:1: trunks[1].script: missing"]);
        // An unknown key in a sub-table of the second element.
        let e = errs(&two.replace(
            "script = \"main\"\n\n[[stations]]",
            "script = \"main\"\n[trunks.caller_id]\narives = \"x\"\n\n[[stations]]",
        ));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("/etc/ivrd/ivrd.toml:18:1: trunks[1].caller_id.arives: unknown field"),
            "{e:?}"
        );
        // A bad value there.
        let e = errs(&two.replace(
            "script = \"main\"\n\n[[stations]]",
            "script = \"main\"\n[trunks.caller_id]\narrives = \"on-third-ring\"\n\n[[stations]]",
        ));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with(
                "/etc/ivrd/ivrd.toml:18:11: trunks[1].caller_id.arrives: unknown variant"
            ),
            "{e:?}"
        );
    }

    #[test]
    fn every_semantic_problem_is_reported_at_its_key() {
        let text = r#"
[daemon]
grace_period_s = 0

[[boards]]
name = "card0"
kind = "dahdi"
tone_zone = "xx"

[[boards]]
name = "card0"
kind = "sim"

[[trunks]]
name = "a"
board = "card0"
channels = "1-8"
script = "main"

[[trunks]]
name = "a"
board = "card9"
channels = "1"
script = "nope"
answer_after_rings = 1

[[trunks]]
name = "b"
board = "card0"
channels = "8-9"
script = "main"
rx_gain_db = 30.0

[[stations]]
board = "card0"
channels = "9-12"
groups = ["sales", "sales", "ghosts"]

[[agent_groups]]
name = "sales"

[[agent_groups]]
name = "returns"

[scripts]
main = "main.ivr"

[prompts]
dir = "prompts"

[order_hooks]
backend = "mysql"
url = "postgres://x"
path = "shop.sqlite"
preset = "custom"

[recordings]
dir = "rec"

[cdr]
store = "postgres"
url = "postgres://db/cdr"
"#;
        let e = errs(text);
        let has = |needle: &str| {
            assert!(
                e.iter().any(|l| l.contains(needle)),
                "no error with {needle:?} in\n{}",
                e.join("\n")
            );
        };
        has("ivrd.toml:3:18: daemon.grace_period_s: 0 is out of range (1 to 3600)");
        has("ivrd.toml:8:13: boards[0].tone_zone: no tone zone is called \"xx\"");
        has(
            "ivrd.toml:11:8: boards[1].name: board \"card0\" is already defined at boards[0].name (line 6)",
        );
        has("boards[1].profile: missing");
        has("ivrd.toml:11:8: boards[1].name: not allowed here: one [[boards]] per daemon");
        has(
            "ivrd.toml:21:8: trunks[1].name: trunk group \"a\" is already defined at trunks[0].name (line 15)",
        );
        has("ivrd.toml:22:9: trunks[1].board: no board is called \"card9\" (known: card0)");
        has("ivrd.toml:24:10: trunks[1].script: no script is called \"nope\" (known: main)");
        has("trunks[1].answer_after_rings: caller ID arrives after the first ring");
        has(
            "ivrd.toml:30:12: trunks[2].channels: channel 8 of board \"card0\" is already used by trunks[0].channels (line 17)",
        );
        has("ivrd.toml:32:14: trunks[2].rx_gain_db: 30 is out of range (-24 to 24)");
        has(
            "stations[0].channels: channel 9 of board \"card0\" is already used by trunks[2].channels (line 30)",
        );
        has(
            "ivrd.toml:37:20: stations[0].groups[1]: agent group \"sales\" is already defined at stations[0].groups[0] (line 37)",
        );
        has(
            "ivrd.toml:37:29: stations[0].groups[2]: no agent group is called \"ghosts\" (known: sales, returns)",
        );
        has("agent_groups[1].name: no station is in agent group \"returns\"");
        has("order_hooks.url: backend \"mysql\" needs a URL starting with mysql:// or mariadb://");
        has("order_hooks.path: not allowed here: only for backend \"sqlite\"");
        has("order_hooks.custom_sql: missing");
        has("cdr.spill: missing: store \"postgres\" needs a local spill file");
        assert_eq!(e.len(), 19, "{}", e.join("\n"));
    }

    #[test]
    fn bad_metrics_address_is_refused_where_it_is() {
        let text = format!("[metrics]\nlisten = \"localhost:99999\"\n{MINIMAL}");
        let e = errs(&text);
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("/etc/ivrd/ivrd.toml:2:10: metrics.listen: "),
            "{e:?}"
        );
        assert!(e[0].contains("not an ip:port address"), "{e:?}");
    }

    #[test]
    fn missing_files_are_named_with_their_key() {
        let dir = std::env::temp_dir().join(format!("ivrd-cfg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("prompts/zh-CN")).unwrap();
        std::fs::create_dir_all(dir.join("rec")).unwrap();
        std::fs::write(dir.join("main.ivr"), "").unwrap();
        let file = dir.join("ivrd.toml");
        std::fs::write(&file, MINIMAL).unwrap();
        let e = Config::load(&file).unwrap_err();
        assert_eq!(e.0.len(), 1, "{e}");
        assert_eq!(e.0[0].key, "order_hooks.path");
        assert_eq!(e.0[0].line_col, Some((28, 8)));
        assert!(e.to_string().ends_with("shop.sqlite does not exist"), "{e}");
        std::fs::write(dir.join("shop.sqlite"), "").unwrap();
        let c = Config::load(&file).unwrap();
        assert_eq!(c.recordings.dir, dir.join("rec"));
        let e = Config::load(&dir.join("nope.toml")).unwrap_err();
        assert!(
            e.to_string().contains("nope.toml: cannot read the file"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
