//! The audio-path calls of the `dahdi` crate never allocate, on the real driver: read,
//! write, get_event and hook through `VoiceChannel`, including the "would block", "event
//! pending" and "refused" paths. A counting global allocator (the one use of `unsafe`
//! allowed outside `drivers/dahdi/src/sys.rs`) counts this thread's allocations while the
//! loop runs. Skips where there is no `/dev/dahdi`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use hil_tests::dahdi_rig::{DahdiPair, rig};
use tel_types::board::{ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{Hook, Law, LineEvent};

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

struct CountingAlloc;

// SAFETY: every call is forwarded unchanged to the system allocator; the bookkeeping only
// touches const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCS.with(|a| a.set(a.get() + 1));
        }
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.with(Cell::get) {
            ALLOCS.with(|a| a.set(a.get() + 1));
        }
        // SAFETY: `ptr` came from `System.alloc` with this `layout` (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCS.with(|a| a.set(a.get() + 1));
        }
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static A: CountingAlloc = CountingAlloc;

/// What the loop saw, counted without allocating.
#[derive(Debug, Default)]
struct Seen {
    frames_read: u32,
    frames_written: u32,
    would_block: u32,
    event_pending: u32,
    refused: u32,
    off_hook_events: u32,
    on_hook_events: u32,
}

fn service<C: VoiceChannel>(ch: &mut C, rx: &mut [u8], tx: &[u8], seen: &mut Seen) {
    loop {
        match ch.read_frame(rx) {
            Ok(ReadOutcome::Data(_)) => seen.frames_read += 1,
            Ok(ReadOutcome::WouldBlock) => {
                seen.would_block += 1;
                break;
            }
            Ok(ReadOutcome::EventPending) => {
                seen.event_pending += 1;
                while let Ok(Some(ev)) = ch.next_event() {
                    match ev {
                        LineEvent::RingOffHook => seen.off_hook_events += 1,
                        LineEvent::OnHook => seen.on_hook_events += 1,
                        _ => {}
                    }
                }
            }
            Err(_) => panic!("read failed"),
        }
    }
    match ch.write_frame(tx) {
        Ok(WriteOutcome::Written(_)) => seen.frames_written += 1,
        Ok(WriteOutcome::WouldBlock | WriteOutcome::EventPending) => {}
        Err(_) => panic!("write failed"),
    }
}

#[test]
fn audio_path_does_not_allocate() {
    let Some(rig) = rig("audio_path_does_not_allocate") else {
        return;
    };
    let mut pair = DahdiPair::open(
        rig.config.spare_exchange,
        rig.config.spare_phone,
        Some(Law::Linear),
    );
    let mut rx = [0u8; 320];
    let tx = [0u8; 320];
    let mut seen = Seen::default();
    let start = Instant::now();
    // The counter itself works: one allocation and one free are seen.
    COUNTING.with(|c| c.set(true));
    drop(std::hint::black_box(vec![0u8; 8]));
    COUNTING.with(|c| c.set(false));
    assert_eq!(
        ALLOCS.with(Cell::get),
        2,
        "the counting allocator does not count"
    );
    ALLOCS.with(|a| a.set(0));
    COUNTING.with(|c| c.set(true));
    let mut hooked = false;
    let mut flashed = false;
    let mut released = false;
    while start.elapsed() < Duration::from_millis(3000) {
        let t = start.elapsed();
        if !hooked && t > Duration::from_millis(200) {
            pair.phone.set_hook(Hook::OffHook).expect("off-hook");
            hooked = true;
        }
        if hooked && !flashed && t > Duration::from_millis(250) {
            // Inside the 600 ms debounce: refused, and the refusal must not allocate either.
            if pair.phone.set_hook(Hook::Flash).is_err() {
                seen.refused += 1;
            }
            flashed = true;
        }
        if !released && t > Duration::from_millis(1000) {
            pair.phone.set_hook(Hook::OnHook).expect("on-hook");
            released = true;
        }
        service(&mut pair.exchange, &mut rx, &tx, &mut seen);
        service(&mut pair.phone, &mut rx, &tx, &mut seen);
        std::thread::sleep(Duration::from_millis(5));
    }
    COUNTING.with(|c| c.set(false));
    let allocs = ALLOCS.with(Cell::get);
    println!("no-alloc loop: {seen:?}, allocations {allocs}");
    assert!(
        seen.frames_read > 100 && seen.frames_written > 100,
        "{seen:?}"
    );
    assert!(
        seen.event_pending >= 2 && seen.off_hook_events == 1 && seen.on_hook_events == 1,
        "{seen:?}"
    );
    assert_eq!(
        seen.refused, 1,
        "the early flash should be refused: {seen:?}"
    );
    assert_eq!(allocs, 0, "the audio path allocated {allocs} times");
}
