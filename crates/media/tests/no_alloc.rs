//! Proves the audio thread's calls never allocate: a counting global allocator (per thread)
//! watches thousands of frames with playback, tones, recording, listen-in, bridging, gain,
//! events (including a full event ring) and every receiver busy: DTMF keys, busy tone,
//! FSK caller ID and voice are all heard during the measurement.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use media::{Config, Gain, MediaCommand, Pipeline, PromptTable};
use tel_types::{
    ChannelId, Digit, DigitSet, FRAME_SAMPLES, Hook, Law, LineEvent, RecordingId, SampleTime, Tone,
};

struct CountingAlloc;

thread_local!(static ALLOCS: Cell<usize> = const { Cell::new(0) });

fn bump() {
    // `try_with`: the thread-local may already be gone while a thread exits.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is `System`'s; the only addition is bumping a thread-local counter,
// which neither allocates nor touches the memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same layout the caller passed us, forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same layout the caller passed us, forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: `ptr` came from this allocator (hence from `System`) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        bump();
        // SAFETY: `ptr` came from this allocator (hence from `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static A: CountingAlloc = CountingAlloc;

/// Allocations and frees made by this thread while `f` runs.
fn allocs_during(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

/// A frame with energy in it: a DTMF-like pair of tones, or speech-like noise.
fn audio(frame: u64, kind: u64) -> [i16; FRAME_SAMPLES] {
    let mut f = [0i16; FRAME_SAMPLES];
    for (i, s) in f.iter_mut().enumerate() {
        let t = (frame * FRAME_SAMPLES as u64 + i as u64) as f32 / 8000.0;
        let w = core::f32::consts::TAU;
        *s = match kind % 4 {
            0 => 0,
            1 => (4000.0 * (w * 697.0 * t).sin() + 4000.0 * (w * 1209.0 * t).sin()) as i16,
            // China's busy tone: 450 Hz, 350 ms on, 350 ms off.
            2 if (t * 1000.0) as u64 % 700 < 350 => (6000.0 * (w * 450.0 * t).sin()) as i16,
            2 => 0,
            _ => (((frame * 7919 + i as u64 * 104_729) % 8000) as i16 - 4000) / 2,
        };
    }
    f
}

fn pipelines() -> (
    Vec<(Pipeline, media::ControlHandle)>,
    Vec<tel_types::PromptId>,
) {
    let mut table = PromptTable::new();
    let ids: Vec<_> = (0..4)
        .map(|p| {
            let n = 800 + p * 1234;
            table.push(
                &(0..n)
                    .map(|i| ((i * 37) % 2000) as i16 - 1000)
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let prompts: &'static PromptTable = Box::leak(Box::new(table));
    let chans = (1..=2)
        .map(|id| {
            let mut c = Config::new(ChannelId(id), prompts);
            c.law = Law::ALaw;
            c.event_capacity = 16; // small, so the ring fills up during the run
            c.tx_gain = Gain::from_db(-3.0);
            c.rx_gain = Gain::from_db(2.0);
            media::channel(c)
        })
        .collect();
    (chans, ids)
}

#[test]
fn processing_thousands_of_frames_with_everything_on_allocates_nothing() {
    everything_on(FRAME_SAMPLES);
}

#[test]
fn processing_ten_ms_blocks_with_everything_on_allocates_nothing() {
    everything_on(FRAME_SAMPLES / 2);
}

/// One frame of both bridged channels, as the loop does it: whole frames
/// (`process_coded`, the peer's last frame) or blocks (`process_block_coded`, the peer's
/// `bridge_audio`, copied to the stack as the loop does).
#[allow(clippy::too_many_arguments)]
fn frame_of_two(
    block: usize,
    now: SampleTime,
    a: &mut Pipeline,
    b: &mut Pipeline,
    rx_a: &[u8],
    tx_a: &mut [u8],
    rx_b: &[u8],
    tx_b: &mut [u8],
) {
    if block == FRAME_SAMPLES {
        let peer = *b.last_rx();
        a.process_coded(now, rx_a, tx_a, Some(&peer));
        let peer = *a.last_rx();
        b.process_coded(now, rx_b, tx_b, Some(&peer));
        return;
    }
    let mut peer = [0i16; FRAME_SAMPLES];
    for k in 0..FRAME_SAMPLES / block {
        let at = now + (k * block) as u64;
        let part = k * block..(k + 1) * block;
        let p = b.bridge_audio();
        peer[..p.len()].copy_from_slice(p);
        a.process_block_coded(
            at,
            &rx_a[part.clone()],
            &mut tx_a[part.clone()],
            Some(&peer[..block]),
        );
        let p = a.bridge_audio();
        peer[..p.len()].copy_from_slice(p);
        b.process_block_coded(
            at,
            &rx_b[part.clone()],
            &mut tx_b[part],
            Some(&peer[..block]),
        );
    }
}

fn everything_on(block: usize) {
    // The counter works: a heap allocation is seen.
    assert!(allocs_during(|| drop(std::hint::black_box(vec![0u8; 64]))) >= 1);
    let (mut chans, ids) = pipelines();
    let (mut a, mut ctl_a) = chans.remove(0);
    let (mut b, mut ctl_b) = chans.remove(0);
    let mut tap_a = ctl_a.take_record_tap().unwrap();
    let mut listen_b = ctl_b.take_listen_tap().unwrap();
    ctl_a.try_send(MediaCommand::Bridge(ChannelId(2))).unwrap();
    assert!(ctl_b.set_listen(true));

    // A second prompt pack (a reload's), built before the measurement.
    let mut other = PromptTable::new();
    for _ in 0..4 {
        other.push(&[500; 2000]);
    }
    let other: &'static PromptTable = Box::leak(Box::new(other));

    let frames = 5_000u64;
    let mut rx_a = [0u8; FRAME_SAMPLES];
    let mut tx_a = [0u8; FRAME_SAMPLES];
    let mut rx_b = [0u8; FRAME_SAMPLES];
    let mut tx_b = [0u8; FRAME_SAMPLES];
    let mut now = SampleTime::ZERO;

    // Warm-up outside the measurement (the first frame is still a normal frame).
    frame_of_two(
        block, now, &mut a, &mut b, &rx_a, &mut tx_a, &rx_b, &mut tx_b,
    );
    now += FRAME_SAMPLES as u64;

    let mut lines = 0;
    let mut digits = 0;
    let mut busy = 0;
    let mut caller_ids = 0;
    // FSK caller ID, rendered before the measurement, heard by B (which stays on-hook).
    let mut fsk = vec![0i16; 16_000];
    let cid = tel_types::CallerId {
        number: tel_types::FixedStr::new_truncated("13800138000"),
        ..Default::default()
    };
    dsp::callerid::fsk_caller_id(&cid, dsp::fsk::FskModem::V23, true, -12.0, &mut fsk);
    const FSK_AT: u64 = 3_000;
    let allocs = allocs_during(|| {
        for f in 1..frames {
            // The control side keeps both channels busy (its own pushes are lock-free too,
            // but this test thread plays both roles, so keep them minimal here).
            if f % 50 == 1 {
                let p = ids[(f / 50) as usize % ids.len()];
                let _ = ctl_a.try_send(MediaCommand::Play {
                    prompt: p,
                    barge_in: DigitSet::from_keys("#"),
                });
                let _ = ctl_b.try_send(MediaCommand::PlayTone {
                    tone: [
                        Tone::Busy,
                        Tone::Dtmf(Digit::D5),
                        Tone::Beep,
                        Tone::Ringback,
                    ][(f / 50) as usize % 4],
                    duration_ms: 300,
                });
            }
            if f % 400 == 3 {
                let _ = ctl_a.try_send(MediaCommand::StartRecording {
                    slot: RecordingId(f as u32),
                    max_ms: 3000,
                    end_on_silence_ms: 2000,
                    stop_keys: DigitSet::from_keys("#*"),
                });
            }
            let a_audio = audio(f, f / 20);
            let mut b_audio = audio(f, if f % 1000 < 300 { 2 } else { f / 30 + 1 });
            if (FSK_AT..FSK_AT + 100).contains(&f) {
                let at = (f - FSK_AT) as usize * FRAME_SAMPLES;
                b_audio.copy_from_slice(&fsk[at..at + FRAME_SAMPLES]);
            }
            dsp::g711::encode_slice(Law::ALaw, &a_audio, &mut rx_a);
            dsp::g711::encode_slice(Law::ALaw, &b_audio, &mut rx_b);
            if f % 200 == 100 {
                for _ in 0..20 {
                    b.on_line_event(now, LineEvent::RingOffHook);
                }
            }
            if f % 777 == 0 {
                a.on_line_event(now, LineEvent::DtmfDown(Digit::Hash));
                b.on_line_event(now, LineEvent::RingBegin);
            }
            frame_of_two(
                block, now, &mut a, &mut b, &rx_a, &mut tx_a, &rx_b, &mut tx_b,
            );
            while let Some(ctl) = a.poll_line_control() {
                if let media::LineControl::Bridge(_) = ctl {
                    b.set_peer(Some(ChannelId(1)));
                }
                lines += 1;
            }
            let _ = a.take_wake() | b.take_wake();
            // Writer and listener drain sometimes, so their rings fill and empty.
            if f % 10 == 0 {
                while tap_a.pop().is_some() {}
                while listen_b.pop().is_some() {}
            }
            // Control drains events only now and then, so the event ring overflows.
            if f % 200 == 0 {
                while let Some(ev) = ctl_a.poll_event() {
                    digits += usize::from(matches!(ev, media::MediaEvent::Digit(_)));
                }
                while let Some(ev) = ctl_b.poll_event() {
                    busy += usize::from(matches!(ev, media::MediaEvent::Progress { .. }));
                    caller_ids += usize::from(matches!(ev, media::MediaEvent::CallerId { .. }));
                }
            }
            // Caller ID out to B as to a station, after a ring burst.
            if f == 1000 {
                let _ = ctl_b.try_send(MediaCommand::SendCallerId(cid));
            }
            if f == 1010 {
                b.on_line_event(now, LineEvent::RingerOff);
            }
            if f == 2500 {
                let _ = ctl_a.try_send(MediaCommand::SetHook(Hook::OffHook));
            }
            // A reload's new line settings (busy tone off then on, another FSK modem): the
            // audio thread swaps its detectors in place. The ring has room, so the control
            // side's `send` does not need its backlog here.
            // A reloaded prompt pack: the audio thread only switches a reference.
            if f == 2000 {
                let _ = ctl_a.send_prompt_table(other);
            }
            if f == 1500 || f == 3500 {
                let on = f == 3500;
                let modem = if on {
                    dsp::fsk::FskModem::V23
                } else {
                    dsp::fsk::FskModem::Bell202
                };
                let settings =
                    media::LineSettings::new(Gain::from_db(-3.0), Gain::UNITY, on, Some(modem));
                let _ = ctl_b.send_line_settings(settings);
            }
            now += FRAME_SAMPLES as u64;
        }
    });
    assert_eq!(allocs, 0, "the audio path allocated or freed memory");
    assert!(lines >= 2, "bridge and hook requests went through");
    assert!(
        digits > 10,
        "the DTMF receiver was busy: {digits} keys heard"
    );
    assert_eq!(ctl_a.stats().frames, frames);
    assert!(
        ctl_b.stats().events_lost > 0,
        "the test must overflow the event ring"
    );
}
