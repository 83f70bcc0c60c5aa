//! Per-code G.711 helpers for building gain tables, over the DSP crate's bit-exact codec.

use tel_types::Law;

/// Encodes one linear sample (`Law::Linear` passes the high byte, which nothing uses).
pub(crate) fn encode(law: Law, pcm: i16) -> u8 {
    match law {
        Law::ALaw => dsp::g711::alaw_encode(pcm),
        Law::MuLaw => dsp::g711::ulaw_encode(pcm),
        Law::Linear => (pcm >> 8) as u8,
    }
}

/// Decodes one companded byte.
pub(crate) fn decode(law: Law, code: u8) -> i16 {
    match law {
        Law::ALaw => dsp::g711::alaw_decode(code),
        Law::MuLaw => dsp::g711::ulaw_decode(code),
        Law::Linear => i16::from(code as i8) << 8,
    }
}
