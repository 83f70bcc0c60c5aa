//! Any audio through the DTMF, caller-ID and call-progress receivers, in frames of any size:
//! never a panic, and every digit event ends at or after it starts.
#![no_main]

use dsp::callerid::CallerIdReceiver;
use dsp::dtmf_rx::{DtmfConfig, DtmfReceiver};
use dsp::fsk::FskModem;
use dsp::progress::CallProgressDetector;
use dsp::zones::ToneZone;
use libfuzzer_sys::fuzz_target;
use tel_types::SampleTime;

fuzz_target!(|data: &[u8]| {
    let Some((&frame, rest)) = data.split_first() else {
        return;
    };
    let frame = usize::from(frame).max(1);
    let samples: Vec<i16> = rest
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let mut dtmf = DtmfReceiver::new(DtmfConfig::default());
    let mut bell = CallerIdReceiver::new(FskModem::Bell202);
    let mut v23 = CallerIdReceiver::new(FskModem::V23);
    let mut cpd = CallProgressDetector::new(ToneZone::default_zone());
    let mut now = SampleTime::ZERO;
    for chunk in samples.chunks(frame) {
        dtmf.process(chunk, now);
        while let Some(e) = dtmf.poll_event() {
            let d = e.digit_event();
            assert!(d.end >= d.start);
        }
        let _ = bell.process(chunk, now);
        let _ = v23.process(chunk, now);
        let _ = cpd.process(chunk, now);
        now += chunk.len() as u64;
    }
});
