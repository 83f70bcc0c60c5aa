//! Frame coding between the board's law and linear audio.

use tel_types::{FRAME_SAMPLES, Law};

use crate::Frame;

/// Decodes `coded` into `out`; missing samples become silence.
pub(crate) fn decode(law: Law, coded: &[u8], out: &mut Frame) {
    out.fill(0);
    match law {
        Law::Linear => {
            for (o, b) in out.iter_mut().zip(coded.chunks_exact(2)) {
                *o = i16::from_le_bytes([b[0], b[1]]);
            }
        }
        Law::ALaw | Law::MuLaw => {
            for (o, &b) in out.iter_mut().zip(coded.iter().take(FRAME_SAMPLES)) {
                *o = decode_one(law, b);
            }
        }
    }
}

/// Encodes `lin` into `out`; returns bytes written.
pub(crate) fn encode(law: Law, lin: &Frame, out: &mut [u8]) -> usize {
    match law {
        Law::Linear => {
            let mut n = 0;
            for (o, s) in out.chunks_exact_mut(2).zip(lin) {
                o.copy_from_slice(&s.to_le_bytes());
                n += 2;
            }
            n
        }
        Law::ALaw | Law::MuLaw => {
            let mut n = 0;
            for (o, &s) in out.iter_mut().zip(lin) {
                *o = encode_one(law, s);
                n += 1;
            }
            n
        }
    }
}

// Interim until the dsp crate's G.711 lands: replaced by calls into `dsp`.
fn decode_one(law: Law, b: u8) -> i16 {
    match law {
        Law::MuLaw => {
            let u = !b;
            let t = ((i32::from(u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
            (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
        }
        _ => {
            let a = b ^ 0x55;
            let mut t = i32::from(a & 0x0f) << 4;
            let seg = (a & 0x70) >> 4;
            match seg {
                0 => t += 8,
                1 => t += 0x108,
                _ => {
                    t += 0x108;
                    t <<= seg - 1;
                }
            }
            (if a & 0x80 != 0 { t } else { -t }) as i16
        }
    }
}

fn encode_one(law: Law, s: i16) -> u8 {
    match law {
        Law::MuLaw => {
            let mut v = i32::from(s);
            let mask = if v < 0 {
                v = -v;
                0x7f
            } else {
                0xff
            };
            v = (v + 0x84).min(0x7fff);
            let seg = (15 - (v as u16).leading_zeros() as i32 - 7).clamp(0, 7);
            let uval = ((seg << 4) | ((v >> (seg + 3)) & 0x0f)) as u8;
            uval ^ mask as u8
        }
        _ => {
            let mut v = i32::from(s);
            let mask = if v >= 0 {
                0xd5
            } else {
                v = -v - 1;
                0x55
            };
            let seg = (15 - (v as u16 | 0xff).leading_zeros() as i32 - 7).clamp(0, 8);
            let aval = if seg >= 8 {
                0x7f
            } else if seg < 2 {
                ((v >> 4) & 0x0f) as u8 | ((seg as u8) << 4)
            } else {
                ((v >> (seg + 3)) & 0x0f) as u8 | ((seg as u8) << 4)
            };
            aval ^ mask as u8
        }
    }
}
