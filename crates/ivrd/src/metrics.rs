//! Prometheus metrics: a lock-free registry and a tiny HTTP responder.
//!
//! [`Metrics`] is one shared registry (`Arc<Metrics>`) of relaxed atomic
//! counters, gauges and fixed-bucket histograms. The audio thread and the
//! control thread bump them directly.
//!
//! # Real-time
//!
//! Every `inc`/`observe`/`set` is a handful of relaxed atomic operations: no
//! lock, no allocation, no system call, so the audio thread may call them.
//! Only [`Metrics::render`] (the scrape) allocates, on the metrics thread.
//!
//! # Threads
//!
//! [`MetricsServer::start`] binds a TCP listener (loopback by default in the
//! config) and answers `GET /metrics` with the Prometheus text exposition
//! format 0.0.4 on its own thread, one connection at a time, with 2 s I/O
//! timeouts so a stuck client cannot hold it. It is hand-written over
//! `std::net`: a scrape endpoint needs a request line and a response header,
//! not an HTTP framework with an async runtime.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::sync::Arc;
//! use ivrd::metrics::{ChannelState, Metrics, MetricsServer};
//!
//! let metrics = Arc::new(Metrics::new(4));
//! metrics.set_channel_state(0, ChannelState::InIvr);
//! metrics.calls_offered.inc();
//! let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), metrics.clone()).unwrap();
//! let mut s = std::net::TcpStream::connect(server.local_addr()).unwrap();
//! s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
//! let mut body = String::new();
//! s.read_to_string(&mut body).unwrap();
//! assert!(body.contains("ivrd_calls_offered_total 1"));
//! assert!(body.contains("ivrd_channels{state=\"in-ivr\"} 1"));
//! server.stop();
//! ```

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::cdr::{CallResult, HangupCause};

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one. Real-time safe.
    #[inline]
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// Adds `n`. Real-time safe.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    /// Mirrors a count kept elsewhere (such as the audio thread's own counters).
    pub fn store(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// Sets the value. Real-time safe.
    #[inline]
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// Adds `d` (may be negative). Real-time safe.
    #[inline]
    pub fn add(&self, d: i64) {
        self.0.fetch_add(d, Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Most buckets a [`Histogram`] can have (plus the implicit `+Inf`).
pub const MAX_BUCKETS: usize = 16;

/// A histogram over fixed upper bounds, Prometheus style.
///
/// `observe` finds the bucket by a linear scan over at most
/// [`MAX_BUCKETS`] bounds and does two relaxed atomic adds and one
/// compare-and-swap loop for the sum: lock-free and allocation-free.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Per-bucket (non-cumulative) counts; index `bounds.len()` is `+Inf`.
    counts: [AtomicU64; MAX_BUCKETS + 1],
    /// Sum of observations, as `f64` bits.
    sum_bits: AtomicU64,
}

impl Histogram {
    /// A histogram with these upper bounds (ascending, at most
    /// [`MAX_BUCKETS`]).
    ///
    /// # Panics
    ///
    /// If the bounds are not ascending or there are too many: a programming
    /// error in the registry's constants.
    pub fn new(bounds: &'static [f64]) -> Self {
        assert!(bounds.len() <= MAX_BUCKETS, "too many histogram buckets");
        assert!(
            bounds.windows(2).all(|w| w[0] < w[1]),
            "histogram bounds must ascend"
        );
        Self {
            bounds,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// Records one observation. Real-time safe. NaN is counted in `+Inf` and
    /// left out of the sum.
    #[inline]
    pub fn observe(&self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|&b| v <= b)
            .unwrap_or(self.bounds.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        if v.is_finite() {
            // Lock-free float add; the closure never fails so this cannot error.
            let _ = self
                .sum_bits
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                    Some((f64::from_bits(bits) + v).to_bits())
                });
        }
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.counts[..=self.bounds.len()]
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// Sum of the (finite) observations.
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.sum_bits.load(Ordering::Relaxed))
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, b) in self.bounds.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        cumulative += self.counts[self.bounds.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let _ = writeln!(out, "{name}_sum {}", self.sum());
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

/// What a channel is doing, for the `ivrd_channels{state=..}` gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ChannelState {
    /// On hook, waiting for a call.
    Idle = 0,
    /// Ringing (trunk: incoming call not yet answered; station: being rung).
    Ringing = 1,
    /// Answered and in the IVR script.
    InIvr = 2,
    /// Handed over to an agent (trunk) or talking to a caller (station).
    Transferred = 3,
    /// Taken out of service after failures; retried periodically.
    OutOfService = 4,
    /// Being closed: a reload took it out of the config (planned, not a failure).
    Closing = 5,
}

impl ChannelState {
    /// Every state, in exposition order.
    pub const ALL: [Self; 6] = [
        Self::Idle,
        Self::Ringing,
        Self::InIvr,
        Self::Transferred,
        Self::OutOfService,
        Self::Closing,
    ];
    /// The label value used in the exposition.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Ringing => "ringing",
            Self::InIvr => "in-ivr",
            Self::Transferred => "transferred",
            Self::OutOfService => "out-of-service",
            Self::Closing => "closing",
        }
    }
}

/// Outcome of one order lookup, for `ivrd_lookups_total{outcome=..}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LookupOutcome {
    /// The order (or orders) were found.
    Found,
    /// The database answered: no such order.
    NotFound,
    /// No answer within the configured timeout; the caller got the fallback.
    Timeout,
    /// The backend failed (connection refused, SQL error, pool exhausted…).
    Error,
}

impl LookupOutcome {
    /// Every outcome, in exposition order.
    pub const ALL: [Self; 4] = [Self::Found, Self::NotFound, Self::Timeout, Self::Error];
    /// The label value used in the exposition.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::NotFound => "not-found",
            Self::Timeout => "timeout",
            Self::Error => "error",
        }
    }
}

/// Outcome of caller-ID reception on one incoming call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallerIdOutcome {
    /// A number (or a withheld/unavailable marker) was decoded.
    Decoded,
    /// Something arrived but failed its checksum or framing.
    Corrupt,
    /// Nothing arrived in the expected window.
    Missing,
}

impl CallerIdOutcome {
    /// Every outcome, in exposition order.
    pub const ALL: [Self; 3] = [Self::Decoded, Self::Corrupt, Self::Missing];
    /// The label value used in the exposition.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Decoded => "decoded",
            Self::Corrupt => "corrupt",
            Self::Missing => "missing",
        }
    }
}

/// Bucket bounds for order-lookup latency, seconds.
pub const LOOKUP_LATENCY_BOUNDS_S: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0,
];
/// Bucket bounds for DTMF twist (high group minus low group), dB. Q.24
/// accepts about +4 dB (reverse) and −8 dB (normal) twist.
pub const DTMF_TWIST_BOUNDS_DB: &[f64] = &[-10.0, -8.0, -6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 6.0];
/// Bucket bounds for DTMF signal-to-noise ratio, dB.
pub const DTMF_SNR_BOUNDS_DB: &[f64] = &[6.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0];
/// Bucket bounds for DTMF tone duration, ms (Q.24: accept ≥ 40 ms).
pub const DTMF_DURATION_BOUNDS_MS: &[f64] = &[30.0, 40.0, 50.0, 70.0, 100.0, 150.0, 250.0, 500.0];

/// A channel slot with no channel open (not counted in `ivrd_channels`).
const CLOSED: u8 = u8::MAX;

/// The daemon's metrics registry. Share it as `Arc<Metrics>`.
#[derive(Debug)]
pub struct Metrics {
    channel_state: Box<[AtomicU8]>,
    /// Incoming calls seen (ring detected on a trunk).
    pub calls_offered: Counter,
    /// Calls answered by the IVR.
    pub calls_answered: Counter,
    calls_by_result: [Counter; CallResult::ALL.len()],
    hangups_by_cause: [Counter; HangupCause::ALL.len()],
    lookups: [Counter; LookupOutcome::ALL.len()],
    /// Order-lookup latency, seconds (answered lookups and timeouts).
    pub lookup_latency_s: Histogram,
    dtmf_digits: [Counter; 16],
    /// Tones rejected by the DTMF detector's checks (twist, SNR, duration).
    pub dtmf_rejected: Counter,
    /// Twist of accepted digits, dB.
    pub dtmf_twist_db: Histogram,
    /// Signal-to-noise ratio of accepted digits, dB.
    pub dtmf_snr_db: Histogram,
    /// Duration of accepted digits, ms.
    pub dtmf_duration_ms: Histogram,
    caller_id: [Counter; CallerIdOutcome::ALL.len()],
    /// Events lost because the event ring from the audio thread was full
    /// (hook changes, faults, hang-up signals and completions are kept and
    /// delivered late instead; see `media`).
    pub ring_overruns: Counter,
    /// Commands that found their channel's command ring full and waited in
    /// the control side's backlog (none is lost; they go out in order).
    pub commands_deferred: Counter,
    /// Calls whose keys were lost on the way (full event ring): their input
    /// was treated as an input error (the script's invalid-input path).
    pub calls_input_lost: Counter,
    /// Channels taken out of service after an error.
    pub channel_failures: Counter,
    /// CDRs stored in the database.
    pub cdr_written: Counter,
    /// Failed CDR database writes (each batch attempt that failed).
    pub cdr_write_failures: Counter,
    /// CDRs written to the spill file because the database could not take them.
    pub cdr_spilled: Counter,
    /// Recordings finished (WAV header finalised).
    pub recordings_finished: Counter,
    /// Successful config/script reloads (SIGHUP).
    pub reloads_ok: Counter,
    /// Reloads refused because the new config or a script was broken.
    pub reloads_refused: Counter,
    /// Unix time the daemon started, seconds.
    pub start_time_s: Gauge,
    /// Calls whose caller hung up and whose script still runs off the line (filing a voice
    /// message with `on hangup`); their CDRs come when they end.
    pub calls_after_hangup: Gauge,
    /// The audio loop's own counts, mirrored by the control thread.
    pub audio: AudioMetrics,
}

/// The audio loop's health, as the control thread last copied it from the audio thread's
/// counters.
#[derive(Debug, Default)]
pub struct AudioMetrics {
    /// Frames processed, all channels.
    pub frames: Counter,
    /// Frames the board would not take (its transmit buffers were full).
    pub tx_would_block: Counter,
    /// Silent transmit blocks left out after a late wake-up, to keep prompt starts prompt.
    pub tx_trimmed: Counter,
    /// Hook changes the board refused.
    pub hook_errors: Counter,
    /// Caller↔agent bridges carried by the board (DAHDI conferences).
    pub kernel_bridges: Counter,
    /// Kernel bridges the board refused; those calls were bridged in user space.
    pub kernel_bridge_refusals: Counter,
    /// 1 if the audio thread runs SCHED_FIFO.
    pub realtime: Gauge,
    /// 1 if the daemon's memory is locked (no page faults on the audio path).
    pub memory_locked: Gauge,
    /// The CPU wake-up latency the daemon holds (PM QoS), µs; -1 if it holds none.
    pub cpu_wakeup_latency_us: Gauge,
}

impl Metrics {
    /// A registry for `channels` channels (indices `0..channels`), all idle.
    pub fn new(channels: usize) -> Self {
        Self::with_capacity(channels, channels)
    }

    /// A registry with room for `capacity` channels, of which `0..channels` are open and
    /// idle; the others appear when [`Metrics::set_channel_state`] first names them (a
    /// channel opened by a reload) and go again with [`Metrics::close_channel`]. The
    /// slots are sized once: changing them is a relaxed store, no lock.
    pub fn with_capacity(channels: usize, capacity: usize) -> Self {
        Self {
            channel_state: (0..capacity.max(channels))
                .map(|i| {
                    AtomicU8::new(if i < channels {
                        ChannelState::Idle as u8
                    } else {
                        CLOSED
                    })
                })
                .collect(),
            calls_offered: Counter::default(),
            calls_answered: Counter::default(),
            calls_by_result: Default::default(),
            hangups_by_cause: Default::default(),
            lookups: Default::default(),
            lookup_latency_s: Histogram::new(LOOKUP_LATENCY_BOUNDS_S),
            dtmf_digits: Default::default(),
            dtmf_rejected: Counter::default(),
            dtmf_twist_db: Histogram::new(DTMF_TWIST_BOUNDS_DB),
            dtmf_snr_db: Histogram::new(DTMF_SNR_BOUNDS_DB),
            dtmf_duration_ms: Histogram::new(DTMF_DURATION_BOUNDS_MS),
            caller_id: Default::default(),
            ring_overruns: Counter::default(),
            commands_deferred: Counter::default(),
            calls_input_lost: Counter::default(),
            channel_failures: Counter::default(),
            cdr_written: Counter::default(),
            cdr_write_failures: Counter::default(),
            cdr_spilled: Counter::default(),
            recordings_finished: Counter::default(),
            reloads_ok: Counter::default(),
            reloads_refused: Counter::default(),
            start_time_s: Gauge::default(),
            calls_after_hangup: Gauge::default(),
            audio: AudioMetrics::default(),
        }
    }

    /// Number of channels open now.
    pub fn channels(&self) -> usize {
        self.channel_state
            .iter()
            .filter(|s| s.load(Ordering::Relaxed) != CLOSED)
            .count()
    }

    /// Number of channel slots (open or not).
    pub fn capacity(&self) -> usize {
        self.channel_state.len()
    }

    /// Channel `index` was closed: it is no longer counted in any state.
    pub fn close_channel(&self, index: usize) {
        if let Some(s) = self.channel_state.get(index) {
            s.store(CLOSED, Ordering::Relaxed);
        }
    }

    /// Records channel `index`'s state. Out-of-range indices are ignored
    /// (real-time safe: no panic on the audio path).
    #[inline]
    pub fn set_channel_state(&self, index: usize, state: ChannelState) {
        if let Some(s) = self.channel_state.get(index) {
            s.store(state as u8, Ordering::Relaxed);
        }
    }

    /// Channel `index`'s state, if it is open.
    pub fn channel_state(&self, index: usize) -> Option<ChannelState> {
        let v = self.channel_state.get(index)?.load(Ordering::Relaxed);
        ChannelState::ALL.get(usize::from(v)).copied()
    }

    /// Counts a finished call by its result and hangup cause.
    #[inline]
    pub fn call_ended(&self, result: CallResult, cause: HangupCause) {
        self.calls_by_result[result as usize].inc();
        self.hangups_by_cause[cause as usize].inc();
    }

    /// Counts one order lookup and its latency in seconds.
    #[inline]
    pub fn lookup(&self, outcome: LookupOutcome, latency_s: f64) {
        self.lookups[outcome as usize].inc();
        self.lookup_latency_s.observe(latency_s);
    }

    /// Counts one accepted DTMF digit with its quality figures.
    #[inline]
    pub fn dtmf_digit(
        &self,
        digit: tel_types::Digit,
        twist_db: f32,
        snr_db: f32,
        duration_ms: f32,
    ) {
        self.dtmf_digits[digit.index()].inc();
        self.dtmf_twist_db.observe(f64::from(twist_db));
        self.dtmf_snr_db.observe(f64::from(snr_db));
        self.dtmf_duration_ms.observe(f64::from(duration_ms));
    }

    /// Counts one caller-ID reception outcome.
    #[inline]
    pub fn caller_id(&self, outcome: CallerIdOutcome) {
        self.caller_id[outcome as usize].inc();
    }

    /// Calls that ended with `result` so far.
    pub fn calls_with_result(&self, result: CallResult) -> u64 {
        self.calls_by_result[result as usize].get()
    }

    /// Calls that ended by `cause` so far (e.g. busy-tone hangups).
    pub fn hangups(&self, cause: HangupCause) -> u64 {
        self.hangups_by_cause[cause as usize].get()
    }

    /// Renders the Prometheus text exposition (format 0.0.4) into `out`.
    pub fn render(&self, out: &mut String) {
        let mut by_state = [0u64; ChannelState::ALL.len()];
        for s in self.channel_state.iter() {
            let v = usize::from(s.load(Ordering::Relaxed));
            if let Some(c) = by_state.get_mut(v) {
                *c += 1;
            }
        }
        let _ = writeln!(
            out,
            "# HELP ivrd_build_info The running ivrd version.\n# TYPE ivrd_build_info gauge\n\
             ivrd_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        gauge(
            out,
            "ivrd_start_time_seconds",
            "Unix time the daemon started.",
            self.start_time_s.get(),
        );
        gauge(
            out,
            "ivrd_calls_after_hangup",
            "Calls whose caller hung up and whose script still runs off the line (on hangup).",
            self.calls_after_hangup.get(),
        );
        let _ = writeln!(
            out,
            "# HELP ivrd_channels Channels by state.\n# TYPE ivrd_channels gauge"
        );
        for (st, n) in ChannelState::ALL.iter().zip(by_state) {
            let _ = writeln!(out, "ivrd_channels{{state=\"{}\"}} {n}", st.label());
        }
        counter(
            out,
            "ivrd_calls_offered_total",
            "Incoming calls seen on trunks.",
            &self.calls_offered,
        );
        counter(
            out,
            "ivrd_calls_answered_total",
            "Calls answered by the IVR.",
            &self.calls_answered,
        );
        labelled(
            out,
            "ivrd_calls_total",
            "Finished calls by result.",
            "result",
            CallResult::ALL.iter().map(|r| r.as_str()),
            &self.calls_by_result,
        );
        labelled(
            out,
            "ivrd_hangups_total",
            "Finished calls by what ended them (busy-tone = far end hung up, seen as busy tone).",
            "cause",
            HangupCause::ALL.iter().map(|c| c.as_str()),
            &self.hangups_by_cause,
        );
        labelled(
            out,
            "ivrd_lookups_total",
            "Order lookups by outcome.",
            "outcome",
            LookupOutcome::ALL.iter().map(|o| o.label()),
            &self.lookups,
        );
        self.lookup_latency_s
            .render(out, "ivrd_lookup_latency_seconds", "Order lookup latency.");
        let _ = writeln!(
            out,
            "# HELP ivrd_dtmf_digits_total Accepted DTMF digits.\n# TYPE ivrd_dtmf_digits_total counter"
        );
        for d in tel_types::Digit::ALL {
            let _ = writeln!(
                out,
                "ivrd_dtmf_digits_total{{digit=\"{}\"}} {}",
                d.as_char(),
                self.dtmf_digits[d.index()].get()
            );
        }
        counter(
            out,
            "ivrd_dtmf_rejected_total",
            "DTMF candidates rejected (twist, SNR or duration out of bounds).",
            &self.dtmf_rejected,
        );
        self.dtmf_twist_db.render(
            out,
            "ivrd_dtmf_twist_db",
            "Twist of accepted DTMF digits (dB).",
        );
        self.dtmf_snr_db
            .render(out, "ivrd_dtmf_snr_db", "SNR of accepted DTMF digits (dB).");
        self.dtmf_duration_ms.render(
            out,
            "ivrd_dtmf_duration_ms",
            "Duration of accepted DTMF digits (ms).",
        );
        labelled(
            out,
            "ivrd_caller_id_total",
            "Caller-ID reception by outcome.",
            "outcome",
            CallerIdOutcome::ALL.iter().map(|o| o.label()),
            &self.caller_id,
        );
        counter(
            out,
            "ivrd_ring_overruns_total",
            "Events lost because a ring between audio and control threads was full.",
            &self.ring_overruns,
        );
        counter(
            out,
            "ivrd_commands_deferred_total",
            "Commands that waited for room in a full command ring (none is lost).",
            &self.commands_deferred,
        );
        counter(
            out,
            "ivrd_calls_input_lost_total",
            "Calls whose keys were lost on a full event ring (taken as an input error).",
            &self.calls_input_lost,
        );
        counter(
            out,
            "ivrd_channel_failures_total",
            "Channels taken out of service after an error.",
            &self.channel_failures,
        );
        counter(
            out,
            "ivrd_cdr_written_total",
            "CDRs stored in the database.",
            &self.cdr_written,
        );
        counter(
            out,
            "ivrd_cdr_write_failures_total",
            "Failed CDR database write attempts.",
            &self.cdr_write_failures,
        );
        counter(
            out,
            "ivrd_cdr_spilled_total",
            "CDRs written to the spill file instead of the database.",
            &self.cdr_spilled,
        );
        counter(
            out,
            "ivrd_recordings_finished_total",
            "Recordings finalised.",
            &self.recordings_finished,
        );
        counter(
            out,
            "ivrd_reloads_ok_total",
            "Successful config and script reloads.",
            &self.reloads_ok,
        );
        counter(
            out,
            "ivrd_reloads_refused_total",
            "Reloads refused because the new config or a script was broken.",
            &self.reloads_refused,
        );
        let a = &self.audio;
        counter(
            out,
            "ivrd_audio_frames_total",
            "Frames processed by the audio loop, all channels.",
            &a.frames,
        );
        counter(
            out,
            "ivrd_audio_tx_would_block_total",
            "Frames the board would not take (transmit buffers full).",
            &a.tx_would_block,
        );
        counter(
            out,
            "ivrd_audio_tx_trimmed_total",
            "Silent transmit blocks left out after a late wake-up (the lead it added, taken back).",
            &a.tx_trimmed,
        );
        counter(
            out,
            "ivrd_audio_hook_errors_total",
            "Hook changes the board refused.",
            &a.hook_errors,
        );
        counter(
            out,
            "ivrd_kernel_bridges_total",
            "Caller-agent bridges carried by the board (DAHDI conferences).",
            &a.kernel_bridges,
        );
        counter(
            out,
            "ivrd_kernel_bridge_refusals_total",
            "Kernel bridges the board refused; those calls were bridged in user space.",
            &a.kernel_bridge_refusals,
        );
        gauge(
            out,
            "ivrd_audio_realtime",
            "1 if the audio thread runs with SCHED_FIFO priority.",
            a.realtime.get(),
        );
        gauge(
            out,
            "ivrd_audio_memory_locked",
            "1 if the daemon's memory is locked (mlockall).",
            a.memory_locked.get(),
        );
        gauge(
            out,
            "ivrd_audio_cpu_wakeup_latency_us",
            "The CPU wake-up latency the daemon holds (/dev/cpu_dma_latency), µs; -1 if none.",
            a.cpu_wakeup_latency_us.get(),
        );
    }
}

fn counter(out: &mut String, name: &str, help: &str, c: &Counter) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
        c.get()
    );
}

fn gauge(out: &mut String, name: &str, help: &str, v: i64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
}

fn labelled<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    label: &str,
    values: impl Iterator<Item = &'a str>,
    counters: &[Counter],
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (v, c) in values.zip(counters) {
        let _ = writeln!(out, "{name}{{{label}=\"{v}\"}} {}", c.get());
    }
}

/// The HTTP responder serving `GET /metrics` on its own thread.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How long one client may take to send its request or read the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(2);

impl MetricsServer {
    /// Binds `addr` and starts serving `metrics`. Use port 0 to pick a free
    /// port and read it back with [`local_addr`](Self::local_addr).
    ///
    /// # Errors
    ///
    /// The bind error (address in use, permission denied…).
    pub fn start(addr: SocketAddr, metrics: Arc<Metrics>) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || serve(&listener, &metrics, &flag))?;
        Ok(Self {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and joins its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop.store(true, Ordering::SeqCst);
            // Wake the blocking accept; if the connect fails the listener is
            // already gone and the thread is exiting anyway.
            let mut wake = self.addr;
            if wake.ip().is_unspecified() {
                wake.set_ip(match wake {
                    SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                    SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                });
            }
            let _ = TcpStream::connect_timeout(&wake, IO_TIMEOUT);
            let _ = t.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn serve(listener: &TcpListener, metrics: &Metrics, stop: &AtomicBool) {
    let mut body = String::with_capacity(16 * 1024);
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut stream) = conn else {
            // EMFILE and the like: back off briefly instead of spinning.
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        if let Err(e) = answer(&mut stream, metrics, &mut body) {
            log::debug!("metrics: client error: {e}");
        }
    }
}

/// Reads one request and writes one response.
fn answer(stream: &mut TcpStream, metrics: &Metrics, body: &mut String) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut buf = [0u8; 4096];
    let mut len = 0;
    // Read until the end of the header block (or the buffer is full).
    while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") && len < buf.len() {
        let n = stream.read(&mut buf[len..])?;
        if n == 0 {
            break;
        }
        len += n;
    }
    let head = String::from_utf8_lossy(&buf[..len]);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    body.clear();
    let (status, ctype) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            metrics.render(body);
            ("200 OK", "text/plain; version=0.0.4; charset=utf-8")
        }
        ("GET" | "HEAD", "/") => {
            body.push_str("ivrd: metrics at /metrics\n");
            ("200 OK", "text/plain; charset=utf-8")
        }
        ("GET" | "HEAD", _) => {
            body.push_str("not found; metrics are at /metrics\n");
            ("404 Not Found", "text/plain; charset=utf-8")
        }
        _ => {
            body.push_str("only GET is supported\n");
            ("405 Method Not Allowed", "text/plain; charset=utf-8")
        }
    };
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(body.as_bytes())?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::new(&[1.0, 2.0, 5.0]);
        for v in [0.5, 1.0, 1.5, 4.0, 9.0, f64::NAN] {
            h.observe(v);
        }
        assert_eq!(h.count(), 6);
        assert_eq!(h.sum(), 16.0);
        let mut s = String::new();
        h.render(&mut s, "x", "help");
        assert!(s.contains("x_bucket{le=\"1\"} 2\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"2\"} 3\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"5\"} 4\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"+Inf\"} 6\n"), "{s}");
        assert!(s.contains("x_count 6\n"), "{s}");
    }

    #[test]
    fn channels_opened_and_closed_later_appear_and_go() {
        let m = Metrics::with_capacity(2, 4);
        assert_eq!((m.channels(), m.capacity()), (2, 4));
        assert_eq!(m.channel_state(2), None);
        let idle = |m: &Metrics| {
            let mut s = String::new();
            m.render(&mut s);
            s.lines()
                .find(|l| l.starts_with("ivrd_channels{state=\"idle\"}"))
                .map(str::to_owned)
        };
        assert_eq!(idle(&m).as_deref(), Some("ivrd_channels{state=\"idle\"} 2"));
        m.set_channel_state(3, ChannelState::Idle);
        assert_eq!(m.channels(), 3);
        assert_eq!(idle(&m).as_deref(), Some("ivrd_channels{state=\"idle\"} 3"));
        m.close_channel(0);
        assert_eq!(m.channel_state(0), None);
        assert_eq!(m.channels(), 2);
        assert_eq!(idle(&m).as_deref(), Some("ivrd_channels{state=\"idle\"} 2"));
    }

    #[test]
    fn channel_states_are_counted_and_out_of_range_ignored() {
        let m = Metrics::new(3);
        m.set_channel_state(0, ChannelState::Ringing);
        m.set_channel_state(2, ChannelState::OutOfService);
        m.set_channel_state(99, ChannelState::InIvr);
        assert_eq!(m.channel_state(2), Some(ChannelState::OutOfService));
        assert_eq!(m.channel_state(3), None);
        let mut s = String::new();
        m.render(&mut s);
        assert!(s.contains("ivrd_channels{state=\"idle\"} 1\n"));
        assert!(s.contains("ivrd_channels{state=\"ringing\"} 1\n"));
        assert!(s.contains("ivrd_channels{state=\"in-ivr\"} 0\n"));
        assert!(s.contains("ivrd_channels{state=\"out-of-service\"} 1\n"));
    }
}
