//! `ivrd run`: the daemon in the foreground, logging to stderr (for systemd).
//!
//! Threads: the board's (simulated card only), `audio-rt`, the control loop (this thread),
//! `hook-N` workers, `cdr-writer`, and the metrics server.
//!
//! Signals (blocked everywhere, read from a signalfd by the control loop):
//! - `SIGHUP` reloads the scripts: new calls get the new version, calls in progress keep
//!   theirs; a script that does not load is refused and logged and the old one runs on.
//! - `SIGTERM`/`SIGINT` stop answering, let calls finish up to `daemon.grace_period_s`, hang
//!   up the rest, flush the CDRs, and exit 0.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ivrd::cdr::CdrWriter;
use ivrd::config::{BoardKind, Config, HookPreset};
use ivrd::metrics::{Metrics, MetricsServer};
use order_hooks::{GuardConfig, Guarded, Preset, Shop, ShopConfig, SqlShop};

use crate::control::runtime::{self, Flow, Sig};
use crate::control::{self, Controller};

/// Run the daemon in the foreground.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The configuration file.
    #[arg(long, default_value = "/etc/ivrd/ivrd.toml")]
    config: PathBuf,
    /// Log for the systemd journal (no timestamps, priority prefixes).
    #[arg(long)]
    journal: bool,
}

fn shop(cfg: &Config) -> Result<Arc<dyn Shop>, String> {
    let h = &cfg.order_hooks;
    let url = match (&h.url, &h.path) {
        (Some(u), _) => u.clone(),
        (None, Some(p)) => format!("sqlite:{}", p.display()),
        (None, None) => return Err("order_hooks: neither url nor path".into()),
    };
    let preset = match h.preset {
        HookPreset::Ecshop => Preset::Ecshop {
            prefix: h.table_prefix.clone().unwrap_or_else(|| "ecs_".into()),
        },
        _ => Preset::Generic,
    };
    let mut sc = ShopConfig::new(&url, preset);
    sc.pool_size = h.pool_size.max(1) as usize;
    let sql = SqlShop::open(&sc).map_err(|e| format!("order hooks: {e}"))?;
    Ok(Arc::new(Guarded::new(sql, GuardConfig::default())))
}

/// Reloads the scripts of the config at `path` into the controller, logging what happened
/// to each, and what else changed from `current` (applied only after a restart for now).
fn reload(ctl: &mut Controller, path: &std::path::Path, current: &Config) {
    let cfg = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            for err in &e.0 {
                log::error!("reload refused, the running configuration stays: {err}");
            }
            return;
        }
    };
    for change in current.reload_plan(&cfg) {
        if change.key.starts_with("scripts") {
            continue;
        }
        log::warn!(
            "reload: {change} — this version applies only scripts on reload; restart to apply it"
        );
    }
    for name in ctl.script_names() {
        let Some(p) = cfg.scripts.get(&name) else {
            log::warn!("reload: script `{name}` is no longer configured; the old one runs on");
            continue;
        };
        match control::setup::load_script(p) {
            Ok(s) => match ctl.reload_script(&name, s) {
                Ok(v) => log::info!("reload: script `{name}` version {v} takes new calls"),
                Err(e) => log::error!("reload: script `{name}` refused, the old one runs on: {e}"),
            },
            Err(e) => log::error!(
                "reload: script `{name}` ({}) refused, the old one runs on:\n{e}",
                p.display()
            ),
        }
    }
}

/// Runs the daemon; the process exit code.
pub(crate) fn run(a: &RunArgs) -> i32 {
    // Before any thread exists, so every thread inherits the blocked mask.
    let sfd = match runtime::block_signals() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ivrd run: signals: {e}");
            return 2;
        }
    };
    let cfg = match Config::load(&a.config) {
        Ok(c) => c,
        Err(e) => {
            for err in &e.0 {
                eprintln!("{err}");
            }
            return 2;
        }
    };
    let _ = cfg
        .logging
        .builder(a.journal, std::env::var("RUST_LOG").ok().as_deref())
        .try_init();
    match run_inner(a, &cfg, &sfd) {
        Ok(()) => 0,
        Err(e) => {
            log::error!("{e}");
            eprintln!("ivrd run: {e}");
            1
        }
    }
}

fn run_inner(a: &RunArgs, cfg: &Config, sfd: &nix::sys::signalfd::SignalFd) -> Result<(), String> {
    use crate::audio::{self, Options};
    let board_cfg = cfg.boards.first().ok_or("no [[boards]] configured")?;
    let shop = shop(cfg)?;
    let mut poll = mio::Poll::new().map_err(|e| e.to_string())?;
    let waker =
        Arc::new(mio::Waker::new(poll.registry(), runtime::WAKE).map_err(|e| e.to_string())?);
    let stop = Arc::new(AtomicBool::new(false));
    let epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let options = Options {
        lock_memory: false,
        ..Options::default()
    };
    let (mut ctl, audio_thread, audio_stats, board_thread, metrics, recorder) = match board_cfg.kind
    {
        BoardKind::Sim => {
            let path = board_cfg
                .profile
                .clone()
                .ok_or("sim board without a profile")?;
            let profile = simboard::Profile::load(&path).map_err(|e| e.to_string())?;
            let metrics = Arc::new(Metrics::new(profile.ports().count()));
            let mut board = simboard::SimBoard::with_options(
                profile,
                simboard::BoardOptions {
                    capture_audio: false,
                    seed: board_cfg.load.as_ref().map_or(1, |l| l.seed),
                },
            );
            if let Some(load) = &board_cfg.load {
                let orders: Vec<String> = order_hooks::sample_shop::orders(20_000, 1)
                    .step_by(97)
                    .take(64)
                    .map(|o| o.order_no)
                    .collect();
                control::virt::populate(&mut board, cfg, load, &orders);
            }
            let channels = board.take_all_channels();
            let (lines, ctl, taps) = control::setup::build(cfg, channels, &metrics, epoch)?;
            let recorder = control::recorder::Recorder::spawn(
                taps.scripts,
                taps.calls,
                taps.names,
                &cfg.recordings.dir,
            )
            .map_err(|e| e.to_string())?;
            let mut clock = simboard::RealTimeClock::new().map_err(|e| e.to_string())?;
            let (ticker, _log) = audio::timed::frame_ticker(audio::timed::now_ns() + 25_000_000, 0)
                .map_err(|e| e.to_string())?;
            let board_stop = Arc::clone(&stop);
            let board_thread = std::thread::Builder::new()
                .name("simboard".into())
                .spawn(move || {
                    use std::os::fd::AsFd;
                    while !board_stop.load(Ordering::Relaxed) {
                        let mut fds = [nix::poll::PollFd::new(
                            clock.as_fd(),
                            nix::poll::PollFlags::POLLIN,
                        )];
                        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16));
                        clock.tick(&mut board);
                    }
                })
                .map_err(|e| e.to_string())?;
            let (audio_thread, audio_stats) = audio::spawn_ticked(
                lines,
                Box::new(ticker),
                Arc::clone(&waker),
                Arc::clone(&stop),
                options,
            )
            .map_err(|e| e.to_string())?;
            (
                ctl,
                audio_thread,
                audio_stats,
                Some(board_thread),
                metrics,
                recorder,
            )
        }
        BoardKind::Dahdi => {
            let mut numbers: Vec<u16> = cfg
                .trunks
                .iter()
                .flat_map(|t| t.channels.channels())
                .chain(cfg.stations.iter().flat_map(|s| s.channels.channels()))
                .collect();
            numbers.sort_unstable();
            numbers.dedup();
            let mut channels = Vec::with_capacity(numbers.len());
            for n in numbers {
                channels
                    .push(dahdi::Channel::open(n).map_err(|e| format!("DAHDI channel {n}: {e}"))?);
            }
            let metrics = Arc::new(Metrics::new(channels.len()));
            let (lines, ctl, taps) = control::setup::build(cfg, channels, &metrics, epoch)?;
            let recorder = control::recorder::Recorder::spawn(
                taps.scripts,
                taps.calls,
                taps.names,
                &cfg.recordings.dir,
            )
            .map_err(|e| e.to_string())?;
            let (audio_thread, audio_stats) =
                audio::spawn_channel_fds(lines, Arc::clone(&waker), Arc::clone(&stop), options)
                    .map_err(|e| e.to_string())?;
            (ctl, audio_thread, audio_stats, None, metrics, recorder)
        }
    };
    let server = if cfg.metrics.enabled {
        match MetricsServer::start(cfg.metrics.listen.0, Arc::clone(&metrics)) {
            Ok(s) => {
                log::info!("metrics on http://{}/metrics", s.local_addr());
                Some(s)
            }
            Err(e) => {
                log::warn!(
                    "metrics server on {}: {e}; running without",
                    cfg.metrics.listen.0
                );
                None
            }
        }
    } else {
        None
    };
    let writer = CdrWriter::spawn(cfg.cdr.writer_config(), Arc::clone(&metrics))
        .map_err(|e| format!("CDR store: {e}"))?;
    let sink = writer.sink();
    let workers = control::hooks::Workers::spawn(
        shop,
        cfg.order_hooks.pool_size as usize,
        Duration::from_millis(u64::from(cfg.order_hooks.timeout_ms)),
        Arc::clone(&waker),
    )
    .map_err(|e| e.to_string())?;
    log::info!("ivrd running: {} channel(s)", metrics.channels());
    let start = std::time::Instant::now();
    let grace_ms = u64::from(cfg.daemon.grace_period_s) * 1000;
    let mut stopping_since: Option<u64> = None;
    let mut hung_up_at: Option<u64> = None;
    let mut bridge_log = audio::BridgeFailureLog::default();
    let result = runtime::control_loop(
        &mut ctl,
        &mut poll,
        Some(sfd),
        &workers,
        &sink,
        start,
        |ctl, now, sig| {
            let ms = now.as_millis();
            bridge_log.check(&audio_stats, ms);
            match sig {
                Some(Sig::Hup) => reload(ctl, &a.config, cfg),
                Some(Sig::Term) if stopping_since.is_none() => {
                    log::info!(
                        "stopping: no new calls; {} s for calls in progress",
                        grace_ms / 1000
                    );
                    ctl.stop_answering();
                    stopping_since = Some(ms);
                }
                _ => {}
            }
            if let Some(t) = stopping_since {
                if hung_up_at.is_none() && (ctl.all_idle() || ms >= t + grace_ms) {
                    if !ctl.all_idle() {
                        log::info!("grace period over: hanging up the calls left");
                    }
                    ctl.hang_up_all(now);
                    hung_up_at = Some(ms);
                }
                if let Some(h) = hung_up_at {
                    if ctl.all_idle() && ms >= h + 200 || ms >= h + 3_000 {
                        return Flow::Stop;
                    }
                }
            }
            Flow::Continue
        },
    );
    ctl.step(ivr::Instant::from_millis(start.elapsed().as_millis() as u64));
    for cdr in ctl.take_cdrs() {
        sink.submit(cdr);
    }
    stop.store(true, Ordering::Relaxed);
    let _ = audio_thread.join();
    let (in_kernel, refused) = (
        audio_stats.hw_bridges.load(Ordering::Relaxed),
        audio_stats.hw_bridge_failures.load(Ordering::Relaxed),
    );
    if in_kernel + refused > 0 {
        log::info!("kernel bridges: {in_kernel} ({refused} refused and bridged in user space)");
    }
    if let Some(b) = board_thread {
        let _ = b.join();
    }
    workers.shutdown();
    let recordings = recorder.shutdown();
    log::info!("recordings written: {recordings}");
    drop(sink);
    let produced = ctl.counts().cdrs;
    let report = writer.shutdown();
    if let Some(s) = server {
        s.stop();
    }
    log::info!(
        "stopped: CDRs produced {produced}, written {}, spilled {}",
        report.written,
        report.spilled
    );
    result.map_err(|e| e.to_string())
}

/// DAHDI bridges in the kernel: both legs join one conference (the kernel picks a free
/// number) as talker and listener, so each hears the other and not itself. (A conference
/// link, `DAHDI_CONFLINK`, would need one conference per leg, and Debian's DAHDI is built
/// without it.)
impl crate::audio::HwBridge for dahdi::Channel {
    fn hw_bridge(&mut self, peer: &mut Self) -> crate::audio::HwBridged {
        use crate::audio::HwBridged;
        let member = |conf| dahdi::ConfMode::Conference {
            conf,
            talker: true,
            listener: true,
        };
        let errno = |e: dahdi::Error| e.raw_errno().unwrap_or(0);
        let conf = match self.set_conference(member(0)) {
            Ok(c) => c,
            Err(e) => return HwBridged::Failed(errno(e)),
        };
        if let Err(e) = peer.set_conference(member(conf)) {
            let _ = self.set_conference(dahdi::ConfMode::Normal);
            return HwBridged::Failed(errno(e));
        }
        HwBridged::Bridged
    }

    fn hw_unbridge(&mut self) -> Result<(), i32> {
        self.set_conference(dahdi::ConfMode::Normal)
            .map(|_| ())
            .map_err(|e| e.raw_errno().unwrap_or(0))
    }
}
