//! The metrics calls the audio thread makes never allocate (a counting
//! global allocator proves it), so they are safe on the real-time path.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ivrd::cdr::{CallResult, HangupCause};
use ivrd::metrics::{CallerIdOutcome, ChannelState, LookupOutcome, Metrics};
use tel_types::Digit;

struct Counting;

// Per thread: the test harness's own threads may allocate while the test runs, and a
// process-wide count would blame them (the dsp test failed that way about one run in three).
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread-locals may already be gone while a thread exits.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; counting is a relaxed atomic add.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count();
        // SAFETY: forwarded unchanged; `ptr` came from `System.alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn audio_and_control_path_updates_do_not_allocate() {
    let m = Metrics::new(120);
    COUNTING.with(|c| c.set(true));
    for i in 0..10_000usize {
        let ch = i % 120;
        m.set_channel_state(ch, ChannelState::Ringing);
        m.calls_offered.inc();
        m.set_channel_state(ch, ChannelState::InIvr);
        m.calls_answered.inc();
        m.dtmf_digit(Digit::ALL[i % 16], -3.0, 25.0, 70.0);
        m.dtmf_rejected.inc();
        m.caller_id(CallerIdOutcome::Decoded);
        m.lookup(LookupOutcome::Found, 0.02);
        m.ring_overruns.add(0);
        m.call_ended(CallResult::SelfServed, HangupCause::BusyTone);
        m.set_channel_state(ch, ChannelState::Idle);
    }
    COUNTING.with(|c| c.set(false));
    assert_eq!(ALLOCATIONS.with(Cell::get), 0);
    assert_eq!(m.calls_offered.get(), 10_000);
    assert_eq!(m.hangups(HangupCause::BusyTone), 10_000);
    assert_eq!(m.dtmf_twist_db.count(), 10_000);
}
