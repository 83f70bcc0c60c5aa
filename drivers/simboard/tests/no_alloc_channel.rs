//! The channel side of the simulated card never allocates: reads, writes, events and hook
//! commands are what the daemon's audio thread calls.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use simboard::{CallSpec, Persona, Profile, SimBoard, Step};
use tel_types::board::{ReadOutcome, VoiceChannel};
use tel_types::{CallerId, Hook};

struct Counting;

// Per thread: the test harness's own threads may allocate while the test runs, and a
// process-wide count would blame them (the dsp test failed that way about one run in three).
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread-locals may already be gone while a thread exits.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn channel_calls_do_not_allocate() {
    run(160);
}

#[test]
fn channel_calls_on_10_ms_blocks_do_not_allocate() {
    run(80);
}

/// A call on a trunk and a station ringing, the channels read every block of `block`
/// samples; counts what the channel side allocates.
fn run(block: usize) {
    let profile = Profile::parse(
        r#"
        [board]
        name = "t"
        zone = "cn"
        [[cards]]
        model = "t"
        ports = [{ kind = "fxo-trunk", count = 1 }, { kind = "fxs-station", count = 1 }]
        "#,
        "t.toml",
    )
    .unwrap();
    let mut board = SimBoard::from_profile(profile);
    let mut trunk = board.take_channel(1).unwrap();
    let mut station = board.take_channel(2).unwrap();
    let p = Arc::new(Persona::new("c", vec![Step::press("123"), Step::HangUp]));
    board.offer_call(
        1,
        CallSpec {
            persona: p,
            caller_id: CallerId::default(),
            hold_ms: None,
            give_up_ms: None,
            seed: 1,
        },
    );
    let mut buf = [0u8; 160];
    let out = [0xD5u8; 160];
    let mut channel_allocs = 0;
    let mut reads = 0;
    COUNTING.with(|c| c.set(true));
    trunk.set_io_block(block).unwrap();
    station.set_io_block(block).unwrap();
    COUNTING.with(|c| c.set(false));
    channel_allocs += ALLOCS.with(|n| n.replace(0));
    let per_frame = 160 / block;
    for k in 0..600 * per_frame {
        // The board side may allocate (a call starts, a persona acts).
        board.advance_ms(block as u64 / 8);
        let step = if k % per_frame == 0 { k / per_frame } else { 0 };
        COUNTING.with(|c| c.set(true));
        for ch in [&mut trunk, &mut station] {
            loop {
                match ch.read_frame(&mut buf[..block]).unwrap() {
                    ReadOutcome::Data(_) => reads += 1,
                    ReadOutcome::WouldBlock => break,
                    ReadOutcome::EventPending => {
                        let _ = ch.next_event().unwrap();
                    }
                }
            }
            let _ = ch.write_frame(&out[..block]).unwrap();
        }
        match step {
            260 => trunk.set_hook(Hook::OffHook).unwrap(),
            300 => station.set_hook(Hook::Ring).unwrap(),
            500 => station.set_hook(Hook::RingOff).unwrap(),
            550 => trunk.set_hook(Hook::OnHook).unwrap(),
            _ => {}
        }
        COUNTING.with(|c| c.set(false));
        channel_allocs += ALLOCS.with(|n| n.replace(0));
    }
    // 12 s less the last frame's second half on 10 ms blocks, on both channels.
    assert_eq!(reads, 2 * (600 * per_frame - (per_frame - 1)));
    assert_eq!(channel_allocs, 0);
}
