//! G.711 is checked at every code value and every 16-bit input against the quantiser the
//! standard describes (segment end points and interval midpoints), written independently of
//! the implementation.

use dsp::g711::*;
use tel_types::Law;

/// A-law interval [lo, lo+step) of the 16-bit magnitude for code bits (segment, mantissa).
fn alaw_interval(seg: i32, mant: i32) -> (i32, i32) {
    if seg == 0 {
        (mant * 16, 16)
    } else {
        let step = 16 << (seg - 1);
        ((256 << (seg - 1)) + mant * step, step)
    }
}

#[test]
fn alaw_every_code_decodes_to_its_interval_midpoint() {
    for code in 0..=255u8 {
        let bits = code ^ 0x55;
        let (lo, step) = alaw_interval(((bits >> 4) & 7) as i32, (bits & 15) as i32);
        let mid = lo + step / 2;
        let want = if code & 0x80 != 0 { mid } else { -mid };
        assert_eq!(alaw_decode(code) as i32, want, "code {code:#04x}");
        assert_eq!(ALAW_TO_LINEAR[code as usize], alaw_decode(code));
        // Every code survives a round trip.
        assert_eq!(alaw_encode(alaw_decode(code)), code);
    }
}

#[test]
fn alaw_every_input_lands_in_its_interval() {
    for x in i16::MIN..=i16::MAX {
        let code = alaw_encode(x);
        assert_eq!(alaw_encode_fast(x), code, "table differs at {x}");
        let bits = code ^ 0x55;
        let (lo, step) = alaw_interval(((bits >> 4) & 7) as i32, (bits & 15) as i32);
        // Negative inputs use the one's complement magnitude (-1 is in the first interval).
        let (mag, positive) = if x < 0 {
            (!(x as i32), false)
        } else {
            (x as i32, true)
        };
        assert_eq!(code & 0x80 != 0, positive, "sign of {x}");
        assert!(mag >= lo && mag < lo + step, "{x} -> {code:#04x}");
    }
}

#[test]
fn ulaw_every_code_decodes_to_its_interval_midpoint() {
    for code in 0..=255u8 {
        let inv = !code;
        let e = ((inv >> 4) & 7) as i32;
        let m = (inv & 15) as i32;
        let mid = (((2 * m + 33) << e) - 33) * 4;
        let want = if code & 0x80 != 0 { mid } else { -mid };
        assert_eq!(ulaw_decode(code) as i32, want, "code {code:#04x}");
        assert_eq!(ULAW_TO_LINEAR[code as usize], ulaw_decode(code));
        // Negative zero (0x7F) is the one code that does not come back: zero encodes as 0xFF.
        let back = ulaw_encode(ulaw_decode(code));
        if code == 0x7F {
            assert_eq!(back, 0xFF);
        } else {
            assert_eq!(back, code);
        }
    }
}

#[test]
fn ulaw_every_input_lands_in_its_interval() {
    for x in i16::MIN..=i16::MAX {
        let code = ulaw_encode(x);
        assert_eq!(ulaw_encode_fast(x), code, "table differs at {x}");
        let inv = !code;
        let e = ((inv >> 4) & 7) as i32;
        let m = (inv & 15) as i32;
        let (mag, positive) = if x < 0 {
            (!(x as i32), false)
        } else {
            (x as i32, true)
        };
        assert_eq!(code & 0x80 != 0, positive, "sign of {x}");
        let biased = ((mag >> 2) + 33).min(0x1FFF);
        let lo = (16 + m) << (e + 1);
        let hi = (17 + m) << (e + 1);
        assert!(biased >= lo && biased < hi, "{x} -> {code:#04x}");
    }
}

#[test]
fn spot_values_from_the_standard() {
    assert_eq!(alaw_decode(0xD5), 8);
    assert_eq!(alaw_decode(0x55), -8);
    assert_eq!(alaw_decode(0xAA), 32256);
    assert_eq!(alaw_decode(0x2A), -32256);
    assert_eq!(alaw_encode(0), 0xD5);
    assert_eq!(alaw_encode(-1), 0x55);
    assert_eq!(ulaw_decode(0x80), 32124);
    assert_eq!(ulaw_decode(0x00), -32124);
    assert_eq!(ulaw_decode(0xFF), 0);
    assert_eq!(ulaw_encode(0), 0xFF);
    assert_eq!(ulaw_encode(-1), 0x7F);
    assert_eq!(ulaw_encode(i16::MAX), 0x80);
    assert_eq!(ulaw_encode(i16::MIN), 0x00);
}

#[test]
fn slice_apis_match_scalar_and_handle_linear() {
    let input: Vec<i16> = (-400..400).map(|i| (i * 81) as i16).collect();
    for law in [Law::ALaw, Law::MuLaw, Law::Linear] {
        let mut bytes = vec![0u8; input.len() * 2];
        let nb = encode_slice(law, &input, &mut bytes);
        assert_eq!(nb, input.len() * law.bytes_per_sample());
        let mut back = vec![0i16; input.len()];
        let ns = decode_slice(law, &bytes[..nb], &mut back);
        assert_eq!(ns, input.len());
        let mut comp = input.clone();
        companded(law, &mut comp);
        assert_eq!(back, comp, "{law:?}");
        for (i, &x) in input.iter().enumerate() {
            let want = match law {
                Law::ALaw => alaw_decode(alaw_encode(x)),
                Law::MuLaw => ulaw_decode(ulaw_encode(x)),
                Law::Linear => x,
            };
            assert_eq!(back[i], want);
        }
    }
}

#[test]
fn a_silent_block_codes_to_the_laws_silence_byte() {
    // The audio loop recognises a silent transmit block by `Law::silence_byte`.
    for law in [Law::ALaw, Law::MuLaw, Law::Linear] {
        let mut out = [0x5Au8; 160];
        let n = encode_slice(law, &[0i16; 80], &mut out);
        assert!(n > 0);
        assert!(
            out[..n].iter().all(|&b| b == law.silence_byte()),
            "{law:?}: {:02x?}",
            &out[..4]
        );
    }
}
