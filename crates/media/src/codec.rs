//! Frame coding between the board's law and linear audio (G.711 from `dsp`).

use tel_types::Law;

use crate::Frame;

/// Decodes `coded` into `out`; missing samples become silence.
pub(crate) fn decode(law: Law, coded: &[u8], out: &mut Frame) {
    let n = dsp::g711::decode_slice(law, coded, out);
    out[n..].fill(0);
}

/// Encodes `lin` into `out`; returns bytes written.
pub(crate) fn encode(law: Law, lin: &Frame, out: &mut [u8]) -> usize {
    dsp::g711::encode_slice(law, lin, out)
}
