//! Caller ID: FSK messages (SDMF and MDMF, Bell 202 or V.23) and DTMF caller ID, both
//! directions.
//!
//! Message layout (Bellcore GR-30, ETSI EN 300 659, China YD/T 1396 alike): type byte
//! (0x04 single data message, 0x80 multiple data message), length, payload, checksum (the
//! two's complement of the sum of all preceding bytes). SDMF's payload is `MMDDhhmm`
//! followed by the number or a one-letter reason it is absent (`P` private, `O`
//! unavailable). MDMF's payload is parameters (type, length, value): 0x01 date/time,
//! 0x02 number, 0x04 reason for absent number, 0x07 name, 0x08 reason for absent name.
//!
//! DTMF caller ID is a key sequence sent before the first ring: `A<number>C` (Europe),
//! `D<number>C` (China), `B00C` private / `B10C` unavailable, or the `#`-terminated forms
//! `A<number>#`, `D1#` private, `D2#`/`D3#` unavailable.
//!
//! ```
//! use dsp::callerid::{encode_mdmf, parse_message};
//! use tel_types::{CallerId, CallerIdPresentation, FixedStr};
//! let cid = CallerId {
//!     number: FixedStr::new_truncated("13800138000"),
//!     name: FixedStr::new_truncated("WANG"),
//!     datetime: FixedStr::new_truncated("03121530"),
//!     presentation: CallerIdPresentation::Available,
//! };
//! let mut msg = [0u8; 128];
//! let n = encode_mdmf(&cid, &mut msg);
//! assert_eq!(parse_message(&msg[..n]).unwrap(), cid);
//! ```

use crate::fsk::{FskModem, FskReceiver, FskTransmitter};
use core::fmt;
use tel_types::{CallerId, CallerIdPresentation, Digit, FixedStr, SampleTime};

/// Single data message format type byte.
pub const SDMF: u8 = 0x04;
/// Multiple data message format type byte.
pub const MDMF: u8 = 0x80;

/// Why a caller-ID message was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CidError {
    /// Fewer bytes than the header and checksum need.
    TooShort(usize),
    /// The length byte disagrees with the bytes received.
    BadLength {
        /// Length byte.
        declared: u8,
        /// Payload bytes present.
        got: usize,
    },
    /// The checksum does not add up (sum of all bytes mod 256 should be 0).
    BadChecksum(u8),
    /// A message type other than SDMF or MDMF.
    UnknownType(u8),
}

impl fmt::Display for CidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort(n) => write!(f, "caller-ID message too short ({n} bytes)"),
            Self::BadLength { declared, got } => {
                write!(
                    f,
                    "caller-ID length byte says {declared}, {got} bytes follow"
                )
            }
            Self::BadChecksum(s) => write!(f, "caller-ID checksum fails (sum {s:#04x})"),
            Self::UnknownType(t) => write!(f, "unknown caller-ID message type {t:#04x}"),
        }
    }
}

impl std::error::Error for CidError {}

fn put_digits<const N: usize>(s: &mut FixedStr<N>, bytes: &[u8]) {
    for &b in bytes {
        if b.is_ascii_graphic() || b == b' ' {
            s.push(b as char);
        }
    }
}

fn absent(reason: &[u8]) -> CallerIdPresentation {
    match reason.first() {
        Some(b'P') => CallerIdPresentation::Private,
        _ => CallerIdPresentation::Unavailable,
    }
}

/// Parses a whole message (type, length, payload, checksum) into a [`CallerId`].
pub fn parse_message(msg: &[u8]) -> Result<CallerId, CidError> {
    if msg.len() < 3 {
        return Err(CidError::TooShort(msg.len()));
    }
    let declared = msg[1];
    if msg.len() != declared as usize + 3 {
        return Err(CidError::BadLength {
            declared,
            got: msg.len().saturating_sub(3),
        });
    }
    let sum = msg.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    if sum != 0 {
        return Err(CidError::BadChecksum(sum));
    }
    let body = &msg[2..msg.len() - 1];
    let mut cid = CallerId::default();
    match msg[0] {
        SDMF => {
            let (dt, rest) = body.split_at(body.len().min(8));
            put_digits(&mut cid.datetime, dt);
            if rest.len() == 1 && matches!(rest[0], b'P' | b'O') {
                cid.presentation = absent(rest);
            } else {
                put_digits(&mut cid.number, rest);
            }
        }
        MDMF => {
            let mut p = body;
            while p.len() >= 2 {
                let (t, l) = (p[0], p[1] as usize);
                let v = &p[2..(2 + l).min(p.len())];
                match t {
                    0x01 => put_digits(&mut cid.datetime, v),
                    0x02 => put_digits(&mut cid.number, v),
                    0x04 => cid.presentation = absent(v),
                    0x07 => put_digits(&mut cid.name, v),
                    _ => {}
                }
                p = &p[(2 + l).min(p.len())..];
            }
        }
        t => return Err(CidError::UnknownType(t)),
    }
    Ok(cid)
}

fn finish(out: &mut [u8], n: usize) -> usize {
    out[1] = (n - 2) as u8;
    let sum = out[..n].iter().fold(0u8, |a, &b| a.wrapping_add(b));
    out[n] = sum.wrapping_neg();
    n + 1
}

/// Writes an SDMF message for `cid` into `out` (at least 40 bytes); returns its length.
pub fn encode_sdmf(cid: &CallerId, out: &mut [u8]) -> usize {
    out[0] = SDMF;
    let mut n = 2;
    let dt = cid.datetime.as_str().as_bytes();
    for i in 0..8 {
        out[n] = *dt.get(i).unwrap_or(&b'0');
        n += 1;
    }
    match cid.presentation {
        CallerIdPresentation::Private => {
            out[n] = b'P';
            n += 1;
        }
        CallerIdPresentation::Unavailable => {
            out[n] = b'O';
            n += 1;
        }
        CallerIdPresentation::Available => {
            for &b in cid.number.as_str().as_bytes() {
                out[n] = b;
                n += 1;
            }
        }
    }
    finish(out, n)
}

/// Writes an MDMF message for `cid` into `out` (at least 100 bytes); returns its length.
pub fn encode_mdmf(cid: &CallerId, out: &mut [u8]) -> usize {
    out[0] = MDMF;
    let mut n = 2;
    let mut param = |t: u8, v: &[u8], n: &mut usize| {
        out[*n] = t;
        out[*n + 1] = v.len() as u8;
        out[*n + 2..*n + 2 + v.len()].copy_from_slice(v);
        *n += 2 + v.len();
    };
    if !cid.datetime.is_empty() {
        param(0x01, cid.datetime.as_str().as_bytes(), &mut n);
    }
    match cid.presentation {
        CallerIdPresentation::Available => param(0x02, cid.number.as_str().as_bytes(), &mut n),
        CallerIdPresentation::Private => param(0x04, b"P", &mut n),
        CallerIdPresentation::Unavailable => param(0x04, b"O", &mut n),
    }
    if !cid.name.is_empty() {
        param(0x07, cid.name.as_str().as_bytes(), &mut n);
    }
    finish(out, n)
}

/// A decoded caller-ID message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerIdEvent {
    /// When the message's last byte arrived.
    pub at: SampleTime,
    /// The caller.
    pub caller_id: CallerId,
    /// The message type byte (SDMF or MDMF).
    pub kind: u8,
}

/// FSK caller-ID receiver: demodulates, frames and checks messages.
#[derive(Debug, Clone)]
pub struct CallerIdReceiver {
    fsk: FskReceiver,
    buf: [u8; 260],
    len: usize,
    last_byte: u64,
    bad: u32,
    done: Option<CallerIdEvent>,
}

impl CallerIdReceiver {
    /// A receiver for `modem`.
    pub fn new(modem: FskModem) -> Self {
        Self {
            fsk: FskReceiver::new(modem),
            buf: [0; 260],
            len: 0,
            last_byte: 0,
            bad: 0,
            done: None,
        }
    }

    /// Messages that arrived whole but failed their checksum or length.
    pub fn bad_messages(&self) -> u32 {
        self.bad
    }

    /// Feeds samples; returns a message when one completes (pass a frame at a time).
    pub fn process(&mut self, samples: &[i16], now: SampleTime) -> Option<CallerIdEvent> {
        // At most one character per 53 samples; take long slices in pieces.
        for (k, chunk) in samples.chunks(400).enumerate() {
            let mut got = [(0u8, SampleTime::ZERO); 8];
            let mut n = 0;
            self.fsk.process(chunk, now + (k * 400) as u64, |b, t| {
                if n < got.len() {
                    got[n] = (b, t);
                    n += 1;
                }
            });
            for &(b, t) in &got[..n] {
                self.byte(b, t);
            }
        }
        self.done.take()
    }

    fn byte(&mut self, b: u8, t: SampleTime) {
        // Characters of one message follow each other within ~67 samples; a longer gap
        // (the mark period after the channel seizure) starts a new message.
        if t.0.saturating_sub(self.last_byte) > 110 {
            self.len = 0;
        }
        self.last_byte = t.0;
        if self.len == 0 && b != SDMF && b != MDMF {
            return;
        }
        if self.len < self.buf.len() {
            self.buf[self.len] = b;
            self.len += 1;
        }
        if self.len >= 2 && self.len == self.buf[1] as usize + 3 {
            match parse_message(&self.buf[..self.len]) {
                Ok(caller_id) => {
                    self.done = Some(CallerIdEvent {
                        at: t,
                        caller_id,
                        kind: self.buf[0],
                    })
                }
                Err(_) => self.bad += 1,
            }
            self.len = 0;
        }
    }
}

/// Renders a full FSK caller-ID transmission (300 bits of channel seizure, 180 mark bits,
/// the message) at `level_dbm0` into `out`; returns the samples written.
pub fn fsk_caller_id(
    cid: &CallerId,
    modem: FskModem,
    mdmf: bool,
    level_dbm0: f32,
    out: &mut [i16],
) -> usize {
    let mut msg = [0u8; 160];
    let n = if mdmf {
        encode_mdmf(cid, &mut msg)
    } else {
        encode_sdmf(cid, &mut msg)
    };
    let mut tx = FskTransmitter::new(modem, level_dbm0);
    // 300 alternating bits = 37.5 bytes of 0x55.
    tx.send(&[0x55; 38], 180, &msg[..n], out)
}

/// The DTMF key sequence for `cid`: `start` (`'A'` or `'D'`), the number, `'C'`; or `B00C`
/// (private) / `B10C` (unavailable).
pub fn dtmf_caller_id_keys(cid: &CallerId, start: char) -> FixedStr<32> {
    let mut s = FixedStr::<32>::default();
    match cid.presentation {
        CallerIdPresentation::Private => {
            for c in "B00C".chars() {
                s.push(c);
            }
        }
        CallerIdPresentation::Unavailable => {
            for c in "B10C".chars() {
                s.push(c);
            }
        }
        CallerIdPresentation::Available => {
            s.push(start);
            for c in cid.number.as_str().chars().filter(char::is_ascii_digit) {
                s.push(c);
            }
            s.push('C');
        }
    }
    s
}

/// Parses a complete DTMF caller-ID key sequence (see the module docs for the forms).
pub fn parse_dtmf_caller_id(keys: &str) -> Option<CallerId> {
    let mut p = DtmfCallerIdParser::default();
    let mut out = None;
    for d in keys.chars().filter_map(Digit::from_char) {
        if let Some(c) = p.push(d) {
            out = Some(c);
        }
    }
    out
}

/// Incremental DTMF caller-ID parser: feed it the digits the receiver hears before the
/// first ring; it returns the caller when an end key completes a field.
#[derive(Debug, Clone, Default)]
pub struct DtmfCallerIdParser {
    start: Option<Digit>,
    body: FixedStr<24>,
}

impl DtmfCallerIdParser {
    /// Forgets a partial sequence (call it when the first ring comes or on a timeout).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Feeds one digit.
    pub fn push(&mut self, d: Digit) -> Option<CallerId> {
        match d {
            Digit::A | Digit::B | Digit::D => {
                self.start = Some(d);
                self.body = FixedStr::default();
                None
            }
            Digit::C | Digit::Hash => {
                let start = self.start.take()?;
                let body = core::mem::take(&mut self.body);
                let b = body.as_str();
                let mut cid = CallerId::default();
                match (start, d, b) {
                    (Digit::B, _, "00") | (Digit::D, Digit::Hash, "1") => {
                        cid.presentation = CallerIdPresentation::Private
                    }
                    (Digit::B, _, _) | (Digit::D, Digit::Hash, "2" | "3") => {
                        cid.presentation = CallerIdPresentation::Unavailable
                    }
                    (_, _, "") => return None,
                    _ => cid.number = FixedStr::new_truncated(b),
                }
                Some(cid)
            }
            _ => {
                if self.start.is_some() {
                    self.body.push(d.as_char());
                }
                None
            }
        }
    }
}

/// Streams an FSK caller-ID transmission frame by frame (for a station port's pipeline or
/// the simulated card): 300 bits of channel seizure, 180 mark bits, the message, 4 mark
/// bits. Holds everything inline; [`CallerIdSender::fill`] never allocates.
///
/// ```
/// use dsp::callerid::{CallerIdReceiver, CallerIdSender};
/// use dsp::fsk::FskModem;
/// use tel_types::{CallerId, FixedStr, SampleTime};
/// let cid = CallerId { number: FixedStr::new_truncated("075512345678"), ..CallerId::default() };
/// let mut tx = CallerIdSender::new(&cid, FskModem::Bell202, true, -13.0);
/// let mut rx = CallerIdReceiver::new(FskModem::Bell202);
/// let (mut t, mut got) = (SampleTime::ZERO, None);
/// while !tx.is_done() {
///     let mut frame = [0i16; 160];
///     tx.fill(&mut frame);
///     got = got.or(rx.process(&frame, t));
///     t += 160;
/// }
/// assert_eq!(got.unwrap().caller_id, cid);
/// ```
#[derive(Debug, Clone)]
pub struct CallerIdSender {
    mark_w: f64,
    space_w: f64,
    amp: f64,
    phase: f64,
    msg: [u8; 160],
    len: usize,
    n: u64,
}

const SEIZURE_BITS: u64 = 300;
const MARK_BITS: u64 = 180;

impl CallerIdSender {
    /// A sender for `cid` (MDMF if `mdmf`, else SDMF) at `level_dbm0`.
    pub fn new(cid: &CallerId, modem: FskModem, mdmf: bool, level_dbm0: f32) -> Self {
        let mut msg = [0u8; 160];
        let len = if mdmf {
            encode_mdmf(cid, &mut msg)
        } else {
            encode_sdmf(cid, &mut msg)
        };
        let (m, s) = modem.frequencies();
        let w = |f: u32| core::f64::consts::TAU * f as f64 / 8000.0;
        Self {
            mark_w: w(m),
            space_w: w(s),
            amp: crate::level::sine_peak_for_dbm0(level_dbm0) as f64,
            phase: 0.0,
            msg,
            len,
            n: 0,
        }
    }

    fn total_bits(&self) -> u64 {
        SEIZURE_BITS + MARK_BITS + 10 * self.len as u64 + 4
    }

    fn bit(&self, k: u64) -> bool {
        if k < SEIZURE_BITS {
            return k % 2 == 1;
        }
        if k < SEIZURE_BITS + MARK_BITS {
            return true;
        }
        let j = k - SEIZURE_BITS - MARK_BITS;
        let (byte, b) = ((j / 10) as usize, j % 10);
        if byte >= self.len {
            return true;
        }
        match b {
            0 => false,
            9 => true,
            _ => self.msg[byte] >> (b - 1) & 1 == 1,
        }
    }

    /// Whether everything has been sent.
    pub fn is_done(&self) -> bool {
        // Bit k covers samples [k·20/3, (k+1)·20/3).
        self.n * 3 / 20 >= self.total_bits()
    }

    /// Writes the next samples into `out` (silence once done); returns how many belong to
    /// the transmission.
    pub fn fill(&mut self, out: &mut [i16]) -> usize {
        let mut used = 0;
        for o in out.iter_mut() {
            if self.is_done() {
                *o = 0;
                continue;
            }
            let w = if self.bit(self.n * 3 / 20) {
                self.mark_w
            } else {
                self.space_w
            };
            *o = (self.amp * self.phase.sin()).round() as i16;
            self.phase = (self.phase + w) % core::f64::consts::TAU;
            self.n += 1;
            used += 1;
        }
        used
    }
}
