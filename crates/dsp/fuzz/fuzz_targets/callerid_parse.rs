//! Any bytes as an SDMF/MDMF message, and any text as DTMF caller-ID keys: never a panic;
//! an accepted message re-encodes and parses back to the same caller.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tel_types::CallerIdPresentation;

fuzz_target!(|data: &[u8]| {
    if let Ok(cid) = dsp::callerid::parse_message(data) {
        let mut buf = [0u8; 260];
        let n = dsp::callerid::encode_mdmf(&cid, &mut buf);
        if n > 0
            && cid.presentation == CallerIdPresentation::Available
            && let Ok(again) = dsp::callerid::parse_message(&buf[..n])
        {
            assert_eq!(again.number, cid.number);
        }
    }
    let keys = String::from_utf8_lossy(data);
    let _ = dsp::callerid::parse_dtmf_caller_id(&keys);
});
