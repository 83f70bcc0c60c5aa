//! Does edge-triggered `mio` (epoll with `EPOLLET`) see DAHDI's readiness and events?
//!
//! The daemon's audio thread registers every channel fd with `mio`, which is always
//! edge-triggered. These tests answer, on the real driver, what the audio loop may rely on
//! (the answer is recorded in `hil-tests/README.md`):
//!
//! 1. a channel reports `READABLE` once per received block, so draining to `WouldBlock` on
//!    each wakeup never stalls;
//! 2. a pending signalling event is reported as `PRIORITY` (`POLLPRI`), and read/write then
//!    return the event-pending value until `get_event` takes it;
//! 3. a `/dev/dahdi/timer` expiry is reported as `PRIORITY` once per period.

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use dahdi::{Event, ReadOutcome, Timer};
use hil_tests::dahdi_rig::{drain, open, rig};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use tel_types::Hook;

fn ok<T>(r: dahdi::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn edge_triggered_readable_once_per_block() {
    let Some(rig) = rig("edge_triggered_readable_once_per_block") else {
        return;
    };
    let mut ch = open(rig.config.spare_exchange);
    // 32 receive buffers (640 ms): a stalled VM must not drop blocks, so every block that
    // arrives can be counted.
    let b = ok(ch.buffers());
    ok(ch.set_buffers(&dahdi::BufferInfo { num_bufs: 32, ..b }));
    let mut poll = Poll::new().expect("mio poll");
    let fd = ch.as_raw_fd();
    poll.registry()
        .register(
            &mut SourceFd(&fd),
            Token(1),
            Interest::READABLE | Interest::PRIORITY,
        )
        .expect("register");
    drain(&mut ch);
    let mut events = Events::with_capacity(8);
    let mut wakeups = 0;
    let mut timeouts = 0;
    let mut blocks = 0;
    let mut longest_wait = Duration::ZERO;
    let mut buf = [0u8; 160];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        let t = Instant::now();
        poll.poll(&mut events, Some(Duration::from_millis(500)))
            .expect("poll");
        longest_wait = longest_wait.max(t.elapsed());
        if events.is_empty() {
            timeouts += 1;
        }
        for e in &events {
            if e.is_readable() {
                wakeups += 1;
            }
        }
        // Edge-triggered: drain until WouldBlock, or the next edge may never come.
        loop {
            match ok(ch.read(&mut buf)) {
                ReadOutcome::Data(_) => blocks += 1,
                ReadOutcome::WouldBlock => break,
                ReadOutcome::EventPending => panic!("unexpected event {:?}", ch.get_event()),
            }
        }
    }
    println!(
        "mio readable: {wakeups} wakeups, {blocks} blocks in 2 s, {timeouts} poll timeouts, \
         longest wait {longest_wait:?}"
    );
    // 100 blocks of 20 ms arrive in 2 s. A missed edge shows as a poll that times out
    // (500 ms) although blocks kept arriving. A stalled VM may deliver several blocks per
    // wake-up, so wakeups may be fewer than blocks, but not far fewer.
    assert!(blocks >= 95, "only {blocks} blocks in 2 s");
    assert_eq!(
        timeouts, 0,
        "poll timed out while audio was arriving: an edge was missed"
    );
    assert!(
        wakeups * 2 >= blocks,
        "only {wakeups} readable wakeups for {blocks} blocks"
    );
}

#[test]
fn edge_triggered_priority_for_events() {
    let Some(rig) = rig("edge_triggered_priority_for_events") else {
        return;
    };
    let mut x = open(rig.config.spare_exchange);
    let mut p = open(rig.config.spare_phone);
    let mut poll = Poll::new().expect("mio poll");
    let fd = x.as_raw_fd();
    poll.registry()
        .register(
            &mut SourceFd(&fd),
            Token(1),
            Interest::READABLE | Interest::PRIORITY,
        )
        .expect("register");
    drain(&mut x);
    drain(&mut p);
    let mut events = Events::with_capacity(8);
    ok(p.hook(Hook::OffHook));
    let start = Instant::now();
    let mut buf = [0u8; 160];
    let mut priority_seen = None;
    let mut pending_reads = 0;
    let mut taken = Vec::new();
    while start.elapsed() < Duration::from_secs(3) && taken.is_empty() {
        poll.poll(&mut events, Some(Duration::from_millis(200)))
            .expect("poll");
        for e in &events {
            if e.is_priority() && priority_seen.is_none() {
                priority_seen = Some(start.elapsed());
            }
        }
        loop {
            match ok(x.read(&mut buf)) {
                ReadOutcome::Data(_) => {}
                ReadOutcome::WouldBlock => break,
                ReadOutcome::EventPending => {
                    pending_reads += 1;
                    // Before taking it, the event keeps the fd in POLLPRI.
                    if pending_reads == 1 {
                        poll.poll(&mut events, Some(Duration::from_millis(100)))
                            .expect("poll");
                        let again = events.iter().any(|e| e.is_priority());
                        println!("mio: priority reported again while the event waits: {again}");
                    }
                    while let Some(ev) = ok(x.get_event()) {
                        taken.push(ev);
                    }
                }
            }
        }
    }
    println!(
        "mio priority: first PRIORITY after {priority_seen:?}, EventPending reads {pending_reads}, events {taken:?}"
    );
    assert!(
        priority_seen.is_some(),
        "no PRIORITY (POLLPRI) readiness for the off-hook event"
    );
    assert_eq!(taken.first(), Some(&Event::RingOffHook));
    ok(p.hook(Hook::OnHook));
    // Leave the pair idle.
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(2000) {
        drain(&mut x);
        drain(&mut p);
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn edge_triggered_timer_priority() {
    let Some(_rig) = rig("edge_triggered_timer_priority") else {
        return;
    };
    let timer = ok(Timer::open());
    let mut poll = Poll::new().expect("mio poll");
    let fd = timer.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), Token(7), Interest::PRIORITY)
        .expect("register");
    ok(timer.set_period_samples(160));
    let mut events = Events::with_capacity(8);
    let mut ticks = 0;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        poll.poll(&mut events, Some(Duration::from_millis(200)))
            .expect("poll");
        if events.iter().any(|e| e.is_priority()) {
            while ok(timer.get_event()) == Some(Event::TimerExpired) {
                ticks += 1;
                ok(timer.ack(1));
            }
        }
    }
    let elapsed = start.elapsed();
    println!("mio timer: {ticks} expiries in {elapsed:?}");
    let expected = elapsed.as_secs_f64() / 0.020;
    assert!(
        (ticks as f64 - expected).abs() <= 3.0,
        "{ticks} expiries, expected about {expected:.0}"
    );
}
