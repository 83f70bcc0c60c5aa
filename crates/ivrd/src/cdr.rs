//! Call detail records: one [`Cdr`] per call, written by a background thread
//! into SQLite (default) or PostgreSQL, never lost.
//!
//! # Threads
//!
//! [`CdrWriter::spawn`] starts the `cdr-writer` thread. Other threads hand it
//! records through a cloneable [`CdrSink`] (a bounded `crossbeam-channel`).
//! The writer batches what is queued into one transaction.
//!
//! # Nothing is lost
//!
//! - A failed write is retried (with the configured delays); the connection
//!   is reopened between attempts.
//! - If the database still refuses, the batch is appended to the **spill
//!   file** (JSON lines, one record a line, flushed and `fsync`ed). If the
//!   queue is full or the writer has stopped, [`CdrSink::submit`] appends to
//!   the spill file itself.
//! - On start, and every `replay_interval` while it is not empty, the writer
//!   replays the spill file into the database (`call_id` is the primary key,
//!   so a record stored twice is stored once), then truncates it. A torn last
//!   line left by a crash is moved to `<spill>.bad`, never silently dropped.
//! - [`CdrWriter::shutdown`] writes everything queued, then joins the thread.
//!
//! What a hard crash (`kill -9`, power loss) can lose is the handful of
//! records still in the in-memory queue; every record the writer has
//! committed or spilled is on disk (`synchronous = FULL`, `fsync`).
//!
//! Not real-time: call it from the control thread, never the audio thread.
//!
//! ```
//! use std::sync::Arc;
//! use ivrd::cdr::{CallResult, Cdr, CdrWriter, HangupCause, StoreSpec, WriterConfig};
//! use ivrd::metrics::Metrics;
//!
//! let dir = std::env::temp_dir().join(format!("ivrd-cdr-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let cfg = WriterConfig::new(StoreSpec::Sqlite(dir.join("cdr.sqlite")), dir.join("spill.jsonl"));
//! let writer = CdrWriter::spawn(cfg, Arc::new(Metrics::new(0))).unwrap();
//! let mut cdr = Cdr::new(1_700_000_000_000, 3);
//! cdr.end_ms = cdr.start_ms + 65_000;
//! cdr.result = CallResult::SelfServed;
//! cdr.hangup_cause = HangupCause::CallerOnHook;
//! writer.sink().submit(cdr);
//! let report = writer.shutdown();
//! assert_eq!(report.written, 1);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

pub mod recording;

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender, TryRecvError};
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;

/// How a call ended, from the caller's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallResult {
    /// The caller got what they needed from the IVR and it ended the call.
    SelfServed,
    /// Handed to an agent.
    Transferred,
    /// The caller hung up in the IVR or in the queue before being served.
    Abandoned,
    /// Rang but was never answered (caller gave up, or no free channel).
    Unanswered,
    /// The call failed: channel error, script error, ring overrun.
    #[default]
    Failed,
}

impl CallResult {
    /// Every result, in a fixed order (used as metric label order).
    pub const ALL: [Self; 5] = [
        Self::SelfServed,
        Self::Transferred,
        Self::Abandoned,
        Self::Unanswered,
        Self::Failed,
    ];
    /// The stored and exported name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SelfServed => "self-served",
            Self::Transferred => "transferred",
            Self::Abandoned => "abandoned",
            Self::Unanswered => "unanswered",
            Self::Failed => "failed",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HangupCause {
    /// Loop current dropped: the caller's side went on hook.
    #[default]
    #[serde(rename = "caller-onhook")]
    CallerOnHook,
    /// The far end hung up and the exchange sent busy tone (common in China).
    BusyTone,
    /// A polarity reversal signalled the far end's hangup.
    Polarity,
    /// The IVR script hung up.
    IvrHangup,
    /// The agent hung up.
    AgentHangup,
    /// The daemon was stopping and the grace period ran out.
    Shutdown,
    /// The channel failed (alarm, I/O error) or an event ring overran.
    ChannelFailure,
}

impl HangupCause {
    /// Every cause, in a fixed order (used as metric label order).
    pub const ALL: [Self; 7] = [
        Self::CallerOnHook,
        Self::BusyTone,
        Self::Polarity,
        Self::IvrHangup,
        Self::AgentHangup,
        Self::Shutdown,
        Self::ChannelFailure,
    ];
    /// The stored and exported name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CallerOnHook => "caller-onhook",
            Self::BusyTone => "busy-tone",
            Self::Polarity => "polarity",
            Self::IvrHangup => "ivr-hangup",
            Self::AgentHangup => "agent-hangup",
            Self::Shutdown => "shutdown",
            Self::ChannelFailure => "channel-failure",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One call's record. Times are milliseconds since the Unix epoch, UTC.
///
/// In the spill file a record is one JSON object a line; fields a version
/// does not know are ignored and missing optional fields are empty, so a
/// spill file survives an upgrade or a rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cdr {
    /// Unique id of the call; the primary key. [`Cdr::new`] makes
    /// `<start_ms>-<trunk>`, unique because a trunk carries one call at a time.
    pub call_id: String,
    /// When the trunk started ringing (or the call was seized).
    pub start_ms: i64,
    /// When the IVR answered; `None` if it never did.
    #[serde(default)]
    pub answer_ms: Option<i64>,
    /// When the IVR handed the call to an agent group (the queue starts).
    #[serde(default)]
    pub transfer_ms: Option<i64>,
    /// When an agent picked up.
    #[serde(default)]
    pub agent_answer_ms: Option<i64>,
    /// When the call ended.
    pub end_ms: i64,
    /// The caller's number, if caller ID was received and not withheld.
    #[serde(default)]
    pub caller_id: Option<String>,
    /// The trunk's channel number.
    pub trunk: u16,
    /// The script that ran (its name in the config).
    #[serde(default)]
    pub script: String,
    /// The script's version (content hash or version string) the call was
    /// pinned to: a reload mid-call does not change it.
    #[serde(default)]
    pub script_version: String,
    /// The states the call went through, in order.
    #[serde(default)]
    pub path: Vec<String>,
    /// Order numbers looked up during the call.
    #[serde(default)]
    pub orders: Vec<String>,
    /// How the call ended for the caller.
    pub result: CallResult,
    /// Agent group or station the call was transferred to.
    #[serde(default)]
    pub transfer_target: Option<String>,
    /// Path of the call's recording, if it was recorded.
    #[serde(default)]
    pub recording: Option<String>,
    /// What ended the call.
    pub hangup_cause: HangupCause,
}

impl Cdr {
    /// A record for a call that started at `start_ms` on `trunk`; every other
    /// field empty (fill them in as the call goes).
    pub fn new(start_ms: i64, trunk: u16) -> Self {
        Self {
            call_id: format!("{start_ms}-{trunk}"),
            start_ms,
            answer_ms: None,
            transfer_ms: None,
            agent_answer_ms: None,
            end_ms: start_ms,
            caller_id: None,
            trunk,
            script: String::new(),
            script_version: String::new(),
            path: Vec::new(),
            orders: Vec::new(),
            result: CallResult::default(),
            transfer_target: None,
            recording: None,
            hangup_cause: HangupCause::default(),
        }
    }
}

/// Where CDRs are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// A SQLite database file (created with its schema if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, e.g. `postgres://ivrd@db/shop`. Needs
    /// the `postgres` cargo feature (on by default).
    Postgres(String),
}

/// Errors from the CDR store, the spill file or the queries.
#[derive(Debug)]
#[non_exhaustive]
pub enum CdrError {
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// PostgreSQL failed.
    #[cfg(feature = "postgres")]
    Postgres(postgres::Error),
    /// PostgreSQL was configured but this build has no PostgreSQL support.
    PostgresNotBuilt,
    /// The spill file could not be opened, read or written.
    Spill {
        /// The spill file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A stored value could not be read back (corrupt row).
    BadRow(String),
    /// The writer thread could not be started.
    Spawn(io::Error),
}

impl fmt::Display for CdrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(e) => write!(f, "SQLite: {e}"),
            #[cfg(feature = "postgres")]
            Self::Postgres(e) => match e.as_db_error() {
                // The server's own words ("relation … does not exist").
                Some(db) => write!(f, "PostgreSQL: {}: {}", db.severity(), db.message()),
                None => {
                    write!(f, "PostgreSQL: {e}")?;
                    match std::error::Error::source(e) {
                        Some(cause) => write!(f, ": {cause}"),
                        None => Ok(()),
                    }
                }
            },
            Self::PostgresNotBuilt => {
                write!(f, "this ivrd was built without the `postgres` feature")
            }
            Self::Spill { path, source } => {
                write!(f, "CDR spill file {}: {source}", path.display())
            }
            Self::BadRow(msg) => write!(f, "bad CDR row: {msg}"),
            Self::Spawn(e) => write!(f, "cannot start the CDR writer thread: {e}"),
        }
    }
}

impl std::error::Error for CdrError {}

impl From<rusqlite::Error> for CdrError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

#[cfg(feature = "postgres")]
impl From<postgres::Error> for CdrError {
    fn from(e: postgres::Error) -> Self {
        Self::Postgres(e)
    }
}

/// The table both stores use.
pub const TABLE: &str = "ivrd_cdr";

const SQLITE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ivrd_cdr (
    call_id         TEXT PRIMARY KEY,
    start_ms        INTEGER NOT NULL,
    answer_ms       INTEGER,
    transfer_ms     INTEGER,
    agent_answer_ms INTEGER,
    end_ms          INTEGER NOT NULL,
    caller_id       TEXT,
    trunk           INTEGER NOT NULL,
    script          TEXT NOT NULL,
    script_version  TEXT NOT NULL,
    path            TEXT NOT NULL,
    orders          TEXT NOT NULL,
    result          TEXT NOT NULL,
    transfer_target TEXT,
    recording       TEXT,
    hangup_cause    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ivrd_cdr_start ON ivrd_cdr (start_ms);
";

const INSERT_SQLITE: &str = "INSERT OR IGNORE INTO ivrd_cdr (call_id, start_ms, answer_ms, \
    transfer_ms, agent_answer_ms, end_ms, caller_id, trunk, script, script_version, path, orders, \
    result, transfer_target, recording, hangup_cause) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

fn json_list(v: &[String]) -> String {
    // Serialising a list of strings cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned())
}

/// An open connection to the CDR store.
enum Store {
    Sqlite(rusqlite::Connection),
    #[cfg(feature = "postgres")]
    Postgres(Box<postgres::Client>),
}

impl Store {
    fn open(spec: &StoreSpec, busy_timeout: Duration) -> Result<Self, CdrError> {
        match spec {
            StoreSpec::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path)?;
                conn.busy_timeout(busy_timeout)?;
                // WAL keeps readers (dimension --cdr, reports) off the
                // writer's back; FULL makes each commit survive power loss.
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "FULL")?;
                conn.execute_batch(SQLITE_SCHEMA)?;
                Ok(Self::Sqlite(conn))
            }
            #[cfg(feature = "postgres")]
            StoreSpec::Postgres(url) => {
                let mut client = pg_connect(url)?;
                client.batch_execute(PG_SCHEMA)?;
                Ok(Self::Postgres(Box::new(client)))
            }
            #[cfg(not(feature = "postgres"))]
            StoreSpec::Postgres(_) => Err(CdrError::PostgresNotBuilt),
        }
    }

    /// Inserts `batch` in one transaction; records already stored (same
    /// `call_id`) are left as they are.
    fn insert(&mut self, batch: &[Cdr]) -> Result<(), CdrError> {
        match self {
            Self::Sqlite(conn) => {
                let tx = conn.transaction()?;
                {
                    let mut st = tx.prepare_cached(INSERT_SQLITE)?;
                    for c in batch {
                        st.execute(rusqlite::params![
                            c.call_id,
                            c.start_ms,
                            c.answer_ms,
                            c.transfer_ms,
                            c.agent_answer_ms,
                            c.end_ms,
                            c.caller_id,
                            c.trunk,
                            c.script,
                            c.script_version,
                            json_list(&c.path),
                            json_list(&c.orders),
                            c.result.as_str(),
                            c.transfer_target,
                            c.recording,
                            c.hangup_cause.as_str(),
                        ])?;
                    }
                }
                tx.commit()?;
                Ok(())
            }
            #[cfg(feature = "postgres")]
            Self::Postgres(client) => {
                let mut tx = client.transaction()?;
                let st = tx.prepare(PG_INSERT)?;
                for c in batch {
                    tx.execute(
                        &st,
                        &[
                            &c.call_id,
                            &c.start_ms,
                            &c.answer_ms,
                            &c.transfer_ms,
                            &c.agent_answer_ms,
                            &c.end_ms,
                            &c.caller_id,
                            &i32::from(c.trunk),
                            &c.script,
                            &c.script_version,
                            &json_list(&c.path),
                            &json_list(&c.orders),
                            &c.result.as_str(),
                            &c.transfer_target,
                            &c.recording,
                            &c.hangup_cause.as_str(),
                        ],
                    )?;
                }
                tx.commit()?;
                Ok(())
            }
        }
    }
}

/// How long to wait for the PostgreSQL server to accept a connection.
pub const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[cfg(feature = "postgres")]
fn pg_connect(url: &str) -> Result<postgres::Client, CdrError> {
    let mut cfg: postgres::Config = url.parse()?;
    cfg.connect_timeout(PG_CONNECT_TIMEOUT);
    Ok(cfg.connect(postgres::NoTls)?)
}

#[cfg(feature = "postgres")]
const PG_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ivrd_cdr (
    call_id         TEXT PRIMARY KEY,
    start_ms        BIGINT NOT NULL,
    answer_ms       BIGINT,
    transfer_ms     BIGINT,
    agent_answer_ms BIGINT,
    end_ms          BIGINT NOT NULL,
    caller_id       TEXT,
    trunk           INTEGER NOT NULL,
    script          TEXT NOT NULL,
    script_version  TEXT NOT NULL,
    path            TEXT NOT NULL,
    orders          TEXT NOT NULL,
    result          TEXT NOT NULL,
    transfer_target TEXT,
    recording       TEXT,
    hangup_cause    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ivrd_cdr_start ON ivrd_cdr (start_ms);
";

#[cfg(feature = "postgres")]
const PG_INSERT: &str = "INSERT INTO ivrd_cdr (call_id, start_ms, answer_ms, transfer_ms, \
    agent_answer_ms, end_ms, caller_id, trunk, script, script_version, path, orders, result, \
    transfer_target, recording, hangup_cause) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
    ON CONFLICT (call_id) DO NOTHING";

/// How the writer runs.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Where records go.
    pub store: StoreSpec,
    /// The append-only fallback file (JSON lines).
    pub spill_path: PathBuf,
    /// Capacity of the queue to the writer.
    pub queue_capacity: usize,
    /// Most records per transaction.
    pub batch_max: usize,
    /// Pauses between retries of a failed batch; after the last one the
    /// batch is spilled. Empty: spill after the first failure.
    pub retry_delays: Vec<Duration>,
    /// How long SQLite waits for a lock before failing a write.
    pub busy_timeout: Duration,
    /// How long [`CdrSink::submit`] waits for room in a full queue before it
    /// spills the record itself.
    pub submit_timeout: Duration,
    /// How often a non-empty spill file is replayed into the store.
    pub replay_interval: Duration,
}

impl WriterConfig {
    /// Defaults: queue of 1024, batches of up to 64, retries after 0.2 s and
    /// 1 s, 5 s SQLite busy timeout, replay every 30 s.
    pub fn new(store: StoreSpec, spill_path: PathBuf) -> Self {
        Self {
            store,
            spill_path,
            queue_capacity: 1024,
            batch_max: 64,
            retry_delays: vec![Duration::from_millis(200), Duration::from_secs(1)],
            busy_timeout: Duration::from_secs(5),
            submit_timeout: Duration::from_millis(50),
            replay_interval: Duration::from_secs(30),
        }
    }
}

/// The append-only spill file, shared by the writer and the sinks.
#[derive(Debug)]
struct Spill {
    path: PathBuf,
}

impl Spill {
    fn err(&self, source: io::Error) -> CdrError {
        CdrError::Spill {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends records, one JSON line each, and syncs the file.
    fn append(&self, records: &[Cdr]) -> Result<(), CdrError> {
        let mut text = String::new();
        for c in records {
            // A Cdr holds only strings, numbers and enums: always serialises.
            text.push_str(&serde_json::to_string(c).unwrap_or_default());
            text.push('\n');
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| self.err(e))?;
        f.write_all(text.as_bytes()).map_err(|e| self.err(e))?;
        f.sync_data().map_err(|e| self.err(e))
    }

    /// Reads every record; lines that do not parse (a torn write) are
    /// returned separately.
    fn read(&self) -> Result<(Vec<Cdr>, Vec<String>), CdrError> {
        let f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
            Err(e) => return Err(self.err(e)),
        };
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for line in BufReader::new(f).split(b'\n') {
            let line = line.map_err(|e| self.err(e))?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Cdr>(&line) {
                Ok(c) => good.push(c),
                Err(_) => bad.push(String::from_utf8_lossy(&line).into_owned()),
            }
        }
        Ok((good, bad))
    }

    fn is_empty(&self) -> bool {
        std::fs::metadata(&self.path).map_or(true, |m| m.len() == 0)
    }

    /// Keeps unparseable lines in `<spill>.bad` and empties the spill file.
    fn clear(&self, bad: &[String]) -> Result<(), CdrError> {
        if !bad.is_empty() {
            let mut p = self.path.clone().into_os_string();
            p.push(".bad");
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .map_err(|e| self.err(e))?;
            for l in bad {
                writeln!(f, "{l}").map_err(|e| self.err(e))?;
            }
            f.sync_data().map_err(|e| self.err(e))?;
        }
        let f = OpenOptions::new()
            .write(true)
            .truncate(true)
            .create(true)
            .open(&self.path)
            .map_err(|e| self.err(e))?;
        f.sync_all().map_err(|e| self.err(e))
    }
}

fn lock(spill: &Mutex<Spill>) -> MutexGuard<'_, Spill> {
    // The spill state is just a path: a panic elsewhere cannot corrupt it.
    spill.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Spills records, and if even that fails, logs each one in full so the
/// journal still has it.
fn spill_or_log(spill: &Mutex<Spill>, records: &[Cdr], metrics: &Metrics) -> bool {
    match lock(spill).append(records) {
        Ok(()) => {
            metrics.cdr_spilled.add(records.len() as u64);
            true
        }
        Err(e) => {
            log::error!("{e}; logging the CDRs instead");
            for c in records {
                log::error!(
                    "unsaved CDR: {}",
                    serde_json::to_string(c).unwrap_or_default()
                );
            }
            false
        }
    }
}

enum Msg {
    Record(Box<Cdr>),
    Flush(Sender<()>),
    Shutdown,
}

/// The handle other threads use to submit records. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CdrSink {
    tx: Sender<Msg>,
    spill: Arc<Mutex<Spill>>,
    metrics: Arc<Metrics>,
    submit_timeout: Duration,
}

/// What happened to a submitted record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// Queued for the writer.
    Queued,
    /// The queue was full or the writer stopped: written to the spill file.
    Spilled,
    /// Even the spill file failed: the record was logged at error level.
    Logged,
}

impl CdrSink {
    /// Hands a finished call's record to the writer. Never loses it: if the
    /// queue stays full for `submit_timeout` or the writer has stopped, the
    /// record goes straight to the spill file.
    pub fn submit(&self, cdr: Cdr) -> Submitted {
        let msg = Msg::Record(Box::new(cdr));
        match self.tx.send_timeout(msg, self.submit_timeout) {
            Ok(()) => Submitted::Queued,
            Err(SendTimeoutError::Timeout(m) | SendTimeoutError::Disconnected(m)) => {
                let Msg::Record(c) = m else {
                    unreachable!("submit only sends records")
                };
                if spill_or_log(&self.spill, std::slice::from_ref(&*c), &self.metrics) {
                    Submitted::Spilled
                } else {
                    Submitted::Logged
                }
            }
        }
    }
}

/// Counts of what the writer did, returned by [`CdrWriter::shutdown`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterReport {
    /// Records committed to the store.
    pub written: u64,
    /// Records appended to the spill file by the writer.
    pub spilled: u64,
    /// Records replayed from the spill file into the store.
    pub replayed: u64,
    /// Failed write attempts.
    pub failures: u64,
}

/// The CDR writer thread and its queue.
#[derive(Debug)]
pub struct CdrWriter {
    sink: CdrSink,
    thread: Option<JoinHandle<WriterReport>>,
}

impl CdrWriter {
    /// Starts the writer thread. It connects to the store lazily, so a
    /// database that is down at start does not stop the daemon: records
    /// spill until it is back.
    ///
    /// # Errors
    ///
    /// [`CdrError::Spill`] if the spill file cannot be opened for appending
    /// (its folder is missing or not writable): without it nothing could be
    /// guaranteed. [`CdrError::Spawn`] if the thread cannot start.
    pub fn spawn(cfg: WriterConfig, metrics: Arc<Metrics>) -> Result<Self, CdrError> {
        let spill = Spill {
            path: cfg.spill_path.clone(),
        };
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spill.path)
            .map_err(|e| spill.err(e))?;
        let spill = Arc::new(Mutex::new(spill));
        let (tx, rx) = crossbeam_channel::bounded(cfg.queue_capacity.max(1));
        let sink = CdrSink {
            tx,
            spill: spill.clone(),
            metrics: metrics.clone(),
            submit_timeout: cfg.submit_timeout,
        };
        let thread = std::thread::Builder::new()
            .name("cdr-writer".into())
            .spawn(move || {
                Worker {
                    cfg,
                    store: None,
                    spill,
                    metrics,
                    report: WriterReport::default(),
                    last_replay: Instant::now(),
                }
                .run(&rx)
            })
            .map_err(CdrError::Spawn)?;
        Ok(Self {
            sink,
            thread: Some(thread),
        })
    }

    /// A handle to submit records from any thread.
    pub fn sink(&self) -> CdrSink {
        self.sink.clone()
    }

    /// Waits until everything submitted before this call is committed or
    /// spilled.
    pub fn flush(&self) {
        let (ack_tx, ack_rx) = crossbeam_channel::bounded(1);
        if self.sink.tx.send(Msg::Flush(ack_tx)).is_ok() {
            let _ = ack_rx.recv();
        }
    }

    /// Writes everything queued (spilling what the store refuses), stops the
    /// thread and returns what it did. Records submitted afterwards through
    /// surviving sinks go to the spill file.
    pub fn shutdown(mut self) -> WriterReport {
        self.stop()
    }

    fn stop(&mut self) -> WriterReport {
        let Some(t) = self.thread.take() else {
            return WriterReport::default();
        };
        let _ = self.sink.tx.send(Msg::Shutdown);
        t.join().unwrap_or_else(|_| {
            log::error!("the CDR writer thread panicked; unsaved CDRs are in the spill file");
            WriterReport::default()
        })
    }
}

impl Drop for CdrWriter {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Worker {
    cfg: WriterConfig,
    store: Option<Store>,
    spill: Arc<Mutex<Spill>>,
    metrics: Arc<Metrics>,
    report: WriterReport,
    last_replay: Instant,
}

impl Worker {
    fn run(mut self, rx: &Receiver<Msg>) -> WriterReport {
        self.replay();
        let mut batch: Vec<Cdr> = Vec::with_capacity(self.cfg.batch_max);
        loop {
            let first = match rx.recv_timeout(self.cfg.replay_interval) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    self.replay();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => Msg::Shutdown,
            };
            let mut pending = Some(first);
            let mut acks = Vec::new();
            let mut stopping = false;
            // Gather what is queued into one batch.
            while let Some(m) = pending.take() {
                match m {
                    Msg::Record(c) => batch.push(*c),
                    Msg::Flush(ack) => acks.push(ack),
                    Msg::Shutdown => stopping = true,
                }
                if batch.len() >= self.cfg.batch_max {
                    self.write(&mut batch, !stopping);
                }
                pending = match rx.try_recv() {
                    Ok(m) => Some(m),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => {
                        stopping = true;
                        None
                    }
                };
            }
            if !batch.is_empty() {
                self.write(&mut batch, !stopping);
            }
            for a in acks {
                let _ = a.send(());
            }
            if stopping {
                return self.report;
            }
            if self.last_replay.elapsed() >= self.cfg.replay_interval {
                self.replay();
            }
        }
    }

    /// Commits `batch` (retrying if `may_wait`), or spills it. Empties it.
    fn write(&mut self, batch: &mut Vec<Cdr>, may_wait: bool) {
        let attempts = if may_wait {
            self.cfg.retry_delays.len() + 1
        } else {
            1
        };
        for attempt in 0..attempts {
            match self.try_insert(batch) {
                Ok(()) => {
                    let n = batch.len() as u64;
                    self.report.written += n;
                    self.metrics.cdr_written.add(n);
                    batch.clear();
                    return;
                }
                Err(e) => {
                    self.report.failures += 1;
                    self.metrics.cdr_write_failures.inc();
                    self.store = None; // reconnect on the next attempt
                    log::warn!(
                        "CDR write of {} records failed (attempt {}): {e}",
                        batch.len(),
                        attempt + 1
                    );
                    if let Some(d) = self.cfg.retry_delays.get(attempt).filter(|_| may_wait) {
                        std::thread::sleep(*d);
                    }
                }
            }
        }
        if spill_or_log(&self.spill, batch, &self.metrics) {
            self.report.spilled += batch.len() as u64;
            log::warn!(
                "{} CDRs saved to {}; they will be replayed when the store is back",
                batch.len(),
                lock(&self.spill).path.display()
            );
        }
        batch.clear();
    }

    fn try_insert(&mut self, batch: &[Cdr]) -> Result<(), CdrError> {
        if self.store.is_none() {
            self.store = Some(Store::open(&self.cfg.store, self.cfg.busy_timeout)?);
        }
        match self.store.as_mut() {
            Some(s) => s.insert(batch),
            None => unreachable!("store opened above"),
        }
    }

    /// Moves the spill file's records into the store. The spill lock is held
    /// throughout, so a record appended meanwhile is not truncated away.
    fn replay(&mut self) {
        self.last_replay = Instant::now();
        let spill = self.spill.clone();
        let guard = lock(&spill);
        if guard.is_empty() {
            return;
        }
        let (records, bad) = match guard.read() {
            Ok(r) => r,
            Err(e) => {
                log::error!("{e}");
                return;
            }
        };
        for chunk in records.chunks(self.cfg.batch_max.max(1)) {
            if let Err(e) = self.try_insert(chunk) {
                self.report.failures += 1;
                self.metrics.cdr_write_failures.inc();
                self.store = None;
                log::warn!("replaying the CDR spill file failed, will retry: {e}");
                return;
            }
        }
        match guard.clear(&bad) {
            Ok(()) => {
                let n = records.len() as u64;
                self.report.replayed += n;
                self.metrics.cdr_written.add(n);
                log::info!("replayed {n} CDRs from {}", guard.path.display());
                if !bad.is_empty() {
                    log::error!(
                        "{} unreadable lines of {} kept in its .bad file",
                        bad.len(),
                        guard.path.display()
                    );
                }
            }
            // Records are stored; the next replay re-inserts them harmlessly.
            Err(e) => log::error!("{e}"),
        }
    }
}

/// Traffic in the busiest clock hour of a CDR database.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BusyHour {
    /// Start of the hour, ms since the Unix epoch (UTC; hours are whole in
    /// every time zone the shop uses, so this is also the local hour).
    pub hour_start_ms: i64,
    /// Calls that started in that hour.
    pub calls: u64,
    /// Of those, answered by the IVR.
    pub answered: u64,
    /// Of those, handed to an agent group.
    pub transferred: u64,
    /// Mean seconds in the IVR (answer to hand-over or end), answered calls.
    pub mean_ivr_s: f64,
    /// Mean seconds with an agent (agent answer to end), calls an agent took.
    pub mean_agent_s: f64,
}

/// Finds the clock hour with the most calls in a SQLite CDR database, and
/// its handling times. `Ok(None)` if there are no calls.
///
/// Calls blocked because every trunk was busy never reach the daemon, so on
/// a saturated system this under-counts the offered traffic.
///
/// # Errors
///
/// [`CdrError::Sqlite`] if the file cannot be opened (it is opened
/// read-only and never created) or has no CDR table.
pub fn busiest_hour(path: &Path) -> Result<Option<BusyHour>, CdrError> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    busiest_hour_in(&conn)
}

/// [`busiest_hour`] for either store: a SQLite file or a PostgreSQL URL.
///
/// # Errors
///
/// The store's error; [`CdrError::PostgresNotBuilt`] for a PostgreSQL URL
/// in a build without the `postgres` feature.
pub fn busiest_hour_in_store(store: &StoreSpec) -> Result<Option<BusyHour>, CdrError> {
    match store {
        StoreSpec::Sqlite(path) => busiest_hour(path),
        #[cfg(feature = "postgres")]
        StoreSpec::Postgres(url) => {
            let mut client = pg_connect(url)?;
            let sql = "SELECT start_ms / 3600000 AS h, COUNT(*) AS n,
                          COUNT(answer_ms), COUNT(transfer_ms),
                          AVG(COALESCE(transfer_ms, end_ms) - answer_ms)::float8,
                          AVG(end_ms - agent_answer_ms)::float8
                       FROM ivrd_cdr GROUP BY h ORDER BY n DESC, h DESC LIMIT 1";
            let rows = client.query(sql, &[])?;
            let Some(r) = rows.first() else {
                return Ok(None);
            };
            let count = |i: usize| -> Result<u64, CdrError> {
                let v: i64 = r.try_get(i)?;
                u64::try_from(v).map_err(|_| CdrError::BadRow(format!("negative count {v}")))
            };
            Ok(Some(BusyHour {
                hour_start_ms: r.try_get::<_, i64>(0)? * 3_600_000,
                calls: count(1)?,
                answered: count(2)?,
                transferred: count(3)?,
                mean_ivr_s: r.try_get::<_, Option<f64>>(4)?.unwrap_or(0.0) / 1000.0,
                mean_agent_s: r.try_get::<_, Option<f64>>(5)?.unwrap_or(0.0) / 1000.0,
            }))
        }
        #[cfg(not(feature = "postgres"))]
        StoreSpec::Postgres(_) => Err(CdrError::PostgresNotBuilt),
    }
}

fn busiest_hour_in(conn: &rusqlite::Connection) -> Result<Option<BusyHour>, CdrError> {
    let sql = "SELECT start_ms / 3600000 AS h, COUNT(*) AS n,
                      SUM(answer_ms IS NOT NULL), SUM(transfer_ms IS NOT NULL),
                      AVG(CASE WHEN answer_ms IS NOT NULL
                               THEN COALESCE(transfer_ms, end_ms) - answer_ms END),
                      AVG(CASE WHEN agent_answer_ms IS NOT NULL
                               THEN end_ms - agent_answer_ms END)
               FROM ivrd_cdr GROUP BY h ORDER BY n DESC, h DESC LIMIT 1";
    let mut st = conn.prepare(sql)?;
    let mut rows = st.query([])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    let hour: i64 = r.get(0)?;
    let count = |i: usize| -> Result<u64, CdrError> {
        let v: i64 = r.get(i)?;
        u64::try_from(v).map_err(|_| CdrError::BadRow(format!("negative count {v}")))
    };
    Ok(Some(BusyHour {
        hour_start_ms: hour * 3_600_000,
        calls: count(1)?,
        answered: count(2)?,
        transferred: count(3)?,
        mean_ivr_s: r.get::<_, Option<f64>>(4)?.unwrap_or(0.0) / 1000.0,
        mean_agent_s: r.get::<_, Option<f64>>(5)?.unwrap_or(0.0) / 1000.0,
    }))
}

/// Reads every CDR of a SQLite database, oldest first (for reports and tests).
///
/// # Errors
///
/// [`CdrError::Sqlite`] on a database error, [`CdrError::BadRow`] on a value
/// this version cannot read.
pub fn read_all(path: &Path) -> Result<Vec<Cdr>, CdrError> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut st = conn.prepare(
        "SELECT call_id, start_ms, answer_ms, transfer_ms, agent_answer_ms, end_ms, caller_id, \
         trunk, script, script_version, path, orders, result, transfer_target, recording, \
         hangup_cause FROM ivrd_cdr ORDER BY start_ms, call_id",
    )?;
    let mut rows = st.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let list = |i: usize| -> Result<Vec<String>, CdrError> {
            let s: String = r.get(i)?;
            serde_json::from_str(&s).map_err(|e| CdrError::BadRow(format!("{s:?}: {e}")))
        };
        let result: String = r.get(12)?;
        let cause: String = r.get(15)?;
        out.push(Cdr {
            call_id: r.get(0)?,
            start_ms: r.get(1)?,
            answer_ms: r.get(2)?,
            transfer_ms: r.get(3)?,
            agent_answer_ms: r.get(4)?,
            end_ms: r.get(5)?,
            caller_id: r.get(6)?,
            trunk: r.get(7)?,
            script: r.get(8)?,
            script_version: r.get(9)?,
            path: list(10)?,
            orders: list(11)?,
            result: CallResult::parse(&result)
                .ok_or_else(|| CdrError::BadRow(format!("unknown result {result:?}")))?,
            transfer_target: r.get(13)?,
            recording: r.get(14)?,
            hangup_cause: HangupCause::parse(&cause)
                .ok_or_else(|| CdrError::BadRow(format!("unknown hangup cause {cause:?}")))?,
        });
    }
    Ok(out)
}

/// Formats ms since the Unix epoch as `YYYY-MM-DD HH:MM UTC`.
pub fn format_utc_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        sod / 3600,
        (sod % 3600) / 60
    )
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01),
/// after H. Hinnant's `civil_from_days`.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_utc_ms(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc_ms(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc_ms(1_700_000_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(format_utc_ms(-1), "1969-12-31 23:59 UTC");
    }

    #[test]
    fn names_round_trip() {
        for r in CallResult::ALL {
            assert_eq!(CallResult::parse(r.as_str()), Some(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        for c in HangupCause::ALL {
            assert_eq!(HangupCause::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
    }

    #[test]
    fn spill_lines_survive_upgrades_and_rollbacks() {
        // Written by a newer version (an extra field) or an older one (no
        // optional fields): both still read.
        let newer = r#"{"call_id":"1-1","start_ms":1,"end_ms":2,"trunk":1,"result":"failed",
            "hangup_cause":"shutdown","queue_position":3}"#;
        let c: Cdr = serde_json::from_str(newer).unwrap();
        assert_eq!(c.call_id, "1-1");
        assert_eq!(c.hangup_cause, HangupCause::Shutdown);
        assert!(c.path.is_empty() && c.answer_ms.is_none());
    }

    #[test]
    fn busiest_hour_on_an_empty_db_is_none() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(SQLITE_SCHEMA).unwrap();
        assert_eq!(busiest_hour_in(&conn).unwrap(), None);
    }
}
