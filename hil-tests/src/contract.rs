//! The board channel contract as executable checks, generic over the board.
//!
//! Every check here drives a pair of wired-together lines through
//! [`tel_types::board::VoiceChannel`] only, so the same checks run against the real DAHDI
//! modules (a cross-connected `dahdi_dynamic_loc` span pair in a VM, or two ports of a real
//! card wired back to back) and against the simulated card.
//!
//! # The pair
//!
//! - The **exchange** side behaves like the central office: it gives battery, rings the
//!   phone and sees the phone's hook state. On DAHDI that is an FXO-*signalled* channel
//!   (`fxoks`, an FXS port on a real card, [`tel_types::board::PortKind::FxsStation`]),
//!   e.g. channel 1 of the VM's span pair.
//! - The **phone** side behaves like a telephone or like our IVR's trunk port: it goes off-
//!   and on-hook, flashes, and detects ringing. On DAHDI that is an FXS-*signalled* channel
//!   (`fxsks`, an FXO port on a real card, [`tel_types::board::PortKind::FxoTrunk`]), e.g.
//!   channel 25.
//!
//! # Time
//!
//! The checks never read a clock. They advance time only through [`LinePair::wait_ms`],
//! which sleeps on real hardware and advances virtual time on the simulated card. All
//! timeouts are generous multiples of the DAHDI protocol timers (on-hook is reported after
//! `rxflashtime`, 1250 ms; ring is detected at the end of a ring burst, 1–2 s; a flash is
//! refused for `debouncetime`, 600 ms, after going off-hook), so a loaded machine or a
//! software-emulated VM still passes while a missing event still fails.
//!
//! # State
//!
//! Each check starts from and returns to idle: both sides on-hook, no event pending. A
//! failed check may leave the pair in any state; call [`settle`] before the next one.
//!
//! ```
//! use hil_tests::contract::{self, LinePair};
//! fn run_all<P: LinePair>(pair: &mut P) -> Result<(), contract::Failure> {
//!     for (name, check) in contract::all::<P>() {
//!         contract::settle(pair)?;
//!         let report = check(pair)?;
//!         println!("{name}: {report}");
//!     }
//!     Ok(())
//! }
//! ```

use std::fmt;

use tel_types::board::{ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{FRAME_MS, FRAME_SAMPLES, Hook, Law, LineEvent, SAMPLE_RATE_HZ};

/// A pair of lines wired together: what the contract checks need from a board.
pub trait LinePair {
    /// The board's channel type.
    type Ch: VoiceChannel;

    /// The exchange side (FXO-signalled on DAHDI: rings the phone, sees its hook state).
    fn exchange(&mut self) -> &mut Self::Ch;

    /// The phone side (FXS-signalled on DAHDI: goes off-hook, flashes, detects ringing).
    fn phone(&mut self) -> &mut Self::Ch;

    /// Lets `ms` milliseconds pass: a sleep on real hardware, a virtual-time step on a
    /// simulated board. Frames not read in the meantime may be dropped by the board.
    fn wait_ms(&mut self, ms: u64);

    /// The largest level difference, in dB, accepted between audio sent on one side and
    /// received on the other. Digital paths (the VM's span pair, the simulated card) keep
    /// [`LEVEL_TOLERANCE_DB`]; a real analog loop through two hybrids may need more.
    fn level_tolerance_db(&self) -> f64 {
        LEVEL_TOLERANCE_DB
    }
}

/// Which side of a [`LinePair`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// [`LinePair::exchange`].
    Exchange,
    /// [`LinePair::phone`].
    Phone,
}

impl Side {
    /// The other end of the pair.
    fn other(self) -> Self {
        match self {
            Self::Exchange => Self::Phone,
            Self::Phone => Self::Exchange,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Exchange => "exchange side",
            Self::Phone => "phone side",
        })
    }
}

/// A contract check failed: which check, and what was seen instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The check's name, e.g. `"off-hook crosses"`.
    pub check: &'static str,
    /// What went wrong, in words, with the values seen.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.detail)
    }
}

impl std::error::Error for Failure {}

/// What a passing check measured, for the test log.
pub type Report = String;

/// The outcome of one check.
pub type CheckResult = Result<Report, Failure>;

/// A check, as listed by [`all`].
pub type Check<P> = fn(&mut P) -> CheckResult;

/// How long to wait for an event that DAHDI reports within a few ms (off-hook, answer).
pub const FAST_EVENT_TIMEOUT_MS: u64 = 3_000;
/// How long to wait for on-hook: DAHDI reports it after `rxflashtime` (1250 ms).
pub const ON_HOOK_TIMEOUT_MS: u64 = 4_000;
/// How long to wait for ring detection: at the end of the first burst (1–2 s).
pub const RING_TIMEOUT_MS: u64 = 6_000;
/// How long a flash may be refused after going off-hook (`debouncetime` is 600 ms).
pub const FLASH_RETRY_MS: u64 = 2_000;
/// Polling step while waiting for events.
pub const STEP_MS: u64 = 10;
/// The largest level difference accepted between audio sent and audio received, in dB.
pub const LEVEL_TOLERANCE_DB: f64 = 1.0;

/// Every check with its name, in a sensible order.
pub fn all<P: LinePair>() -> [(&'static str, Check<P>); 7] {
    [
        ("blocks are as reported", blocks_are_as_reported::<P>),
        (
            "off-hook and on-hook cross",
            off_hook_and_on_hook_cross::<P>,
        ),
        ("event pending stops audio", event_pending_stops_audio::<P>),
        ("frames cross at level", frames_cross_at_level::<P>),
        ("ring and answer cross", ring_and_answer_cross::<P>),
        ("flash crosses", flash_crosses::<P>),
        ("idle line is quiet", idle_line_is_quiet::<P>),
    ]
}

fn fail(check: &'static str, detail: impl Into<String>) -> Failure {
    Failure {
        check,
        detail: detail.into(),
    }
}

/// Bytes one read or write of `ch` moves: its block in its law.
pub fn block_bytes<C: VoiceChannel>(ch: &C) -> usize {
    ch.block_samples() * ch.law().bytes_per_sample()
}

fn side<P: LinePair>(pair: &mut P, s: Side) -> &mut P::Ch {
    match s {
        Side::Exchange => pair.exchange(),
        Side::Phone => pair.phone(),
    }
}

/// Reads and discards whatever audio is ready on one side; returns the events found.
fn drain_side<P: LinePair>(
    pair: &mut P,
    s: Side,
    check: &'static str,
    events: &mut Vec<LineEvent>,
) -> Result<(), Failure> {
    let ch = side(pair, s);
    let mut buf = [0u8; 2 * FRAME_SAMPLES];
    // Bounded: at most a few hundred frames can be buffered.
    for _ in 0..1000 {
        match ch.read_frame(&mut buf) {
            Ok(ReadOutcome::Data(_)) => {}
            Ok(ReadOutcome::WouldBlock) => return Ok(()),
            Ok(ReadOutcome::EventPending) => match ch.next_event() {
                Ok(Some(e)) => events.push(e),
                Ok(None) => {}
                Err(e) => return Err(fail(check, format!("{s}: next_event: {e}"))),
            },
            Err(e) => return Err(fail(check, format!("{s}: read_frame: {e}"))),
        }
    }
    Ok(())
}

/// Takes every pending event on one side.
fn take_events<P: LinePair>(
    pair: &mut P,
    s: Side,
    check: &'static str,
    events: &mut Vec<LineEvent>,
) -> Result<(), Failure> {
    let ch = side(pair, s);
    for _ in 0..1000 {
        match ch.next_event() {
            Ok(Some(e)) => events.push(e),
            Ok(None) => return Ok(()),
            Err(e) => return Err(fail(check, format!("{s}: next_event: {e}"))),
        }
    }
    Ok(())
}

/// Waits up to `timeout_ms` for `want` on side `s`, reading (and discarding) audio on both
/// sides meanwhile so the board's buffers never back up. Returns the ms waited and every
/// event seen on `s` up to and including `want`.
pub fn wait_for_event<P: LinePair>(
    pair: &mut P,
    s: Side,
    want: LineEvent,
    timeout_ms: u64,
    check: &'static str,
) -> Result<(u64, Vec<LineEvent>), Failure> {
    let mut seen = Vec::new();
    let mut other = Vec::new();
    let other_side = s.other();
    let mut waited = 0;
    loop {
        take_events(pair, s, check, &mut seen)?;
        drain_side(pair, s, check, &mut seen)?;
        drain_side(pair, other_side, check, &mut other)?;
        if let Some(i) = seen.iter().position(|e| *e == want) {
            seen.truncate(i + 1);
            return Ok((waited, seen));
        }
        if waited >= timeout_ms {
            return Err(fail(
                check,
                format!("{s}: no {want:?} within {timeout_ms} ms; events seen: {seen:?}"),
            ));
        }
        pair.wait_ms(STEP_MS);
        waited += STEP_MS;
    }
}

/// Sets side `s`'s hook, then waits (as [`wait_for_event`]) for `want` on the other side.
fn hook_then_wait<P: LinePair>(
    pair: &mut P,
    s: Side,
    hook: Hook,
    want: LineEvent,
    timeout_ms: u64,
    check: &'static str,
) -> Result<(u64, Vec<LineEvent>), Failure> {
    side(pair, s)
        .set_hook(hook)
        .map_err(|e| fail(check, format!("{s}: set_hook({hook:?}): {e}")))?;
    wait_for_event(pair, s.other(), want, timeout_ms, check)
}

/// Puts both sides on-hook and waits until neither reports anything for a while.
///
/// # Errors
/// A side refused to go on-hook or failed on read.
pub fn settle<P: LinePair>(pair: &mut P) -> Result<(), Failure> {
    const CHECK: &str = "settle";
    for s in [Side::Phone, Side::Exchange] {
        side(pair, s)
            .set_hook(Hook::OnHook)
            .map_err(|e| fail(CHECK, format!("{s}: set_hook(OnHook): {e}")))?;
    }
    // On-hook is reported after rxflashtime (1250 ms); wait until 1.5 s pass with no event.
    let mut quiet = 0;
    let mut total = 0;
    while quiet < 1_500 && total < 10_000 {
        let mut ev = Vec::new();
        for s in [Side::Phone, Side::Exchange] {
            take_events(pair, s, CHECK, &mut ev)?;
            drain_side(pair, s, CHECK, &mut ev)?;
        }
        quiet = if ev.is_empty() { quiet + 50 } else { 0 };
        pair.wait_ms(50);
        total += 50;
    }
    Ok(())
}

/// Off-hook on the phone side is seen on the exchange side as `RingOffHook`, and on-hook
/// as `OnHook` (after the board's on-hook debounce).
///
/// # Errors
/// An event did not arrive in time, or a channel failed.
pub fn off_hook_and_on_hook_cross<P: LinePair>(pair: &mut P) -> CheckResult {
    const CHECK: &str = "off-hook and on-hook cross";
    let (t_off, ev_off) = hook_then_wait(
        pair,
        Side::Phone,
        Hook::OffHook,
        LineEvent::RingOffHook,
        FAST_EVENT_TIMEOUT_MS,
        CHECK,
    )?;
    let (t_on, ev_on) = hook_then_wait(
        pair,
        Side::Phone,
        Hook::OnHook,
        LineEvent::OnHook,
        ON_HOOK_TIMEOUT_MS,
        CHECK,
    )?;
    Ok(format!(
        "off-hook seen after {t_off} ms ({ev_off:?}), on-hook after {t_on} ms ({ev_on:?})"
    ))
}

/// While an event is pending, reads and writes report `EventPending` (DAHDI's errno 500)
/// instead of moving audio; once `next_event` has taken the event, audio flows again.
///
/// # Errors
/// Audio moved while the event was pending, the event was lost, or audio did not resume.
pub fn event_pending_stops_audio<P: LinePair>(pair: &mut P) -> CheckResult {
    const CHECK: &str = "event pending stops audio";
    pair.phone()
        .set_hook(Hook::OffHook)
        .map_err(|e| fail(CHECK, format!("phone side: set_hook(OffHook): {e}")))?;
    let mut buf = [0u8; 2 * FRAME_SAMPLES];
    let frame = pair.exchange().law().frame_bytes();
    // Read (without taking events) until the read reports the pending off-hook event.
    let mut waited = 0;
    let mut frames_before = 0;
    loop {
        let mut other = Vec::new();
        drain_side(pair, Side::Phone, CHECK, &mut other)?;
        match pair.exchange().read_frame(&mut buf[..frame]) {
            Ok(ReadOutcome::EventPending) => break,
            Ok(ReadOutcome::Data(_)) => {
                frames_before += 1;
                continue;
            }
            Ok(ReadOutcome::WouldBlock) => {}
            Err(e) => return Err(fail(CHECK, format!("exchange side: read_frame: {e}"))),
        }
        if waited >= FAST_EVENT_TIMEOUT_MS {
            return Err(fail(
                CHECK,
                format!("read never reported EventPending within {FAST_EVENT_TIMEOUT_MS} ms"),
            ));
        }
        pair.wait_ms(STEP_MS);
        waited += STEP_MS;
    }
    // The event stays pending across time: reads and writes keep reporting it.
    pair.wait_ms(3 * u64::from(FRAME_MS));
    let r = pair.exchange().read_frame(&mut buf[..frame]);
    if !matches!(r, Ok(ReadOutcome::EventPending)) {
        return Err(fail(
            CHECK,
            format!("second read with the event still pending gave {r:?}, not EventPending"),
        ));
    }
    let silence = [silence_byte(pair.exchange().law()); 2 * FRAME_SAMPLES];
    let w = pair.exchange().write_frame(&silence[..frame]);
    if !matches!(w, Ok(WriteOutcome::EventPending)) {
        return Err(fail(
            CHECK,
            format!("write with an event pending gave {w:?}, not EventPending"),
        ));
    }
    let ev = pair
        .exchange()
        .next_event()
        .map_err(|e| fail(CHECK, format!("exchange side: next_event: {e}")))?;
    if ev != Some(LineEvent::RingOffHook) {
        return Err(fail(
            CHECK,
            format!("pending event was {ev:?}, expected RingOffHook"),
        ));
    }
    // With the event taken, audio flows again within a few frames.
    let mut resumed = None;
    let mut waited2 = 0;
    while waited2 < 1_000 {
        match pair.exchange().read_frame(&mut buf[..frame]) {
            Ok(ReadOutcome::Data(n)) => {
                resumed = Some(n);
                break;
            }
            Ok(ReadOutcome::WouldBlock) => {}
            Ok(ReadOutcome::EventPending) => {
                let e = pair.exchange().next_event();
                return Err(fail(
                    CHECK,
                    format!("another event became pending ({e:?}) before audio resumed"),
                ));
            }
            Err(e) => return Err(fail(CHECK, format!("exchange side: read_frame: {e}"))),
        }
        pair.wait_ms(STEP_MS);
        waited2 += STEP_MS;
    }
    let Some(n) = resumed else {
        return Err(fail(CHECK, "no audio within 1 s after taking the event"));
    };
    let w = pair.exchange().write_frame(&silence[..frame]);
    if !matches!(w, Ok(WriteOutcome::Written(_) | WriteOutcome::WouldBlock)) {
        return Err(fail(
            CHECK,
            format!("write after taking the event gave {w:?}"),
        ));
    }
    hook_then_wait(
        pair,
        Side::Phone,
        Hook::OnHook,
        LineEvent::OnHook,
        ON_HOOK_TIMEOUT_MS,
        CHECK,
    )?;
    Ok(format!(
        "EventPending after {waited} ms ({frames_before} frames read before), audio resumed \
         after {waited2} ms with {n} bytes"
    ))
}

/// A 1004 Hz tone at −10 dBm0 written on one side arrives on the other side at the same
/// level (within [`LinePair::level_tolerance_db`]) and frequency (within 2 %), in both directions,
/// in whatever law each channel is set to.
///
/// # Errors
/// The tone did not arrive, or arrived at the wrong level or frequency.
pub fn frames_cross_at_level<P: LinePair>(pair: &mut P) -> CheckResult {
    const CHECK: &str = "frames cross at level";
    hook_then_wait(
        pair,
        Side::Phone,
        Hook::OffHook,
        LineEvent::RingOffHook,
        FAST_EVENT_TIMEOUT_MS,
        CHECK,
    )?;
    let a = measure_tone(pair, Side::Phone, CHECK)?;
    let b = measure_tone(pair, Side::Exchange, CHECK)?;
    hook_then_wait(
        pair,
        Side::Phone,
        Hook::OnHook,
        LineEvent::OnHook,
        ON_HOOK_TIMEOUT_MS,
        CHECK,
    )?;
    Ok(format!("phone->exchange {a}; exchange->phone {b}"))
}

/// The tone the level check sends: 1004 Hz (the ITU test tone, not a submultiple of 8 kHz).
pub const TEST_TONE_HZ: f64 = 1004.0;
/// Its level, −10 dBm0, as a peak amplitude in 16-bit linear: 0 dBm0 is a sine of peak
/// about 22 575 (3.17 dB below full scale, per G.711's digital milliwatt), so −10 dBm0 is
/// about 7 139 (RMS about 5 048).
pub const TEST_TONE_PEAK: f64 = 7_139.0;

fn tone_sample(n: u64) -> i16 {
    let t = n as f64 / f64::from(SAMPLE_RATE_HZ);
    (TEST_TONE_PEAK * (2.0 * std::f64::consts::PI * TEST_TONE_HZ * t).sin()).round() as i16
}

/// Sends the test tone from `from` for about 1.2 s and measures it on the other side.
fn measure_tone<P: LinePair>(pair: &mut P, from: Side, check: &'static str) -> CheckResult {
    let to = match from {
        Side::Exchange => Side::Phone,
        Side::Phone => Side::Exchange,
    };
    let tx_law = side(pair, from).law();
    let rx_law = side(pair, to).law();
    let tx_frame = block_bytes(side(pair, from));
    let rx_frame = block_bytes(side(pair, to));
    let tx_block = side(pair, from).block_samples();
    let mut n_tx: u64 = 0;
    let mut received: Vec<i16> = Vec::new();
    let mut rx_buf = [0u8; 2 * FRAME_SAMPLES];
    let mut tx_buf = [0u8; 2 * FRAME_SAMPLES];
    let mut events = Vec::new();
    let mut waited = 0;
    // Send 1.2 s of tone; the receiver keeps reading until 1.2 s of it could have arrived.
    let send_samples = 60 * FRAME_SAMPLES as u64;
    while waited < 3_000 {
        // Write while the board takes frames.
        while n_tx < send_samples {
            let mut pcm = [0i16; FRAME_SAMPLES];
            for (i, s) in pcm[..tx_block].iter_mut().enumerate() {
                *s = tone_sample(n_tx + i as u64);
            }
            encode(tx_law, &pcm[..tx_block], &mut tx_buf[..tx_frame]);
            match side(pair, from).write_frame(&tx_buf[..tx_frame]) {
                Ok(WriteOutcome::Written(n)) if n == tx_frame => n_tx += tx_block as u64,
                Ok(WriteOutcome::Written(n)) => {
                    return Err(fail(
                        check,
                        format!("{from}: short write of {n} of {tx_frame} bytes"),
                    ));
                }
                Ok(WriteOutcome::WouldBlock) => break,
                Ok(WriteOutcome::EventPending) => take_events(pair, from, check, &mut events)?,
                Err(e) => return Err(fail(check, format!("{from}: write_frame: {e}"))),
            }
        }
        // Read everything that arrived.
        loop {
            match side(pair, to).read_frame(&mut rx_buf[..rx_frame]) {
                Ok(ReadOutcome::Data(n)) => {
                    let mut pcm = [0i16; FRAME_SAMPLES];
                    let samples = decode(rx_law, &rx_buf[..n], &mut pcm);
                    received.extend_from_slice(&pcm[..samples]);
                }
                Ok(ReadOutcome::WouldBlock) => break,
                Ok(ReadOutcome::EventPending) => take_events(pair, to, check, &mut events)?,
                Err(e) => return Err(fail(check, format!("{to}: read_frame: {e}"))),
            }
        }
        let mut ignore = Vec::new();
        drain_side(pair, from, check, &mut ignore)?;
        if n_tx >= send_samples && received.len() as u64 >= send_samples + 20 * 160 {
            break;
        }
        pair.wait_ms(STEP_MS);
        waited += STEP_MS;
    }
    // Find where the tone starts (first sample above a quarter of the peak), skip 40 ms of
    // onset, and measure 500 ms.
    let start = received
        .iter()
        .position(|s| f64::from(s.unsigned_abs()) > TEST_TONE_PEAK / 4.0)
        .ok_or_else(|| {
            fail(
                check,
                format!(
                    "{from} -> {to}: tone never arrived ({} samples received, peak {}; events {events:?})",
                    received.len(),
                    received.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0)
                ),
            )
        })?;
    let skip = start + 320;
    let want = 4_000;
    if received.len() < skip + want {
        return Err(fail(
            check,
            format!(
                "{from} -> {to}: only {} samples of tone received, wanted {}",
                received.len().saturating_sub(skip),
                want
            ),
        ));
    }
    let window = &received[skip..skip + want];
    let rms = rms(window);
    let sent_rms = TEST_TONE_PEAK / std::f64::consts::SQRT_2;
    let diff_db = 20.0 * (rms / sent_rms).log10();
    let crossings = window
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count();
    let freq = crossings as f64 / 2.0 / (want as f64 / f64::from(SAMPLE_RATE_HZ));
    let report = format!(
        "{tx_law:?}->{rx_law:?} RMS {rms:.0} (sent {sent_rms:.0}, {diff_db:+.2} dB), {freq:.0} Hz, \
         latency {} ms",
        start / 8
    );
    if diff_db.abs() > pair.level_tolerance_db() {
        return Err(fail(
            check,
            format!("{from} -> {to}: wrong level: {report}"),
        ));
    }
    if (freq - TEST_TONE_HZ).abs() > TEST_TONE_HZ * 0.02 {
        return Err(fail(
            check,
            format!("{from} -> {to}: wrong frequency: {report}"),
        ));
    }
    Ok(report)
}

/// Ringing the phone side from the exchange side is detected there as `RingOffHook`
/// (after the first burst); the phone answering is seen on the exchange side as
/// `RingOffHook`; hanging up is seen as `OnHook`.
///
/// # Errors
/// The ring, the answer or the hangup did not cross in time.
pub fn ring_and_answer_cross<P: LinePair>(pair: &mut P) -> CheckResult {
    const CHECK: &str = "ring and answer cross";
    let (t_ring, ev_ring) = hook_then_wait(
        pair,
        Side::Exchange,
        Hook::Ring,
        LineEvent::RingOffHook,
        RING_TIMEOUT_MS,
        CHECK,
    )?;
    // The phone answers.
    let (t_ans, ev_ans) = hook_then_wait(
        pair,
        Side::Phone,
        Hook::OffHook,
        LineEvent::RingOffHook,
        FAST_EVENT_TIMEOUT_MS,
        CHECK,
    )?;
    let (t_on, _) = hook_then_wait(
        pair,
        Side::Phone,
        Hook::OnHook,
        LineEvent::OnHook,
        ON_HOOK_TIMEOUT_MS,
        CHECK,
    )?;
    Ok(format!(
        "ring detected after {t_ring} ms ({ev_ring:?}), answer seen after {t_ans} ms \
         ({ev_ans:?}), hangup after {t_on} ms"
    ))
}

/// A hook flash on the phone side (once the off-hook debounce is over) is seen on the
/// exchange side as `WinkFlash`, not as a hangup.
///
/// # Errors
/// The flash was refused for longer than [`FLASH_RETRY_MS`], or did not cross, or crossed
/// as an on-hook.
pub fn flash_crosses<P: LinePair>(pair: &mut P) -> CheckResult {
    const CHECK: &str = "flash crosses";
    hook_then_wait(
        pair,
        Side::Phone,
        Hook::OffHook,
        LineEvent::RingOffHook,
        FAST_EVENT_TIMEOUT_MS,
        CHECK,
    )?;
    // A board may refuse a flash during its off-hook debounce; retry until it takes it.
    let mut refused = 0;
    let mut last_err = String::new();
    loop {
        match pair.phone().set_hook(Hook::Flash) {
            Ok(()) => break,
            Err(e) => last_err = e.to_string(),
        }
        if refused >= FLASH_RETRY_MS {
            return Err(fail(
                CHECK,
                format!("flash refused for {refused} ms: {last_err}"),
            ));
        }
        let mut ev = Vec::new();
        drain_side(pair, Side::Exchange, CHECK, &mut ev)?;
        drain_side(pair, Side::Phone, CHECK, &mut ev)?;
        pair.wait_ms(50);
        refused += 50;
    }
    let (t, ev) = wait_for_event(
        pair,
        Side::Exchange,
        LineEvent::WinkFlash,
        ON_HOOK_TIMEOUT_MS,
        CHECK,
    )?;
    if ev.contains(&LineEvent::OnHook) {
        return Err(fail(CHECK, format!("flash was seen as a hangup: {ev:?}")));
    }
    hook_then_wait(
        pair,
        Side::Phone,
        Hook::OnHook,
        LineEvent::OnHook,
        ON_HOOK_TIMEOUT_MS,
        CHECK,
    )?;
    Ok(format!(
        "flash accepted after {refused} ms of debounce refusals ({last_err}); WinkFlash \
         seen after {t} ms ({ev:?})"
    ))
}

/// Reads and writes move whole blocks of the size each channel reports
/// ([`VoiceChannel::block_samples`], 20 ms unless set shorter), on both sides: every read
/// returns one block, a one-block write is taken whole, and 200 ms of audio arrives in
/// 200 ms worth of blocks.
///
/// # Errors
/// A read returned another size, a write was short, or audio did not arrive.
pub fn blocks_are_as_reported<P: LinePair>(pair: &mut P) -> CheckResult {
    const CHECK: &str = "blocks are as reported";
    let mut report = String::new();
    for s in [Side::Exchange, Side::Phone] {
        let ch = side(pair, s);
        let samples = ch.block_samples();
        if samples == 0 || FRAME_SAMPLES % samples != 0 {
            return Err(fail(
                CHECK,
                format!("{s}: a block of {samples} samples does not divide the 20 ms frame"),
            ));
        }
        let bytes = block_bytes(ch);
        let mut events = Vec::new();
        drain_side(pair, s, CHECK, &mut events)?;
        let silence = [silence_byte(side(pair, s).law()); 2 * FRAME_SAMPLES];
        match side(pair, s).write_frame(&silence[..bytes]) {
            Ok(WriteOutcome::Written(n)) if n == bytes => {}
            Ok(other) => {
                return Err(fail(
                    CHECK,
                    format!("{s}: a {bytes}-byte write gave {other:?}"),
                ));
            }
            Err(e) => return Err(fail(CHECK, format!("{s}: write_frame: {e}"))),
        }
        let mut got = 0usize;
        let mut buf = [0u8; 2 * FRAME_SAMPLES];
        let mut waited = 0;
        // 200 ms; on a loaded machine the kernel may hold some of it a little longer.
        while got < 200 * 8 && waited < 2_000 {
            pair.wait_ms(STEP_MS);
            waited += STEP_MS;
            loop {
                match side(pair, s).read_frame(&mut buf) {
                    Ok(ReadOutcome::Data(n)) if n == bytes => got += samples,
                    Ok(ReadOutcome::Data(n)) => {
                        return Err(fail(
                            CHECK,
                            format!(
                                "{s}: read {n} bytes, the block is {samples} samples ({bytes} bytes)"
                            ),
                        ));
                    }
                    Ok(ReadOutcome::WouldBlock) => break,
                    Ok(ReadOutcome::EventPending) => take_events(pair, s, CHECK, &mut events)?,
                    Err(e) => return Err(fail(CHECK, format!("{s}: read_frame: {e}"))),
                }
            }
        }
        if got < 200 * 8 {
            return Err(fail(
                CHECK,
                format!("{s}: only {got} samples in {waited} ms of {samples}-sample blocks"),
            ));
        }
        if !report.is_empty() {
            report.push_str("; ");
        }
        report.push_str(&format!("{s}: {samples}-sample blocks ({bytes} bytes)"));
    }
    Ok(report)
}

/// With both sides idle and nothing written, no events appear and received audio stays
/// quiet (below −50 dBm0 or so): the board does not invent signalling or noise.
///
/// # Errors
/// An event appeared or the received audio was loud.
pub fn idle_line_is_quiet<P: LinePair>(pair: &mut P) -> CheckResult {
    const CHECK: &str = "idle line is quiet";
    let mut events = Vec::new();
    let mut samples: Vec<i16> = Vec::new();
    let mut buf = [0u8; 2 * FRAME_SAMPLES];
    let mut waited = 0;
    while waited < 1_000 {
        for s in [Side::Exchange, Side::Phone] {
            let law = side(pair, s).law();
            let frame = block_bytes(side(pair, s));
            take_events(pair, s, CHECK, &mut events)?;
            loop {
                match side(pair, s).read_frame(&mut buf[..frame]) {
                    Ok(ReadOutcome::Data(n)) => {
                        let mut pcm = [0i16; FRAME_SAMPLES];
                        let k = decode(law, &buf[..n], &mut pcm);
                        samples.extend_from_slice(&pcm[..k]);
                    }
                    Ok(ReadOutcome::WouldBlock) => break,
                    Ok(ReadOutcome::EventPending) => take_events(pair, s, CHECK, &mut events)?,
                    Err(e) => return Err(fail(CHECK, format!("{s}: read_frame: {e}"))),
                }
            }
        }
        pair.wait_ms(STEP_MS);
        waited += STEP_MS;
    }
    if !events.is_empty() {
        return Err(fail(CHECK, format!("events on an idle pair: {events:?}")));
    }
    let level = rms(&samples);
    if level > 30.0 {
        return Err(fail(
            CHECK,
            format!("idle audio RMS {level:.1}, expected near 0"),
        ));
    }
    Ok(format!(
        "{} samples, RMS {level:.1}, no events",
        samples.len()
    ))
}

/// Root-mean-square of linear samples.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let e: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (e / samples.len() as f64).sqrt()
}

/// The byte (or sample) that means silence in `law`.
pub fn silence_byte(law: Law) -> u8 {
    match law {
        Law::Linear => 0,
        Law::ALaw => 0xD5,
        Law::MuLaw => 0xFF,
    }
}

/// Encodes linear samples into `out` in `law` (`out` is `pcm.len() * bytes_per_sample`).
pub fn encode(law: Law, pcm: &[i16], out: &mut [u8]) {
    dsp::g711::encode_slice(law, pcm, out);
}

/// Decodes bytes in `law` into linear samples; returns how many samples were written.
pub fn decode(law: Law, bytes: &[u8], out: &mut [i16]) -> usize {
    dsp::g711::decode_slice(law, bytes, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_level_survives_companding() {
        let pcm: Vec<i16> = (0..8000).map(tone_sample).collect();
        let sent = rms(&pcm);
        for law in [Law::ALaw, Law::MuLaw] {
            let mut b = vec![0u8; pcm.len()];
            encode(law, &pcm, &mut b);
            let mut back = vec![0i16; pcm.len()];
            decode(law, &b, &mut back);
            let db = 20.0 * (rms(&back) / sent).log10();
            assert!(db.abs() < 0.1, "{law:?}: {db} dB");
        }
    }
}
