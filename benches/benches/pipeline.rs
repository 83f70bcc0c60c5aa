//! Channels per core through the full media pipeline, and the time one 20 ms frame takes
//! for 120 channels, with 20 ms board blocks and with DAHDI's 10 ms blocks (`block_ms`).
//!
//! Both modes are measured in the same run, tick for tick alternately (one 20 ms frame of
//! a 20 ms bank, then the two 10 ms blocks of a 10 ms bank), so a busy machine weighs on
//! both alike and their ratio is meaningful. A 10 ms frame's time is its two blocks' sum.
//!
//! Every channel runs all of `media`'s receivers on A-law caller audio (speech with DTMF
//! keys), a recording tap, and either prompt playback (half) or a user-space bridge with a
//! neighbour (half). One thread does the audio work, as the daemon's audio thread does;
//! the control and writer work between ticks is not timed.
//!
//! "Within real time with 50 % headroom" is taken as: the 99th percentile of the time to
//! process one tick on every channel is at most half the tick period (10 ms for 20 ms
//! frames, 5 ms for 10 ms blocks).
//!
//! The measuring thread asks for SCHED_FIFO, as the daemon's audio thread does, so that
//! other processes on a shared machine do not preempt it mid-frame. It also holds the CPUs'
//! wake-up latency at 0 µs, as the daemon does by default (`daemon.cpu_wakeup_latency_us`,
//! `/dev/cpu_dma_latency`; needs root): idle CPUs poll instead of entering idle states that
//! empty the caches. The 120-channel figures of each mode alone are given both with and
//! without that request, measured in alternating stretches of the same run.
//!
//! Channels are answered (off-hook), as they are while playing prompts or bridged, so the
//! FSK caller-ID receiver (which listens only on-hook, between rings) is idle; DTMF, call
//! progress and the voice detector run on every frame.
//!
//! `cargo bench -p benches --bench pipeline` (release profile). Knobs, to show shares:
//! `NO_CPD=1` leaves the call-progress detector out (as on station ports); `ON_HOOK=1`
//! keeps every channel on-hook so the FSK caller-ID receiver runs too; `FRAME_ONLY=1` stops
//! after the 120-channel figures (for comparing two builds back to back).
//!
//! For the paced 120-channel ticks the thread's CPU time is given too
//! (CLOCK_THREAD_CPUTIME_ID): when it is as long as the wall time, a slow tick was slow on
//! the CPU (cold caches, a busy sibling hyperthread), not preempted or stolen.
//!
//! The 120-channel figures are also given for ticks run back to back (no idle time, so the
//! caches stay warm and other processes get little chance to run in between): the pure
//! compute cost, which varies much less from run to run on a shared machine than the
//! paced p99 and is the figure to compare two builds by.

mod pipeline_support;

use std::time::{Duration, Instant};

use pipeline_support::{Bank, hold_cpu_latency, percentile, realtime};
use tel_types::FRAME_SAMPLES;

/// DAHDI's 10 ms block (`block_ms = 10`).
const BLOCK10: usize = FRAME_SAMPLES / 2;

/// Times `ticks` ticks of `bank` after `warmup` untimed ones; returns sorted tick times in µs.
fn run(bank: &mut Bank, warmup: usize, ticks: usize) -> Vec<f64> {
    for _ in 0..warmup {
        bank.tick();
        bank.control();
    }
    let mut times = Vec::with_capacity(ticks);
    for _ in 0..ticks {
        let t0 = Instant::now();
        bank.tick();
        let took = t0.elapsed();
        times.push(took.as_secs_f64() * 1e6);
        bank.control();
        // Idle between ticks as the real loop does, so the kernel's real-time throttling
        // (95 % of each second by default) never stops a SCHED_FIFO thread mid-frame.
        std::thread::sleep(took / 4 + Duration::from_millis(1));
    }
    times.sort_by(f64::total_cmp);
    times
}

/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): time it actually ran, not
/// counting time the kernel or the hypervisor took the CPU away.
fn thread_cpu() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map_or(Duration::ZERO, Duration::from)
}

fn p99_ms(n: usize, block: usize) -> f64 {
    let mut bank = Bank::with_block(n, block);
    let ticks = FRAME_SAMPLES / block;
    let t = run(&mut bank, 20 * ticks, 150 * ticks);
    percentile(&t, 0.99) / 1000.0
}

/// One timed tick of `bank` (wall and thread CPU time, µs), the untimed control work, and
/// idle time as the real loop has between ticks.
fn paced_tick(bank: &mut Bank) -> (f64, f64) {
    let c0 = thread_cpu();
    let t0 = Instant::now();
    bank.tick();
    let took = t0.elapsed();
    let ran = thread_cpu().saturating_sub(c0);
    bank.control();
    idle(took / 4 + Duration::from_millis(1));
    (took.as_secs_f64() * 1e6, ran.as_secs_f64() * 1e6)
}

/// The idle time between paced ticks: a sleep, as the real loop has (other processes may
/// run and empty the caches). `PACE=spin` waits busily instead (nothing else runs on the
/// core, the CPU does not idle); `PACE=evict` waits busily writing over 16 MB (the caches
/// are emptied, the CPU does not idle). The two tell apart what a paced tick loses to cold
/// caches and what to the CPU waking up.
fn idle(d: Duration) {
    thread_local! {
        static EVICT: std::cell::RefCell<(Vec<u64>, usize)> =
            const { std::cell::RefCell::new((Vec::new(), 0)) };
    }
    match std::env::var("PACE").as_deref() {
        Ok("spin") => {
            let t0 = Instant::now();
            while t0.elapsed() < d {
                std::hint::spin_loop();
            }
        }
        Ok("evict") => EVICT.with_borrow_mut(|(buf, at)| {
            if buf.is_empty() {
                buf.resize(2 << 20, 0);
            }
            let t0 = Instant::now();
            while t0.elapsed() < d {
                // The next 256 KB, one write per cache line.
                for _ in 0..4096 {
                    buf[*at] = buf[*at].wrapping_add(1);
                    *at = (*at + 8) % buf.len();
                }
            }
            std::hint::black_box(&buf);
        }),
        _ => std::thread::sleep(d),
    }
}

fn stats(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (percentile(v, 0.5), percentile(v, 0.99), v[v.len() - 1])
}

fn capacity(block: usize) {
    let limit_ms = block as f64 / 8.0 / 2.0;
    let what = format!("{} ms ticks", block / 8);
    // Largest N whose p99 tick time stays within half the tick period.
    let mut lo = 120usize; // known good
    let mut hi = 0usize; // first known bad
    let mut n = 1000usize;
    while hi == 0 && n <= 32_000 {
        let p = p99_ms(n, block);
        println!("  {what}: {n:>6} channels: p99 {p:.2} ms per tick");
        if p <= limit_ms {
            lo = n;
            n *= 2;
        } else {
            hi = n;
        }
    }
    if hi == 0 {
        println!("capacity ({what}): more than {lo} channels per core (search stopped)");
        return;
    }
    while hi - lo > hi / 50 {
        let mid = (lo + hi) / 2;
        let p = p99_ms(mid, block);
        println!("  {what}: {mid:>6} channels: p99 {p:.2} ms per tick");
        if p <= limit_ms {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    println!(
        "capacity ({what}): {lo} channels per core within real time with 50 % headroom \
         (p99 tick time ≤ {limit_ms} ms; goal ≥ 2,000)"
    );
}

fn main() {
    println!("measuring thread on SCHED_FIFO: {}", realtime());
    // As the daemon: CPUs kept out of idle states that empty the caches (see the top).
    let mut latency_held = hold_cpu_latency(0);
    println!(
        "CPU wake-up latency held at 0 µs (as ivrd's default): {}",
        latency_held.is_some()
    );
    // 120 channels: 3,000 frames = one minute of audio, each mode, alternately.
    let mut b20 = Bank::new(120);
    let mut b10 = Bank::with_block(120, BLOCK10);
    run(&mut b20, 50, 0);
    run(&mut b10, 100, 0);
    let frames = 3000;
    let (mut f20, mut c20) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
    let (mut blk10, mut f10, mut c10) = (
        Vec::with_capacity(2 * frames),
        Vec::with_capacity(frames),
        Vec::with_capacity(frames),
    );
    // The frame's first block (transmit only) and its last (the receive side too), apart.
    let (mut first10, mut last10) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
    for _ in 0..frames {
        let (w, c) = paced_tick(&mut b20);
        f20.push(w);
        c20.push(c);
        let (mut w10, mut cpu10) = (0.0, 0.0);
        for k in 0..FRAME_SAMPLES / BLOCK10 {
            let (w, c) = paced_tick(&mut b10);
            blk10.push(w);
            if k == 0 {
                first10.push(w);
            } else {
                last10.push(w);
            }
            w10 += w;
            cpu10 += c;
        }
        f10.push(w10);
        c10.push(cpu10);
    }
    let (p50, p99, max) = stats(&mut f20);
    println!(
        "120 channels, 20 ms blocks, one 20 ms frame each: p50 {p50:.0} µs, p99 {p99:.0} µs, \
         max {max:.0} µs ({:.2} µs per channel-frame at p50; goal p99 < 200 µs)",
        p50 / 120.0
    );
    let (cp50, cp99, cmax) = stats(&mut c20);
    println!(
        "  the same ticks in thread CPU time (without time the CPU was taken away: \
         interrupts, hypervisor steal): p50 {cp50:.0} µs, p99 {cp99:.0} µs, max {cmax:.0} µs"
    );
    let (b50, b99, bmax) = stats(&mut blk10);
    let (q50, q99, qmax) = stats(&mut f10);
    println!(
        "120 channels, 10 ms blocks: one block: p50 {b50:.0} µs, p99 {b99:.0} µs, max {bmax:.0} µs; \
         one 20 ms frame (its two blocks): p50 {q50:.0} µs, p99 {q99:.0} µs, max {qmax:.0} µs \
         (goal p99 < 200 µs)"
    );
    let (x50, x99, _) = stats(&mut first10);
    let (y50, y99, _) = stats(&mut last10);
    println!(
        "  the frame's first block (transmit): p50 {x50:.0} µs, p99 {x99:.0} µs; its last \
         block (receive side too): p50 {y50:.0} µs, p99 {y99:.0} µs"
    );
    let (d50, d99, dmax) = stats(&mut c10);
    println!(
        "  the same in thread CPU time, per 20 ms frame: p50 {d50:.0} µs, p99 {d99:.0} µs, \
         max {dmax:.0} µs"
    );
    println!(
        "  10 ms / 20 ms blocks, per 20 ms frame: p50 x{:.2}, p99 x{:.2}; thread CPU p50 x{:.2}",
        q50 / p50,
        q99 / p99,
        d50 / cp50
    );

    // Each mode on its own, as the daemon runs one: the alternation above makes each bank's
    // ticks follow the other bank's, which empties the caches of a whole second set of
    // 120 channels between ticks and inflates both modes' paced figures. With the wake-up
    // latency request held and without it, in ten alternating stretches, so that whatever
    // else the machine does weighs on both alike.
    for (name, bank) in [("20 ms blocks", &mut b20), ("10 ms blocks", &mut b10)] {
        let per_frame = FRAME_SAMPLES / bank.block;
        let (mut held, mut free) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
        for stretch in 0..20 {
            let hold = stretch % 2 == 0;
            let _request = if hold {
                latency_held.take().or_else(|| hold_cpu_latency(0))
            } else {
                latency_held = None;
                None
            };
            let into = if hold { &mut held } else { &mut free };
            for _ in 0..frames / 10 {
                into.push((0..per_frame).map(|_| paced_tick(bank).0).sum::<f64>());
            }
        }
        latency_held = hold_cpu_latency(0);
        let (h50, h99, hmax) = stats(&mut held);
        let (f50, f99, fmax) = stats(&mut free);
        println!(
            "120 channels, {name} alone (one bank, as in the daemon), per 20 ms frame: \
             p50 {h50:.0} µs, p99 {h99:.0} µs, max {hmax:.0} µs (goal p99 < 200 µs); \
             without the wake-up latency request: p50 {f50:.0} µs, p99 {f99:.0} µs, \
             max {fmax:.0} µs (held / not: p50 x{:.2}, p99 x{:.2})",
            h50 / f50,
            h99 / f99
        );
    }

    // The same work back to back: compute cost with warm caches, modes alternating.
    let (mut hot20, mut hot10) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
    for _ in 0..frames {
        let t0 = Instant::now();
        b20.tick();
        hot20.push(t0.elapsed().as_secs_f64() * 1e6);
        b20.control();
        let mut w = 0.0;
        for _ in 0..FRAME_SAMPLES / BLOCK10 {
            let t0 = Instant::now();
            b10.tick();
            w += t0.elapsed().as_secs_f64() * 1e6;
            b10.control();
        }
        hot10.push(w);
    }
    hot20.sort_by(f64::total_cmp);
    hot10.sort_by(f64::total_cmp);
    println!(
        "120 channels, ticks back to back (warm caches), per 20 ms frame: 20 ms blocks p10 {:.0} µs, \
         p50 {:.0} µs, p99 {:.0} µs; 10 ms blocks p10 {:.0} µs, p50 {:.0} µs, p99 {:.0} µs \
         (p10 x{:.2}, p50 x{:.2})",
        percentile(&hot20, 0.1),
        percentile(&hot20, 0.5),
        percentile(&hot20, 0.99),
        percentile(&hot10, 0.1),
        percentile(&hot10, 0.5),
        percentile(&hot10, 0.99),
        percentile(&hot10, 0.1) / percentile(&hot20, 0.1),
        percentile(&hot10, 0.5) / percentile(&hot20, 0.5),
    );
    if std::env::var_os("FRAME_ONLY").is_some() {
        return;
    }
    capacity(FRAME_SAMPLES);
    capacity(BLOCK10);
}
