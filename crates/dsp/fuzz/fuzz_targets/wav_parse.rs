//! Any bytes given to the WAV parser: never a panic; what it accepts decodes within bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(w) = dsp::wav::parse(data) {
        assert!(w.data.len() <= data.len());
        let mut out = vec![0i16; w.frames().min(1 << 16)];
        let n = w.decode_into(&mut out);
        assert!(n <= out.len() && n <= w.frames());
        let _ = w.check_telephony();
    }
});
