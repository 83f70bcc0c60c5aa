//! Test harness: a board, one of its channels driven like a minimal IVR, and what it read.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::Arc;

use simboard::{CallSpec, Persona, PortType, Profile, SimBoard, SimChannel};
use tel_types::board::{ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{CallerId, FRAME_SAMPLES, FixedStr, LineEvent};

/// Every shipped profile.
pub fn profiles() -> Vec<(PathBuf, Profile)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../firmware-stubs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 4, "profiles missing in {}", dir.display());
    v.into_iter()
        .map(|p| {
            let prof = Profile::load(&p).unwrap_or_else(|e| panic!("{e}"));
            (p, prof)
        })
        .collect()
}

/// The first port of `kind`.
pub fn first(profile: &Profile, pred: impl Fn(PortType) -> bool) -> Option<u16> {
    profile.ports().find(|p| pred(p.1)).map(|p| p.0)
}

/// One channel of a board, read every block (20 ms, or 10 ms on a channel set to 80-sample
/// blocks) like the daemon's audio loop does.
pub struct Line {
    pub board: SimBoard,
    pub ch: SimChannel,
    /// Decoded receive audio; sample `i` is at board time `i / 8` ms.
    pub rx: Vec<i16>,
    /// Events with the board time (ms) they were taken.
    pub events: Vec<(u64, LineEvent)>,
    /// For each event, the receive samples read before it (the sample clock the daemon's
    /// pipeline gives it).
    pub event_samples: Vec<usize>,
    /// Linear audio to transmit, one frame per tick, from the front.
    pub tx: std::collections::VecDeque<i16>,
}

impl Line {
    pub fn new(profile: Profile, number: u16) -> Self {
        let mut board = SimBoard::from_profile(profile);
        let ch = board.take_channel(number).unwrap();
        Self {
            board,
            ch,
            rx: Vec::new(),
            events: Vec::new(),
            event_samples: Vec::new(),
            tx: Default::default(),
        }
    }

    /// As [`Line::new`], the channel set to `block` samples per read and write.
    pub fn with_block(profile: Profile, number: u16, block: usize) -> Self {
        let mut line = Self::new(profile, number);
        line.ch.set_io_block(block).unwrap();
        line
    }

    /// Runs `ms` of board time in steps of the channel's block, reading everything and
    /// writing `tx`.
    pub fn run(&mut self, ms: u64) {
        let mut left = ms;
        while left > 0 {
            let block = self.ch.block_samples();
            let step = (block / 8) as u64;
            assert!(
                left >= step,
                "{ms} ms is not a whole number of {step} ms blocks"
            );
            left -= step;
            let law = self.ch.law();
            let bytes = block * law.bytes_per_sample();
            let mut pcm = [0i16; FRAME_SAMPLES];
            for s in pcm[..block].iter_mut() {
                *s = self.tx.pop_front().unwrap_or(0);
            }
            let mut out = [0u8; 2 * FRAME_SAMPLES];
            dsp::g711::encode_slice(law, &pcm[..block], &mut out[..bytes]);
            while self.ch.write_frame(&out[..bytes]).unwrap() == WriteOutcome::EventPending {
                self.take_event();
            }
            self.board.advance_ms(step);
            self.drain();
        }
    }

    fn take_event(&mut self) {
        if let Some(e) = self.ch.next_event().unwrap() {
            self.events.push((self.board.now_ms(), e));
            self.event_samples.push(self.rx.len());
        }
    }

    /// Reads every frame and event ready now.
    pub fn drain(&mut self) {
        let mut buf = [0u8; 2 * FRAME_SAMPLES];
        loop {
            match self.ch.read_frame(&mut buf).unwrap() {
                ReadOutcome::Data(n) => {
                    let mut pcm = [0i16; FRAME_SAMPLES];
                    let samples = n / self.ch.law().bytes_per_sample();
                    dsp::g711::decode_slice(self.ch.law(), &buf[..n], &mut pcm[..samples]);
                    self.rx.extend_from_slice(&pcm[..samples]);
                }
                ReadOutcome::WouldBlock => break,
                ReadOutcome::EventPending => self.take_event(),
            }
        }
    }

    /// Runs until `event` is taken (returns its time) or `max_ms` passes.
    pub fn run_until(&mut self, event: LineEvent, max_ms: u64) -> Option<u64> {
        let from = self.events.len();
        for _ in 0..max_ms / 20 {
            self.run(20);
            if let Some((t, _)) = self.events[from..].iter().find(|e| e.1 == event) {
                return Some(*t);
            }
        }
        None
    }

    /// Times of every event equal to `e`.
    pub fn times(&self, e: LineEvent) -> Vec<u64> {
        self.events
            .iter()
            .filter(|x| x.1 == e)
            .map(|x| x.0)
            .collect()
    }

    /// Received audio from `from_ms` to `to_ms`.
    pub fn rx_between(&self, from_ms: u64, to_ms: u64) -> &[i16] {
        let a = (from_ms as usize * 8).min(self.rx.len());
        let b = (to_ms as usize * 8).min(self.rx.len());
        &self.rx[a..b]
    }
}

/// A call offer for `persona` with caller number `number`.
pub fn call(persona: Persona, number: &str) -> CallSpec {
    CallSpec {
        persona: Arc::new(persona),
        caller_id: CallerId {
            number: FixedStr::new_truncated(number),
            datetime: FixedStr::new_truncated("11221230"),
            ..CallerId::default()
        },
        hold_ms: None,
        give_up_ms: None,
        seed: 9,
    }
}

/// Mean square of `x`.
pub fn power(x: &[i16]) -> f64 {
    x.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / x.len().max(1) as f64
}

/// Power of frequency `hz` in `x` (Goertzel), normalised like `power`.
pub fn tone_power(x: &[i16], hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / 8000.0;
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in x {
        let s = f64::from(v) + c * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let p = s1 * s1 + s2 * s2 - c * s1 * s2;
    2.0 * p / (x.len() as f64 * x.len() as f64)
}

/// 20 ms frames of `x` as on (true) / off by a power threshold, run-length encoded in ms.
pub fn on_off_runs(x: &[i16], threshold: f64) -> Vec<(bool, u64)> {
    let mut runs: Vec<(bool, u64)> = Vec::new();
    for f in x.chunks(160) {
        let on = power(f) > threshold;
        match runs.last_mut() {
            Some((o, ms)) if *o == on => *ms += 20,
            _ => runs.push((on, 20)),
        }
    }
    runs
}

/// The DTMF digits in `x` (8 kHz linear), decoded by the DSP crate's receiver with the zone's
/// preset; with each key's start (ms from the start of `x`).
pub fn decode_digits(x: &[i16], zone: &str) -> Vec<(char, u64)> {
    use dsp::dtmf_rx::{DtmfConfig, DtmfEvent, DtmfReceiver};
    let mut rx = DtmfReceiver::new(DtmfConfig::for_country(zone));
    let mut out = Vec::new();
    let mut now = tel_types::SampleTime::ZERO;
    for f in x.chunks(160) {
        rx.process(f, now);
        now += f.len() as u64;
        while let Some(e) = rx.poll_event() {
            if let DtmfEvent::Up(d) = e {
                out.push((d.digit.as_char(), d.start.as_millis()));
            }
        }
    }
    let tail = [0i16; 800];
    rx.process(&tail, now);
    while let Some(e) = rx.poll_event() {
        if let DtmfEvent::Up(d) = e {
            out.push((d.digit.as_char(), d.start.as_millis()));
        }
    }
    out
}

/// The DTMF keys in `x` as the DSP crate's receiver reports them (levels, twist, timing).
pub fn decode_digit_events(x: &[i16], zone: &str) -> Vec<tel_types::DigitEvent> {
    use dsp::dtmf_rx::{DtmfConfig, DtmfEvent, DtmfReceiver};
    let mut rx = DtmfReceiver::new(DtmfConfig::for_country(zone));
    let mut out = Vec::new();
    let mut now = tel_types::SampleTime::ZERO;
    let tail = [0i16; 800];
    for f in x.chunks(160).chain(std::iter::once(&tail[..])) {
        rx.process(f, now);
        now += f.len() as u64;
        while let Some(e) = rx.poll_event() {
            if let DtmfEvent::Up(d) = e {
                out.push(d);
            }
        }
    }
    out
}
