//! Proves the audio-path calls never allocate: a counting global allocator watches every
//! detector and generator process a few seconds of busy audio after construction.
#![allow(unsafe_code)]

use dsp::callerid::{CallerIdReceiver, DtmfCallerIdParser, fsk_caller_id};
use dsp::dtmf_gen::{DtmfGenConfig, DtmfGenerator};
use dsp::dtmf_rx::{DtmfConfig, DtmfReceiver};
use dsp::fsk::FskModem;
use dsp::g711;
use dsp::level::{LevelMeter, VadConfig, VoiceDetector};
use dsp::progress::CallProgressDetector;
use dsp::tone::ToneGenerator;
use dsp::zones::ToneZone;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use tel_types::{CallerId, FixedStr, SampleTime, Tone};

struct Counting;

// Per thread: the test harness's own threads allocate while the test runs (a process-wide
// count made the test fail about one run in three when the binary was run directly).
thread_local!(static ALLOCS: Cell<usize> = const { Cell::new(0) });

fn bump() {
    // `try_with`: the thread-local may already be gone while a thread exits.
    let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

#[test]
fn processing_never_allocates() {
    let cn = ToneZone::by_code("cn").unwrap();
    // Construction (may allocate) and test signals first.
    let mut dtmf = DtmfReceiver::new(DtmfConfig::default());
    let mut cpd = CallProgressDetector::new(cn);
    let mut cid = CallerIdReceiver::new(FskModem::V23);
    let mut meter = LevelMeter::new();
    let mut vad = VoiceDetector::new(VadConfig::default());
    let mut keys = DtmfGenerator::new(DtmfGenConfig::default());
    let mut busy = ToneGenerator::new(cn.tone(Tone::Busy).unwrap(), -20.0);
    let mut parser = DtmfCallerIdParser::default();
    let caller = CallerId {
        number: FixedStr::new_truncated("13800138000"),
        ..CallerId::default()
    };
    let mut fsk = vec![0i16; 16000];
    let mut frame = [0i16; 160];
    let mut codes = [0u8; 160];
    let mut heard = 0;

    let before = ALLOCS.with(Cell::get);
    let n = fsk_caller_id(&caller, FskModem::V23, true, -13.0, &mut fsk);
    keys.push_str("A13800138000C#");
    let mut t = SampleTime::ZERO;
    for i in 0..400 {
        if i * 160 < n {
            frame.copy_from_slice(&fsk[i * 160..i * 160 + 160]);
        } else if !keys.is_idle() {
            keys.fill(&mut frame);
        } else {
            busy.fill(&mut frame);
        }
        g711::alaw_encode_slice(&frame, &mut codes);
        g711::alaw_decode_slice(&codes, &mut frame);
        dtmf.process(&frame, t);
        while let Some(e) = dtmf.poll_event() {
            if let dsp::dtmf_rx::DtmfEvent::Down(d) = e {
                heard += 1;
                let _ = parser.push(d.digit);
            }
        }
        if cpd.process(&frame, t).is_some() {
            heard += 1;
        }
        if cid.process(&frame, t).is_some() {
            heard += 1;
        }
        meter.process(&frame);
        let _ = vad.process(&frame, t);
        t += 160;
    }
    let after = ALLOCS.with(Cell::get);
    assert_eq!(after - before, 0, "the audio path allocated");
    // And it did real work: 14 keys, the caller ID and the busy tone.
    assert!(heard >= 16, "{heard}");
}
