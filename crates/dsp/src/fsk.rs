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

static TAB: [[[f32; P]; 2]; 4] = [
    [table(1200, false), table(1200, true)],
    [table(2200, false), table(2200, true)],
    [table(1300, false), table(1300, true)],
    [table(2100, false), table(2100, true)],
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
    ring: [[f32; 4]; W],
    ri: usize,
    acc: [f32; 4],
    eacc: f32,
    ering: [f32; W],
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
            ring: [[0.0; 4]; W],
            ri: 0,
            acc: [0.0; 4],
            eacc: 0.0,
            ering: [0.0; W],
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
        let (mk, sp) = (self.mark, self.space);
        for (i, &s) in samples.iter().enumerate() {
            let x = s as f32;
            let (cm, sm) = (TAB[mk][0][self.phase], TAB[mk][1][self.phase]);
            let (cs, ss) = (TAB[sp][0][self.phase], TAB[sp][1][self.phase]);
            self.phase = (self.phase + 1) % P;
            let v = [x * cm, x * sm, x * cs, x * ss];
            let old = self.ring[self.ri];
            for k in 0..4 {
                self.acc[k] += v[k] - old[k];
            }
            self.ring[self.ri] = v;
            let e = x * x;
            self.eacc += e - self.ering[self.ri];
            self.ering[self.ri] = e;
            self.ri = (self.ri + 1) % W;
            self.n += 1;
            let em = self.acc[0] * self.acc[0] + self.acc[1] * self.acc[1];
            let es = self.acc[2] * self.acc[2] + self.acc[3] * self.acc[3];
            let carrier = self.eacc > self.gate;
            let bit = if carrier { em > es } else { true };
            // Re-anchor the running sums now and then against rounding drift.
            if self.n % 4096 == 0 {
                self.resum();
            }
            match self.uart {
                Uart::Idle => {
                    if !bit && self.last_bit && carrier && self.marks >= 4 {
                        // Start-bit edge: sample bit k at the centre, k + 0.5 bits on.
                        self.uart = Uart::Bits {
                            bit: 0,
                            at: self.n as f64 + 0.5 * BIT - 1.0,
                            value: 0,
                        };
                    }
                    self.marks = if bit && carrier { self.marks + 1 } else { 0 };
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
                                    let t = now + i as u64;
                                    on_byte(value as u8, t);
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

    fn resum(&mut self) {
        self.acc = [0.0; 4];
        self.eacc = 0.0;
        for (r, e) in self.ring.iter().zip(&self.ering) {
            for k in 0..4 {
                self.acc[k] += r[k];
            }
            self.eacc += e;
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
