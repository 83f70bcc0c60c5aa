//! The simulated card's real-time clock: a 1 ms `timerfd` tick driving the 8+8 analog board
//! with calls, for a few seconds of wall time. Reports board time against the monotonic
//! clock (drift), how late the loop woke, and the ticks per wakeup.
//!
//! Run: `cargo bench -p benches --bench simboard_realtime` (optionally `-- <seconds>`).

use std::path::Path;
use std::time::{Duration, Instant};

use simboard::{
    BoardOptions, HoldTime, LoadGenerator, LoadProfile, Profile, RealTimeClock, SimBoard, personas,
};

fn main() {
    let secs: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let profile = Profile::load(root.join("firmware-stubs/analog-8fxo-8fxs.toml")).unwrap();
    let mut board = SimBoard::with_options(
        profile,
        BoardOptions {
            capture_audio: false,
            seed: 3,
        },
    );
    board.set_load(LoadGenerator::new(LoadProfile {
        calls_per_hour: 3600.0,
        hold: HoldTime::Fixed { s: 30.0 },
        mix: vec![(personas::impatient(), 1.0)],
        patience: None,
        seed: 3,
    }));
    // Channels are left untaken: the board's own receive buffers overflow, which is fine here.
    let mut clock = RealTimeClock::new().expect("timerfd");
    let start = Instant::now();
    let mut wakeups = 0u64;
    let mut max_batch = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        let n = clock.wait_and_tick(&mut board).expect("poll");
        wakeups += 1;
        max_batch = max_batch.max(n);
    }
    let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
    let board_ms = board.now_ms() as f64;
    println!("simboard_realtime: {secs} s with a 1 ms timerfd tick (16-port analog board)");
    println!(
        "  board time {board_ms:.0} ms, wall {wall_ms:.1} ms: drift {:+.1} ms ({:+.1} ppm)",
        board_ms - wall_ms,
        (board_ms - wall_ms) / wall_ms * 1e6
    );
    println!(
        "  {wakeups} wakeups, {:.2} ticks per wakeup, largest catch-up {max_batch} ticks; calls offered {}",
        board_ms / wakeups as f64,
        board.stats().offered
    );
}
