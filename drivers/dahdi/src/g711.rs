//! G.711 A-law and µ-law, only as needed to build gain tables.

use tel_types::Law;

/// Encodes one linear sample (`Law::Linear` passes the high byte, which nothing uses).
pub(crate) fn encode(law: Law, pcm: i16) -> u8 {
    match law {
        Law::ALaw => {
            let sign: u8 = if pcm >= 0 { 0x80 } else { 0 };
            let mag = (i32::from(pcm).abs() >> 3).min(0x0FFF);
            let (seg, mant) = if mag < 32 {
                (0u8, (mag >> 1) as u8)
            } else {
                let seg = (31 - (mag as u32).leading_zeros()) as u8 - 4;
                (seg, ((mag >> seg) & 0x0F) as u8)
            };
            (sign | (seg << 4) | mant) ^ 0x55
        }
        Law::MuLaw => {
            let mut v = i32::from(pcm);
            let sign: u8 = if v < 0 {
                v = -v;
                0x80
            } else {
                0
            };
            let v = (v.min(32_635) + 0x84) as u32;
            let seg = (31 - v.leading_zeros()) as u8 - 7;
            let mant = ((v >> (seg + 3)) & 0x0F) as u8;
            !(sign | (seg << 4) | mant)
        }
        Law::Linear => (pcm >> 8) as u8,
    }
}

/// Decodes one companded byte.
pub(crate) fn decode(law: Law, code: u8) -> i16 {
    match law {
        Law::ALaw => {
            let c = code ^ 0x55;
            let seg = (c >> 4) & 0x07;
            let mant = i32::from(c & 0x0F);
            let mag = if seg == 0 {
                (mant << 4) + 8
            } else {
                ((mant << 4) + 0x108) << (seg - 1)
            };
            (if c & 0x80 != 0 { mag } else { -mag }) as i16
        }
        Law::MuLaw => {
            let c = !code;
            let seg = (c >> 4) & 0x07;
            let mant = i32::from(c & 0x0F);
            let mag = (((mant << 3) + 0x84) << seg) - 0x84;
            (if c & 0x80 != 0 { -mag } else { mag }) as i16
        }
        Law::Linear => i16::from(code as i8) << 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_decodes_and_re_encodes_to_itself() {
        for law in [Law::ALaw, Law::MuLaw] {
            for code in 0..=255u8 {
                let x = decode(law, code);
                let back = encode(law, x);
                // µ-law has two zeros (0x7F and 0xFF); both decode to 0.
                if law == Law::MuLaw && x == 0 {
                    continue;
                }
                assert_eq!(back, code, "{law:?} {code:#04x} -> {x}");
            }
        }
    }
}
