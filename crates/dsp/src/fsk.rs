//! 1200 baud FSK (Bell 202 and ITU-T V.23) receive and transmit, with asynchronous
//! (start/stop bit) framing, as caller ID uses it.
//!
//! The receiver correlates each sample with the mark and space frequencies over one bit
//! time and decides by which is stronger, so it works at any level from about −45 dBm0 up;
//! a start-bit edge fixes the timing of each character, sampled at bit centres. The
//! transmitter is phase-continuous.
//!
//! ```
//! use dsp::fsk::{FskModem, FskReceiver, FskTransmitter};
//! use tel_types::SampleTime;
//! let mut tx = FskTransmitter::new(FskModem::V23, -13.0);
//! let mut audio = vec![0i16; 4000];
//! let n = tx.send(&[0x55; 10], 80, b"Hi!", &mut audio);
//! let mut rx = FskReceiver::new(FskModem::V23);
//! let mut got = Vec::new();
//! rx.process(&audio[..n], SampleTime::ZERO, |b, _| got.push(b));
//! assert!(got.ends_with(b"Hi!"));
//! ```

use crate::level::{dbm0_to_power, sine_peak_for_dbm0};
use crate::trig;
use tel_types::SampleTime;

/// The FSK variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FskModem {
    /// Bell 202: mark 1200 Hz, space 2200 Hz (North America, parts of China).
    Bell202,
    /// ITU-T V.23: mark 1300 Hz, space 2100 Hz (Europe, China).
    V23,
}

impl FskModem {
    /// (mark, space) frequencies in Hz.
    pub const fn frequencies(self) -> (u32, u32) {
        match self {
            Self::Bell202 => (1200, 2200),
            Self::V23 => (1300, 2100),
        }
    }
}

/// Bit time in samples at 1200 baud: 8000 / 1200.
const BIT: f64 = 8000.0 / 1200.0;
/// Correlation window: about one bit.
const W: usize = 7;
/// All four frequencies repeat within 80 samples (f · 80 / 8000 is whole).
const P: usize = 80;

const fn table(hz: u32, sine: bool) -> [f32; P] {
    let mut t = [0f32; P];
    let mut m = 0;
    while m < P {
        let w = core::f64::consts::TAU * hz as f64 * m as f64 / 8000.0;
        t[m] = if sine { trig::sin(w) } else { trig::cos(w) } as f32;
        m += 1;
    }
    t
}

/// Two periods of each table, so any `P` samples from any phase are one contiguous slice.
const fn twice(t: [f32; P]) -> [f32; 2 * P] {
    let mut o = [0f32; 2 * P];
    let mut i = 0;
    while i < 2 * P {
        o[i] = t[i % P];
        i += 1;
    }
    o
}

static TAB2: [[[f32; 2 * P]; 2]; 4] = [
    [twice(table(1200, false)), twice(table(1200, true))],
    [twice(table(2200, false)), twice(table(2200, true))],
    [twice(table(1300, false)), twice(table(1300, true))],
    [twice(table(2100, false)), twice(table(2100, true))],
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Uart {
    /// Waiting for a start bit (line at mark for `marks` samples).
    Idle,
    /// Receiving a character: next bit index and when to sample it.
    Bits { bit: u8, at: f64, value: u16 },
}

/// FSK demodulator plus character framing for one channel.
#[derive(Debug, Clone)]
pub struct FskReceiver {
    modem: FskModem,
    mark: usize,
    space: usize,
    /// The last `W` values of each product stream (mark cos/sin, space cos/sin, energy).
    tail: [[f32; W]; 5],
    last_x: f32,
    phase: usize,
    n: u64,
    marks: u32,
    uart: Uart,
    gate: f32,
    next_t: Option<u64>,
    last_bit: bool,
}

impl FskReceiver {
    /// A receiver for `modem`.
    pub fn new(modem: FskModem) -> Self {
        let (mark, space) = match modem {
            FskModem::Bell202 => (0, 1),
            FskModem::V23 => (2, 3),
        };
        Self {
            modem,
            mark,
            space,
            tail: [[0.0; W]; 5],
            last_x: 0.0,
            phase: 0,
            n: 0,
            marks: 0,
            uart: Uart::Idle,
            gate: dbm0_to_power(-48.0) * W as f32,
            next_t: None,
            last_bit: true,
        }
    }

    /// The modem variant.
    pub fn modem(&self) -> FskModem {
        self.modem
    }

    /// Forgets any character in progress.
    pub fn reset(&mut self) {
        *self = Self::new(self.modem);
    }

    /// Feeds samples (`now` = time of `samples[0]`); calls `on_byte(byte, time)` for each
    /// character received, stamped with the time of its stop bit.
    pub fn process(
        &mut self,
        samples: &[i16],
        now: SampleTime,
        mut on_byte: impl FnMut(u8, SampleTime),
    ) {
        if self.next_t != Some(now.0) {
            self.uart = Uart::Idle;
            self.marks = 0;
        }
        self.next_t = Some(now.0 + samples.len() as u64);
        for (k, c) in samples.chunks(P).enumerate() {
            self.chunk(c, now + (k * P) as u64, &mut on_byte);
        }
    }

    /// Up to `P` samples: correlate (vectorisable), slide the one-bit windows, then frame.
    fn chunk(&mut self, x: &[i16], t0: SampleTime, on_byte: &mut impl FnMut(u8, SampleTime)) {
        let len = x.len();
        // Idle and quiet: nothing can start here, skip the demodulator (the common case
        // between calls and in silent pauses).
        if self.uart == Uart::Idle {
            // Quiet, or energy mostly below 1 kHz (speech, call-progress tones): the
            // first-difference energy ratio 2(1 - cos ω) is 0.8-2.3 for FSK's tones.
            let mut e = 0f32;
            let mut d = 0f32;
            let mut prev = self.last_x;
            for &s in x {
                let f = s as f32;
                e += f * f;
                d += (f - prev) * (f - prev);
                prev = f;
            }
            self.last_x = prev;
            if e * (W as f32) < self.gate * len as f32 || d < 0.5 * e {
                self.tail = [[0.0; W]; 5];
                self.marks = 0;
                self.phase = (self.phase + len) % P;
                self.n += len as u64;
                self.last_bit = true;
                return;
            }
        }
        self.last_x = x[len - 1] as f32;
        let ph = self.phase;
        let (mk, sp) = (self.mark, self.space);
        let (cm, sm) = (&TAB2[mk][0][ph..ph + len], &TAB2[mk][1][ph..ph + len]);
        let (cs, ss) = (&TAB2[sp][0][ph..ph + len], &TAB2[sp][1][ph..ph + len]);
        // Streams, each preceded by the last W values of the previous chunk.
        let mut v = [[0f32; W + P]; 5];
        for k in 0..5 {
            v[k][..W].copy_from_slice(&self.tail[k]);
        }
        for i in 0..len {
            let f = x[i] as f32;
            v[0][W + i] = f * cm[i];
            v[1][W + i] = f * sm[i];
            v[2][W + i] = f * cs[i];
            v[3][W + i] = f * ss[i];
            v[4][W + i] = f * f;
        }
        for k in 0..5 {
            self.tail[k].copy_from_slice(&v[k][len..len + W]);
        }
        // Window sums, started exactly from the previous tail (no drift).
        let mut acc = [0f32; 5];
        for k in 0..5 {
            acc[k] = v[k][..W].iter().sum();
        }
        let mut bits = [true; P];
        for i in 0..len {
            for k in 0..5 {
                acc[k] += v[k][W + i] - v[k][i];
            }
            let em = acc[0] * acc[0] + acc[1] * acc[1];
            let es = acc[2] * acc[2] + acc[3] * acc[3];
            bits[i] = acc[4] <= self.gate || em > es;
        }
        self.phase = (ph + len) % P;
        for i in 0..len {
            let bit = bits[i];
            self.n += 1;
            match self.uart {
                Uart::Idle => {
                    if !bit && self.last_bit && self.marks >= 4 {
                        // Start-bit edge: sample bit k at its centre, k + 0.5 bits on.
                        self.uart = Uart::Bits {
                            bit: 0,
                            at: self.n as f64 + 0.5 * BIT - 1.0,
                            value: 0,
                        };
                    }
                    self.marks = if bit { self.marks + 1 } else { 0 };
                }
                Uart::Bits { bit: k, at, value } => {
                    if self.n as f64 >= at {
                        let mut value = value;
                        match k {
                            0 if bit => {
                                // False start.
                                self.uart = Uart::Idle;
                                self.marks = 0;
                                self.last_bit = bit;
                                continue;
                            }
                            1..=8 if bit => value |= 1 << (k - 1),
                            9 => {
                                if bit {
                                    on_byte(value as u8, t0 + i as u64);
                                }
                                self.uart = Uart::Idle;
                                self.marks = if bit { 4 } else { 0 };
                                self.last_bit = bit;
                                continue;
                            }
                            _ => {}
                        }
                        self.uart = Uart::Bits {
                            bit: k + 1,
                            at: at + BIT,
                            value,
                        };
                    }
                }
            }
            self.last_bit = bit;
        }
    }
}

/// Phase-continuous FSK transmitter with asynchronous framing.
#[derive(Debug, Clone)]
pub struct FskTransmitter {
    modem: FskModem,
    amp: f64,
    phase: f64,
    t: f64,
}

impl FskTransmitter {
    /// A transmitter for `modem` at `level_dbm0`.
    pub fn new(modem: FskModem, level_dbm0: f32) -> Self {
        Self {
            modem,
            amp: sine_peak_for_dbm0(level_dbm0) as f64,
            phase: 0.0,
            t: 0.0,
        }
    }

    fn bit(&mut self, one: bool, out: &mut [i16], pos: &mut usize) -> bool {
        let (m, s) = self.modem.frequencies();
        let w = core::f64::consts::TAU * if one { m } else { s } as f64 / 8000.0;
        self.t += BIT;
        while (*pos as f64) < self.t.round() {
            if *pos >= out.len() {
                return false;
            }
            out[*pos] = (self.amp * self.phase.sin()).round() as i16;
            self.phase = (self.phase + w) % core::f64::consts::TAU;
            *pos += 1;
        }
        true
    }

    /// Writes `preamble` bytes sent as raw alternating bits (e.g. the channel seizure,
    /// 0x55 bytes framed), then `mark_bits` of steady mark, then `message` framed 8N1,
    /// into `out`. Returns the samples written (stops early if `out` is full).
    pub fn send(
        &mut self,
        preamble: &[u8],
        mark_bits: usize,
        message: &[u8],
        out: &mut [i16],
    ) -> usize {
        self.t = 0.0;
        let mut pos = 0;
        for &b in preamble {
            for k in 0..8 {
                if !self.bit(b >> k & 1 == 1, out, &mut pos) {
                    return pos;
                }
            }
        }
        for _ in 0..mark_bits {
            if !self.bit(true, out, &mut pos) {
                return pos;
            }
        }
        for &b in message {
            let ok = self.bit(false, out, &mut pos)
                && (0..8).all(|k| self.bit(b >> k & 1 == 1, out, &mut pos))
                && self.bit(true, out, &mut pos);
            if !ok {
                return pos;
            }
        }
        // A few mark bits to finish cleanly.
        for _ in 0..4 {
            if !self.bit(true, out, &mut pos) {
                return pos;
            }
        }
        pos
    }
}
