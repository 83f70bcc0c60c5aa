//! `ivrd audio-check`: runs the real audio loop in real time over a timer-paced software
//! board with every pipeline busy, and reports whether this machine keeps the block
//! deadlines (20 ms, or 10 ms with `--block-ms 10`; wake-up lateness, service time, missed
//! deadlines).
//!
//! Load per port: every receiver on caller audio (speech-like audio with DTMF keys), a
//! recording tap drained by a writer thread, and either prompt playback in a loop or (half
//! of the ports) a user-space bridge with a neighbour.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dsp::dtmf_gen::{DtmfGenConfig, DtmfGenerator};
use media::{Config, ControlHandle, PromptTable, TapConsumer};
use tel_types::{ChannelId, DigitSet, Law, MediaCommand, MediaEvent, RecordingId};

use super::{Line, Options, WaitMode, rt, spawn_ticked, timed};

/// Arguments of `ivrd audio-check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Ports on the software board.
    #[arg(long, default_value_t = 120)]
    ports: u16,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Wait with level-triggered epoll instead of edge-triggered epoll.
    #[arg(long)]
    level: bool,
    /// Do not ask for SCHED_FIFO, locked memory and a CPU wake-up latency.
    #[arg(long)]
    no_rt: bool,
    /// The CPU wake-up latency to hold while the check runs, µs, or `off` (as the daemon's
    /// `daemon.cpu_wakeup_latency_us`).
    #[arg(long, default_value = "0")]
    cpu_wakeup_latency_us: ivrd::config::WakeupLatency,
    /// Pin the audio thread to this CPU (as the daemon's `daemon.audio_cpu`).
    #[arg(long)]
    audio_cpu: Option<usize>,
    /// Silent blocks written ahead of each port's first (as `[[boards]] tx_prime_blocks`).
    #[arg(long, default_value_t = 0)]
    tx_prime_blocks: u8,
    /// Which board: a bare timer-paced board, or the simulated card in real time with
    /// callers (its ports come from `--profile`; `--ports` is ignored).
    #[arg(long, value_enum, default_value_t = BoardKind::Sim)]
    board: BoardKind,
    /// The simulated card's profile.
    #[arg(long, default_value = "firmware-stubs/install-120.toml")]
    profile: std::path::PathBuf,
    /// The board's I/O block in ms: 20, or 10 (80-sample blocks, as DAHDI with
    /// `block_ms = 10`, on either board).
    #[arg(long, default_value_t = 20, value_parser = block_ms_parser())]
    block_ms: u32,
}

/// `--block-ms`: 10 or 20, nothing else.
fn block_ms_parser() -> impl clap::builder::TypedValueParser<Value = u32> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["10", "20"]).map(|s| if s == "10" { 10 } else { 20 })
}

/// The board `audio-check` runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BoardKind {
    /// Every port hears a loop of caller audio, paced by one timerfd.
    Timed,
    /// The simulated card (`drivers/simboard`) on its own 1 ms real-time clock, with calls
    /// from its load generator.
    Sim,
}

/// Why the check failed.
#[derive(Debug)]
pub(crate) enum CheckError {
    /// The board's timer could not be set up.
    Timer(nix::Error),
    /// The simulated card's profile could not be loaded.
    Profile(simboard::ProfileError),
    /// The audio thread could not start or its poll failed.
    Io(std::io::Error),
    /// The audio thread panicked.
    Panicked,
    /// The simulated card refused the block size.
    Block(simboard::SimError),
    /// Frame deadlines were missed.
    Missed {
        /// Ticks the loop woke for too late.
        missed_wakeups: u64,
        /// Ticks whose servicing ran past the next tick.
        overran: u64,
    },
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Timer(e) => write!(f, "audio-check: board timer: {e}"),
            Self::Profile(e) => write!(f, "audio-check: {e}"),
            Self::Io(e) => write!(f, "audio-check: audio thread: {e}"),
            Self::Panicked => f.write_str("audio-check: the audio thread panicked"),
            Self::Block(e) => write!(f, "audio-check: {e}"),
            Self::Missed {
                missed_wakeups,
                overran,
            } => write!(
                f,
                "audio-check: missed frame deadlines ({missed_wakeups} late wake-ups, \
                 {overran} ticks serviced past the next one)"
            ),
        }
    }
}

impl std::error::Error for CheckError {}

/// Speech-like audio: a few harmonics of a gliding pitch, amplitude-modulated at syllable
/// rate, with pauses.
fn speech(samples: usize, seed: u32) -> Vec<i16> {
    (0..samples)
        .map(|i| {
            let t = i as f32 / 8000.0;
            let pitch = 120.0 + 40.0 * (t * 0.7 + seed as f32).sin();
            let syllable = (t * 4.0 * std::f32::consts::TAU).sin().max(0.0);
            let pause = if (t + seed as f32 * 0.37) % 3.0 < 2.2 {
                1.0
            } else {
                0.0
            };
            let phase = std::f32::consts::TAU * pitch * t;
            let voice: f32 = (1..=5).map(|h| (phase * h as f32).sin() / h as f32).sum();
            (6000.0 * syllable * pause * voice) as i16
        })
        .collect()
}

/// Ten seconds of what callers send: speech with a DTMF key every two seconds.
fn caller_audio(law: Law) -> Vec<u8> {
    let mut lin = speech(80_000, 1);
    let mut dtmf = DtmfGenerator::new(DtmfGenConfig::default());
    for (k, key) in "1234#".chars().enumerate() {
        dtmf.push_str(&key.to_string());
        let at = 12_000 + k * 16_000;
        let mut burst = [0i16; 1600];
        dtmf.fill(&mut burst);
        lin[at..at + 1600].copy_from_slice(&burst);
    }
    let mut coded = vec![0u8; lin.len() * law.bytes_per_sample()];
    dsp::g711::encode_slice(law, &lin, &mut coded);
    coded
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn summary(name: &str, mut values: Vec<u32>) -> String {
    values.sort_unstable();
    format!(
        "{name}: p50 {} µs, p99 {} µs, p99.9 {} µs, max {} µs ({} ticks)",
        percentile(&values, 0.5),
        percentile(&values, 0.99),
        percentile(&values, 0.999),
        values.last().copied().unwrap_or(0),
        values.len()
    )
}

/// Total CPU steal time of the machine in ms (`/proc/stat`), if readable.
fn steal_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?;
    // cpu user nice system idle iowait irq softirq steal ...; in USER_HZ (100 per second).
    let steal: u64 = cpu.split_whitespace().nth(8)?.parse().ok()?;
    Some(steal * 10)
}

/// What the watchdog thread saw.
#[derive(Debug, Default)]
struct WatchdogLog {
    /// SCHED_FIFO was granted.
    fifo: bool,
    /// It ran on the audio thread's CPU.
    pinned: bool,
    wakeups: u64,
    /// Wake-ups more than [`STALL_NS`] late: (due, woke), CLOCK_MONOTONIC ns.
    stalls: Vec<(i64, i64)>,
    max_late_ns: i64,
}

/// A watchdog wake-up this late counts as a stall.
const STALL_NS: i64 = 2_000_000;
/// The watchdog's priority: above the audio thread's 50, so nothing in this process delays
/// it; when it is late too, the whole machine stood still.
const WATCHDOG_PRIORITY: u8 = 60;

/// Starts a thread that wakes every 1 ms on an absolute timer and notes every wake-up more
/// than 2 ms late, until `stop`. A wake-up of the audio loop that is late while the
/// watchdog is late too was the machine's (a hypervisor or SMI pause), not the loop's.
/// On `cpu` (the audio thread's, when it is pinned) it sees exactly the pauses of the
/// audio thread's CPU; unpinned, a virtual machine's CPUs can be paused one at a time, so
/// a stall it does not share may still have been the host's.
fn start_watchdog(
    stop: Arc<AtomicBool>,
    cpu: Option<usize>,
) -> std::io::Result<std::thread::JoinHandle<WatchdogLog>> {
    use nix::sys::time::{TimeSpec, TimeValLike};
    use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
    const PERIOD_NS: i64 = 1_000_000;
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            let pinned = cpu.is_some_and(|n| rt::pin(n).is_ok());
            let mut log = WatchdogLog {
                fifo: rt::set_fifo(WATCHDOG_PRIORITY).is_ok(),
                pinned,
                ..WatchdogLog::default()
            };
            let Ok(timer) = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::empty()) else {
                return log;
            };
            let start = timed::now_ns() + PERIOD_NS;
            if timer
                .set(
                    Expiration::IntervalDelayed(
                        TimeSpec::nanoseconds(start),
                        TimeSpec::nanoseconds(PERIOD_NS),
                    ),
                    TimerSetTimeFlags::TFD_TIMER_ABSTIME,
                )
                .is_err()
            {
                return log;
            }
            let mut expired = 0i64;
            let mut buf = [0u8; 8];
            while !stop.load(Ordering::Relaxed) {
                let Ok(8) = nix::unistd::read(&timer, &mut buf) else {
                    break;
                };
                let woke = timed::now_ns();
                let due = start + expired * PERIOD_NS;
                expired += i64::try_from(u64::from_ne_bytes(buf)).unwrap_or(1);
                let late = (woke - due).max(0);
                log.wakeups += 1;
                log.max_late_ns = log.max_late_ns.max(late);
                if late > STALL_NS {
                    log.stalls.push((due, woke));
                }
            }
            log
        })
}

/// How many of the loop's `late` wake-ups (woke at, late by) fell at least half inside a
/// stall of the watchdog's.
fn late_during_stalls(late: &[(i64, i64)], stalls: &[(i64, i64)]) -> usize {
    late.iter()
        .filter(|&&(at, by)| {
            stalls.iter().any(|&(due, woke)| {
                let overlap = at.min(woke) - (at - by).max(due);
                overlap * 2 >= by
            })
        })
        .count()
}

/// Drains every recording tap until told to stop; returns frames received.
fn writer(mut taps: Vec<TapConsumer>, stop: Arc<AtomicBool>) -> u64 {
    let mut frames = 0;
    while !stop.load(Ordering::Relaxed) {
        for tap in &mut taps {
            while tap.pop().is_some() {
                frames += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    frames
}

/// What the control side saw.
#[derive(Debug, Default)]
struct Seen {
    digits: u64,
    answered: u64,
    busy_hangups: u64,
    other_events: u64,
    lost: u64,
}

/// Runs the check and prints the report.
///
/// # Errors
/// Setting up failed, or frame deadlines were missed.
pub(crate) fn run(args: &Args) -> Result<(), CheckError> {
    let ticks_per_s = 1000 / u64::from(args.block_ms.max(1));
    let log_ticks = usize::try_from(args.seconds * ticks_per_s + 500).unwrap_or(usize::MAX);
    match args.board {
        BoardKind::Timed => {
            let law = Law::ALaw;
            let audio: &'static [u8] = Box::leak(caller_audio(law).into_boxed_slice());
            let block = args.block_ms as usize * tel_types::SAMPLES_PER_MS as usize;
            let (channels, ticker, log) =
                timed::board_with_block(args.ports, law, audio, log_ticks, block)
                    .map_err(CheckError::Timer)?;
            println!(
                "board: timed, {} ports, A-law, {block}-sample blocks ({} ms ticks)",
                args.ports, args.block_ms
            );
            drive(
                args,
                channels,
                ticker,
                &log,
                &Arc::new(AtomicBool::new(false)),
            )
        }
        BoardKind::Sim => run_sim(args, log_ticks),
    }
}

fn run_sim(args: &Args, log_ticks: usize) -> Result<(), CheckError> {
    use simboard::{BoardOptions, HoldTime, LoadGenerator, LoadProfile, Profile, SimBoard};
    let profile = Profile::load(&args.profile).map_err(CheckError::Profile)?;
    let name = profile.name.clone();
    let mut board = SimBoard::with_options(
        profile,
        BoardOptions {
            capture_audio: false,
            seed: 2024,
        },
    );
    board.set_load(LoadGenerator::new(LoadProfile {
        calls_per_hour: 1800.0,
        hold: HoldTime::LogNormal {
            median_s: 120.0,
            sigma: 0.5,
        },
        mix: vec![
            (
                simboard::personas::order_status_caller("20241122", None),
                5.0,
            ),
            (simboard::personas::wants_agent(None), 2.0),
            (simboard::personas::sloppy_keys("20240101", None), 2.0),
            (simboard::personas::impatient(), 1.0),
        ],
        patience: None,
        seed: 7,
    }));
    let block = args.block_ms as usize * tel_types::SAMPLES_PER_MS as usize;
    let mut channels = board.take_all_channels();
    for c in &mut channels {
        c.set_io_block(block).map_err(CheckError::Block)?;
    }
    println!(
        "board: simulated card \"{name}\" ({}), {} ports, {block}-sample blocks ({} ms ticks), 1,800 calls/hour offered",
        args.profile.display(),
        channels.len(),
        args.block_ms
    );
    let mut clock = simboard::RealTimeClock::new().map_err(CheckError::Timer)?;
    let board_start = timed::now_ns();
    // Our tick comes 5 ms after each of the card's block boundaries.
    let (ticker, log) =
        timed::sim_ticker(board_start, block, log_ticks).map_err(CheckError::Timer)?;
    let stop = Arc::new(AtomicBool::new(false));
    let board_thread = {
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("simboard".into())
            .spawn(move || {
                use std::os::fd::AsFd;
                while !stop.load(Ordering::Relaxed) {
                    let mut fds = [nix::poll::PollFd::new(
                        clock.as_fd(),
                        nix::poll::PollFlags::POLLIN,
                    )];
                    let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16));
                    clock.tick(&mut board);
                }
                board.stats()
            })
            .map_err(CheckError::Io)?
    };
    // One stop flag: the card stops producing when the audio loop stops reading.
    let result = drive(args, channels, ticker, &log, &stop);
    stop.store(true, Ordering::Relaxed);
    let stats = board_thread.join().map_err(|_| CheckError::Panicked)?;
    println!(
        "card: calls offered {}, answered {}, blocked {}, abandoned {}; frames {}, rx overruns {}, tx underruns {}",
        stats.offered,
        stats.answered,
        stats.blocked,
        stats.abandoned,
        stats.frames,
        stats.rx_overruns,
        stats.tx_underruns
    );
    result
}

/// Runs the audio loop over `channels` for `args.seconds` with every pipeline busy, plays
/// the control thread, and reports.
fn drive<C>(
    args: &Args,
    channels: Vec<C>,
    ticker: timed::TimedTicker,
    log: &timed::TickLog,
    stop: &Arc<AtomicBool>,
) -> Result<(), CheckError>
where
    C: tel_types::board::VoiceChannel + super::HwBridge + Send + 'static,
{
    let law = channels.first().map_or(Law::ALaw, |c| c.law());
    let mut table = PromptTable::new();
    let prompts: Vec<_> = (0..4)
        .map(|k| table.push(&speech(24_000 + 4_000 * k, k as u32 + 7)))
        .collect();
    let table: &'static PromptTable = Box::leak(Box::new(table));

    let mut lines = Vec::with_capacity(channels.len());
    let mut handles: Vec<ControlHandle> = Vec::with_capacity(channels.len());
    let mut stations = Vec::with_capacity(channels.len());
    let mut taps = Vec::with_capacity(channels.len());
    for dev in channels {
        let mut c = Config::new(ChannelId(dev.number()), table);
        c.law = law;
        c.listen_tap_frames = 0;
        let (pipe, mut ctl) = media::channel(c);
        taps.extend(ctl.take_record_tap());
        stations.push(dev.port_kind() == tel_types::board::PortKind::FxsStation);
        lines.push(Line {
            dev,
            pipe,
            hw_bridge: true,
        });
        handles.push(ctl);
    }
    let ids: Vec<ChannelId> = handles.iter().map(ControlHandle::id).collect();

    // Half of the ports are bridged in pairs, the other half play prompts; all record.
    let half = handles.len() / 2;
    for (i, ctl) in handles.iter_mut().enumerate() {
        let _ = ctl.try_send(MediaCommand::StartRecording {
            slot: RecordingId(i as u32),
            max_ms: 0,
            end_on_silence_ms: 0,
            stop_keys: DigitSet::EMPTY,
        });
        if i < half && i % 2 == 0 {
            let _ = ctl.try_send(MediaCommand::Bridge(ids[i + 1]));
        } else if i >= half {
            let _ = ctl.try_send(MediaCommand::Play {
                prompt: prompts[i % prompts.len()],
                barge_in: DigitSet::EMPTY,
            });
        }
    }

    let mut poll = mio::Poll::new().map_err(CheckError::Io)?;
    const WAKE: mio::Token = mio::Token(0);
    let waker = Arc::new(mio::Waker::new(poll.registry(), WAKE).map_err(CheckError::Io)?);
    let options = Options {
        capacity: None,
        wait: if args.level {
            WaitMode::Level
        } else {
            WaitMode::Edge
        },
        rt_priority: (!args.no_rt).then_some(50),
        lock_memory: !args.no_rt,
        cpu: args.audio_cpu,
        tx_prime_blocks: args.tx_prime_blocks,
        cpu_latency_us: args.cpu_wakeup_latency_us.as_us().filter(|_| !args.no_rt),
        poll_timeout_ms: 100,
    };
    let writer_stop = Arc::new(AtomicBool::new(false));
    let writer_thread = {
        let stop = Arc::clone(&writer_stop);
        std::thread::spawn(move || writer(taps, stop))
    };
    let (audio_thread, stats) = spawn_ticked(
        lines,
        None,
        Box::new(ticker),
        waker,
        Arc::clone(stop),
        options,
    )
    .map_err(CheckError::Io)?;

    println!(
        "audio-check: {} ports, {} s, {:?} wait, {} ports bridged in pairs, the rest playing prompts, all recording, every receiver on",
        handles.len(),
        args.seconds,
        options.wait,
        half / 2 * 2
    );
    let steal_before = steal_ms();
    let watchdog_stop = Arc::new(AtomicBool::new(false));
    let watchdog =
        start_watchdog(Arc::clone(&watchdog_stop), args.audio_cpu).map_err(CheckError::Io)?;
    let started = Instant::now();
    let mut events = mio::Events::with_capacity(4);
    let mut seen = Seen::default();
    while started.elapsed() < Duration::from_secs(args.seconds) {
        let _ = poll.poll(&mut events, Some(Duration::from_millis(100)));
        for (i, ctl) in handles.iter_mut().enumerate() {
            while let Some(ev) = ctl.poll_event() {
                match ev {
                    MediaEvent::Digit(_) => seen.digits += 1,
                    MediaEvent::EventsLost { count } => seen.lost += u64::from(count),
                    MediaEvent::PlaybackDone { .. } => {
                        let _ = ctl.try_send(MediaCommand::Play {
                            prompt: prompts[i % prompts.len()],
                            barge_in: DigitSet::EMPTY,
                        });
                        seen.other_events += 1;
                    }
                    MediaEvent::Line {
                        event: tel_types::LineEvent::RingOffHook,
                        ..
                    } if !stations[i] => {
                        // A call on a trunk: answer it.
                        let _ = ctl.try_send(MediaCommand::SetHook(tel_types::Hook::OffHook));
                        seen.answered += 1;
                    }
                    MediaEvent::Progress {
                        tone: tel_types::ProgressTone::Busy,
                        ..
                    } if !stations[i] => {
                        // The far end hung up (busy tone, no polarity reversal): release.
                        let _ = ctl.try_send(MediaCommand::SetHook(tel_types::Hook::OnHook));
                        seen.busy_hangups += 1;
                    }
                    _ => seen.other_events += 1,
                }
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    watchdog_stop.store(true, Ordering::Relaxed);
    let watchdog = watchdog.join().map_err(|_| CheckError::Panicked)?;
    let result = audio_thread.join().map_err(|_| CheckError::Panicked)?;
    writer_stop.store(true, Ordering::Relaxed);
    let recorded = writer_thread.join().unwrap_or(0);
    result.map_err(CheckError::Io)?;

    let ticks = log.ticks.load(Ordering::Relaxed);
    let missed_wakeups = log.missed_wakeups.load(Ordering::Relaxed);
    let overran = log.overran.load(Ordering::Relaxed);
    let frames = stats.frames.load(Ordering::Relaxed);
    println!(
        "real-time: SCHED_FIFO {}, memory locked {}, CPU wake-up latency {}, {}",
        stats.rt_fifo.load(Ordering::Relaxed),
        stats.memory_locked.load(Ordering::Relaxed),
        match stats.cpu_latency_us.0.load(Ordering::Relaxed) {
            -1 => "not held".to_owned(),
            us => format!("held at {us} µs"),
        },
        match stats.pinned_cpu.0.load(Ordering::Relaxed) {
            -1 => "not pinned".to_owned(),
            n => format!("pinned to CPU {n}"),
        }
    );
    println!(
        "ticks {ticks}, frames {frames} ({:.1} per tick), events pending (errno 500) {}, digits heard {}, calls answered {}, released on busy tone {}, other events {}, events lost {}, recorded frames {recorded}, channel errors {}, silent transmit blocks left out after a late wake-up (catch-up trimming) {}",
        frames as f64 / ticks.max(1) as f64,
        stats.events_pending.load(Ordering::Relaxed),
        seen.digits,
        seen.answered,
        seen.busy_hangups,
        seen.other_events,
        seen.lost,
        stats.channel_errors.load(Ordering::Relaxed),
        stats.tx_trimmed.load(Ordering::Relaxed),
    );
    println!(
        "{}",
        summary("wake-up lateness", log.series(&log.lateness_us))
    );
    println!(
        "{}",
        summary("service time, all ports", log.series(&log.service_us))
    );
    println!("missed wake-ups {missed_wakeups}, ticks serviced past the next tick {overran}");
    let late = log.late_wakeups();
    println!(
        "watchdog thread (SCHED_FIFO {WATCHDOG_PRIORITY}: {}, 1 ms timer, {}): {} wake-ups, {} more than 2 ms late, max {} µs; of the loop's {} wake-up(s) a whole tick or more late, {} came while the watchdog was stalled too (the CPU stood still, not the loop)",
        watchdog.fifo,
        if watchdog.pinned {
            "on the audio thread's CPU"
        } else {
            "on any CPU"
        },
        watchdog.wakeups,
        watchdog.stalls.len(),
        watchdog.max_late_ns / 1000,
        late.len(),
        late_during_stalls(&late, &watchdog.stalls),
    );
    if let (Some(a), Some(b)) = (steal_before, steal_ms()) {
        println!(
            "CPU time stolen by the hypervisor during the run (all CPUs, /proc/stat): {} ms",
            b.saturating_sub(a)
        );
    }
    if missed_wakeups > 0 || overran > 0 {
        return Err(CheckError::Missed {
            missed_wakeups,
            overran,
        });
    }
    println!("audio-check: no missed frame deadlines");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::late_during_stalls;

    const MS: i64 = 1_000_000;

    #[test]
    fn a_late_wakeup_counts_as_the_machines_only_inside_a_watchdog_stall() {
        // The loop woke at 100 ms, 12 ms late (stalled from 88 to 100 ms).
        let late = [(100 * MS, 12 * MS)];
        // The watchdog was due at 89 ms and woke at 100 ms: the same stall.
        assert_eq!(late_during_stalls(&late, &[(89 * MS, 100 * MS)]), 1);
        // A watchdog stall elsewhere, or one covering under half of it, does not count.
        assert_eq!(late_during_stalls(&late, &[(40 * MS, 52 * MS)]), 0);
        assert_eq!(late_during_stalls(&late, &[(96 * MS, 100 * MS)]), 0);
        assert_eq!(late_during_stalls(&late, &[]), 0);
        // Two late wake-ups, one inside a stall.
        let late = [(100 * MS, 12 * MS), (300 * MS, 11 * MS)];
        assert_eq!(late_during_stalls(&late, &[(290 * MS, 301 * MS)]), 1);
    }
}
