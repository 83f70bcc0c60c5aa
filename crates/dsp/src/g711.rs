//! ITU-T G.711 A-law and µ-law companding.
//!
//! The scalar functions follow the ITU-T G.711 tables exactly (the same values as the ITU's
//! G.191 reference implementation): 16-bit linear input is truncated to the 13-bit (A-law) or
//! 14-bit (µ-law) precision G.711 defines, and decoding returns the centre of each quantisation
//! interval scaled to 16 bits. The slice functions use lookup tables built at compile time and
//! give identical results.
//!
//! ```
//! use dsp::g711;
//! assert_eq!(g711::alaw_decode(0xD5), 8);
//! assert_eq!(g711::ulaw_encode(0), 0xFF);
//! let mut codes = [0u8; 3];
//! g711::alaw_encode_slice(&[0, 1000, -1000], &mut codes);
//! let mut back = [0i16; 3];
//! g711::alaw_decode_slice(&codes, &mut back);
//! assert_eq!(back, [8, 1008, -1008]);
//! ```

/// Encodes one linear sample to A-law (G.711 Table 1a), bit-exact.
pub const fn alaw_encode(x: i16) -> u8 {
    // One's complement for negative values maps -1 to 0, as G.711 specifies (no negative zero
    // interval gap), then keep the 12-bit magnitude.
    let (mag, sign) = if x < 0 {
        (((!x) >> 4) as u16, 0x00u8)
    } else {
        ((x >> 4) as u16, 0x80u8)
    };
    let code = if mag > 15 {
        let mut m = mag;
        let mut exp = 1u16;
        while m > 31 {
            m >>= 1;
            exp += 1;
        }
        (m - 16) + (exp << 4)
    } else {
        mag
    };
    ((code as u8) | sign) ^ 0x55
}

/// Decodes one A-law code to linear (G.711 Table 1a decoder output, 16-bit scale).
pub const fn alaw_decode(code: u8) -> i16 {
    let ix = (code ^ 0x55) & 0x7F;
    let exp = (ix >> 4) as i32;
    let mut mant = (ix & 0x0F) as i32;
    if exp > 0 {
        mant += 16;
    }
    mant = (mant << 4) + 8;
    if exp > 1 {
        mant <<= exp - 1;
    }
    if code & 0x80 != 0 {
        mant as i16
    } else {
        -mant as i16
    }
}

const ULAW_BIAS: i32 = 33;

/// Encodes one linear sample to µ-law (G.711 Table 2a), bit-exact.
pub const fn ulaw_encode(x: i16) -> u8 {
    let mut abs = if x < 0 {
        (((!x) >> 2) as i32) + ULAW_BIAS
    } else {
        ((x >> 2) as i32) + ULAW_BIAS
    };
    if abs > 0x1FFF {
        abs = 0x1FFF;
    }
    let mut i = abs >> 6;
    let mut seg = 1;
    while i != 0 {
        seg += 1;
        i >>= 1;
    }
    let high = 8 - seg;
    let low = 0x0F - ((abs >> seg) & 0x0F);
    let code = ((high << 4) | low) as u8;
    if x >= 0 { code | 0x80 } else { code }
}

/// Decodes one µ-law code to linear (G.711 Table 2a decoder output, 16-bit scale).
pub const fn ulaw_decode(code: u8) -> i16 {
    let inv = !code;
    let exp = ((inv >> 4) & 0x07) as i32;
    let mant = (inv & 0x0F) as i32;
    let step = 4 << (exp + 1);
    let mag = (0x80 << exp) + step * mant + step / 2 - 4 * ULAW_BIAS;
    if code < 0x80 { -mag as i16 } else { mag as i16 }
}

const fn build_alaw_decode() -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_decode(i as u8);
        i += 1;
    }
    t
}

const fn build_ulaw_decode() -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_decode(i as u8);
        i += 1;
    }
    t
}

// A-law depends only on the top 12 bits of the one's-complemented value plus the sign, i.e.
// on `x >> 3` (13 bits); µ-law on `x >> 2` (14 bits). Tables are indexed by those bits.
const fn build_alaw_encode() -> [u8; 8192] {
    let mut t = [0u8; 8192];
    let mut i = 0;
    while i < 8192 {
        let x = ((i as u16) << 3) as i16;
        t[i] = alaw_encode(x);
        i += 1;
    }
    t
}

const fn build_ulaw_encode() -> [u8; 16384] {
    let mut t = [0u8; 16384];
    let mut i = 0;
    while i < 16384 {
        let x = ((i as u16) << 2) as i16;
        t[i] = ulaw_encode(x);
        i += 1;
    }
    t
}

/// A-law code to linear, for every code.
pub static ALAW_TO_LINEAR: [i16; 256] = build_alaw_decode();
/// µ-law code to linear, for every code.
pub static ULAW_TO_LINEAR: [i16; 256] = build_ulaw_decode();
static LINEAR_TO_ALAW: [u8; 8192] = build_alaw_encode();
static LINEAR_TO_ULAW: [u8; 16384] = build_ulaw_encode();

/// Table-driven A-law encode of one sample (same result as [`alaw_encode`]).
#[inline]
pub fn alaw_encode_fast(x: i16) -> u8 {
    LINEAR_TO_ALAW[((x as u16) >> 3) as usize]
}

/// Table-driven µ-law encode of one sample (same result as [`ulaw_encode`]).
#[inline]
pub fn ulaw_encode_fast(x: i16) -> u8 {
    LINEAR_TO_ULAW[((x as u16) >> 2) as usize]
}

/// Decodes A-law codes into `out`; converts `min(codes.len(), out.len())` samples.
pub fn alaw_decode_slice(codes: &[u8], out: &mut [i16]) {
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = ALAW_TO_LINEAR[c as usize];
    }
}

/// Decodes µ-law codes into `out`; converts `min(codes.len(), out.len())` samples.
pub fn ulaw_decode_slice(codes: &[u8], out: &mut [i16]) {
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = ULAW_TO_LINEAR[c as usize];
    }
}

/// Encodes linear samples to A-law into `out`; converts `min(samples.len(), out.len())`.
pub fn alaw_encode_slice(samples: &[i16], out: &mut [u8]) {
    for (o, &x) in out.iter_mut().zip(samples) {
        *o = alaw_encode_fast(x);
    }
}

/// Encodes linear samples to µ-law into `out`; converts `min(samples.len(), out.len())`.
pub fn ulaw_encode_slice(samples: &[i16], out: &mut [u8]) {
    for (o, &x) in out.iter_mut().zip(samples) {
        *o = ulaw_encode_fast(x);
    }
}

/// Decodes codes in `law` into `out` (A-law or µ-law; for [`tel_types::Law::Linear`] the
/// bytes are read as little-endian 16-bit pairs). Returns the number of samples written.
pub fn decode_slice(law: tel_types::Law, bytes: &[u8], out: &mut [i16]) -> usize {
    match law {
        tel_types::Law::ALaw => {
            alaw_decode_slice(bytes, out);
            bytes.len().min(out.len())
        }
        tel_types::Law::MuLaw => {
            ulaw_decode_slice(bytes, out);
            bytes.len().min(out.len())
        }
        tel_types::Law::Linear => {
            let n = (bytes.len() / 2).min(out.len());
            for (o, b) in out[..n].iter_mut().zip(bytes.chunks_exact(2)) {
                *o = i16::from_le_bytes([b[0], b[1]]);
            }
            n
        }
    }
}

/// Encodes linear samples into `law` bytes in `out`. Returns the number of bytes written.
pub fn encode_slice(law: tel_types::Law, samples: &[i16], out: &mut [u8]) -> usize {
    match law {
        tel_types::Law::ALaw => {
            alaw_encode_slice(samples, out);
            samples.len().min(out.len())
        }
        tel_types::Law::MuLaw => {
            ulaw_encode_slice(samples, out);
            samples.len().min(out.len())
        }
        tel_types::Law::Linear => {
            let n = samples.len().min(out.len() / 2);
            for (o, &x) in out.chunks_exact_mut(2).zip(&samples[..n]) {
                o.copy_from_slice(&x.to_le_bytes());
            }
            n * 2
        }
    }
}

/// Passes linear samples through the codec of `law` and back (quantisation as a real line
/// would apply it). Linear is left unchanged.
pub fn companded(law: tel_types::Law, samples: &mut [i16]) {
    match law {
        tel_types::Law::ALaw => {
            for s in samples {
                *s = ALAW_TO_LINEAR[alaw_encode_fast(*s) as usize];
            }
        }
        tel_types::Law::MuLaw => {
            for s in samples {
                *s = ULAW_TO_LINEAR[ulaw_encode_fast(*s) as usize];
            }
        }
        tel_types::Law::Linear => {}
    }
}
