//! `ivrd run`: the daemon in the foreground, logging to stderr (for systemd).
//!
//! Threads: the board's (simulated card only), `audio-rt`, the control loop (this thread),
//! `hook-N` workers, `cdr-writer`, and the metrics server.
//!
//! Signals (blocked everywhere, read from a signalfd by the control loop):
//! - `SIGHUP` reloads the configuration and the scripts without dropping a call: new calls
//!   get the new scripts, trunk → script mapping, record flag, agent groups and order-hooks
//!   backend; each channel gets its new line settings when it is idle; the log level and
//!   the metrics endpoint change at once. A config or script that does not load refuses
//!   the whole reload (logged with file, key and line) and the old one runs on. The prompt
//!   pack and the recordings folder change for new calls; the CDR store is flushed, then
//!   switched. Channels added to the trunks or stations are opened and start answering;
//!   channels removed close when idle (a call in progress finishes first); a channel moved
//!   between trunk and station closes when idle and opens again in its new role. What needs
//!   a restart (a board's settings, `daemon.max_channels`) is logged with its key and kept
//!   as it runs.
//! - `SIGTERM`/`SIGINT` stop answering, let calls finish up to `daemon.grace_period_s`, hang
//!   up the rest, flush the CDRs, and exit 0.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ivrd::cdr::{CdrWriter, WriterReport};
use ivrd::config::{BoardKind, Config, HookPreset, Takes};
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

/// What a reload can change outside the controller.
struct Running<'a> {
    /// The configuration in force (replaced by each reload that is applied).
    cfg: Config,
    workers: &'a control::hooks::Workers,
    recorder: &'a control::recorder::Recorder,
    server: Option<MetricsServer>,
    metrics: Arc<Metrics>,
    /// The log level can change at once (no `filter` and no `RUST_LOG` in force).
    level_live: bool,
    /// The prompt pack in force.
    pack: control::prompts::Fingerprint,
    /// A reload asks for another CDR store (switched by [`switch_cdr_store`]).
    cdr_wanted: Option<ivrd::config::CdrStore>,
}

/// The CDR store in use, and what the stores it replaced did.
struct Cdrs {
    /// `None` only if neither the new nor the old store could start again after a switch
    /// (records then go to the old sink's spill file).
    writer: Option<CdrWriter>,
    sink: ivrd::cdr::CdrSink,
    done: WriterReport,
}

/// Flush, then switch: every record the old store was given is committed (or spilled by
/// it) before the new store takes the next; the control thread submits nothing meanwhile.
/// The new store's spill file must be writable first. If the new writer does not start
/// after all, the old configuration is started again (it worked). Returns whether the new
/// store is in use.
fn switch_cdr_store(
    cdrs: &mut Cdrs,
    old: &ivrd::config::CdrStore,
    new: &ivrd::config::CdrStore,
    metrics: &Arc<Metrics>,
) -> bool {
    let spill = new.spill.clone().unwrap_or_default();
    if let Err(e) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spill)
    {
        log::warn!(
            "reload: cdr: the new spill file {}: {e}; CDRs stay in the old store",
            spill.display()
        );
        return false;
    }
    let t0 = std::time::Instant::now();
    if let Some(previous) = cdrs.writer.take() {
        let r = previous.shutdown();
        cdrs.done.written += r.written;
        cdrs.done.spilled += r.spilled;
        log::info!(
            "reload: cdr: the old store was flushed ({} written, {} spilled) in {} ms",
            r.written,
            r.spilled,
            t0.elapsed().as_millis()
        );
    }
    let start =
        |c: &ivrd::config::CdrStore| CdrWriter::spawn(c.writer_config(), Arc::clone(metrics));
    let (writer, switched) = match start(new) {
        Ok(w) => {
            log::info!("reload: cdr: new CDRs go to the new store");
            (Some(w), true)
        }
        Err(e) => {
            log::error!("reload: cdr: the new store did not start: {e}; back to the old one");
            match start(old) {
                Ok(w) => (Some(w), false),
                Err(e) => {
                    log::error!(
                        "reload: cdr: the old store did not start again: {e}; CDRs go to its spill file until a restart"
                    );
                    (None, false)
                }
            }
        }
    };
    if let Some(w) = &writer {
        cdrs.sink = w.sink();
    }
    cdrs.writer = writer;
    switched
}

/// `SIGHUP`: loads the config at `path` and its scripts and applies them without dropping a
/// call (see [`control::reload`] and `docs/operator-guide.md`). A config or script that does
/// not load refuses the whole reload, logged with its file, key and line; the running
/// configuration stays.
fn reload(ctl: &mut Controller, path: &std::path::Path, run: &mut Running<'_>) {
    let refuse = |run: &Running<'_>, why: &str| {
        run.metrics.reloads_refused.inc();
        log::error!("reload refused, the old one runs on (the running configuration stays): {why}");
    };
    let cfg = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            for err in &e.0 {
                log::error!("reload refused, the running configuration stays: {err}");
            }
            run.metrics.reloads_refused.inc();
            return;
        }
    };
    let scripts = match control::setup::load_scripts(&cfg) {
        Ok(s) => s,
        Err(e) => return refuse(run, &e),
    };
    // A new order-hooks backend is opened before anything changes.
    let new_shop = if cfg.order_hooks == run.cfg.order_hooks {
        None
    } else {
        match shop(&cfg) {
            Ok(s) => Some(s),
            Err(e) => return refuse(run, &e),
        }
    };
    // The prompt pack is loaded again only if its folder or a file in it changed.
    let fingerprint = control::prompts::fingerprint(&cfg.prompts.dir);
    let pack = (cfg.prompts.dir != run.cfg.prompts.dir || fingerprint != run.pack)
        .then(|| control::prompts::load_pack(&cfg.prompts.dir));
    let plan = run.cfg.reload_plan(&cfg);
    match ctl.reload(&cfg, scripts, pack) {
        Ok(lines) => {
            // The new level first, so the rest of this reload is logged at it.
            if plan.iter().any(|c| c.key == "logging")
                && run.level_live
                && cfg.logging.filter.is_none()
            {
                log::set_max_level(cfg.logging.level.filter());
                log::info!("reload: logging.level is now {:?}", cfg.logging.level);
            }
            for l in lines {
                log::info!("reload: {l}");
            }
        }
        Err(e) => return refuse(run, &e),
    }
    if let Some(s) = new_shop {
        run.workers.set_backend(s);
        log::info!(
            "reload: order_hooks: new lookups go to the new backend; lookups in flight finish on the old one"
        );
        if (cfg.order_hooks.pool_size, cfg.order_hooks.timeout_ms)
            != (
                run.cfg.order_hooks.pool_size,
                run.cfg.order_hooks.timeout_ms,
            )
        {
            log::warn!(
                "reload: order_hooks.pool_size/timeout_ms: apply after a restart (kept as they were until then)"
            );
        }
    }
    for change in plan {
        let key = change.key.as_str();
        match key {
            "logging" if run.level_live && cfg.logging.filter.is_none() => {}
            "metrics" => {
                let new = &cfg.metrics;
                let started = if new.enabled {
                    match MetricsServer::start(new.listen.0, Arc::clone(&run.metrics)) {
                        Ok(s) => Some(s),
                        Err(e) => {
                            log::warn!(
                                "reload: metrics on {}: {e}; the old endpoint stays",
                                new.listen.0
                            );
                            continue;
                        }
                    }
                } else {
                    None
                };
                if let Some(old) = std::mem::replace(&mut run.server, started) {
                    old.stop();
                }
                match &run.server {
                    Some(s) => {
                        log::info!("reload: metrics now on http://{}/metrics", s.local_addr())
                    }
                    None => log::info!("reload: metrics endpoint closed"),
                }
            }
            "daemon" => log::info!("reload: {change}"),
            // The controller logged each channel opened, closed or moved.
            _ if key.starts_with("trunks/stations channels") => {}
            "cdr" => run.cdr_wanted = Some(cfg.cdr.clone()),
            _ if change.takes == Takes::Restart => log::warn!("reload: {change}"),
            "recordings" => {
                run.recorder.set_dir(&cfg.recordings.dir);
                ctl.set_recordings_dir(&cfg.recordings.dir);
                log::info!(
                    "reload: recordings: new recordings go to {}; those in progress finish where they are",
                    cfg.recordings.dir.display()
                );
            }
            _ if key == "logging" => log::warn!(
                "reload: logging: a `filter` or RUST_LOG is in force; applies after a restart"
            ),
            _ if change.takes == Takes::IdleChannels => log::info!(
                "reload: {change} ({} channel(s) in a call keep theirs until it ends)",
                ctl.occupancy().busy_channels
            ),
            _ => log::info!("reload: {change}"),
        }
    }
    let mut cfg = cfg;
    // What needs a restart is kept as it runs, so the next reload compares against it.
    cfg.boards.clone_from(&run.cfg.boards);
    cfg.daemon.max_channels = run.cfg.daemon.max_channels;
    cfg.daemon.cpu_wakeup_latency_us = run.cfg.daemon.cpu_wakeup_latency_us;
    cfg.daemon.audio_cpu = run.cfg.daemon.audio_cpu;
    cfg.cdr.clone_from(&run.cfg.cdr);
    if run.server.is_none() && cfg.metrics.enabled {
        cfg.metrics.clone_from(&run.cfg.metrics);
    }
    run.cfg = cfg;
    run.pack = fingerprint;
    run.metrics.reloads_ok.inc();
    log::info!("reload applied");
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
    let rust_log = std::env::var("RUST_LOG").ok();
    // With neither `filter` nor RUST_LOG, the level is only `log`'s global maximum, so a
    // reload can change it at once.
    let level_live = cfg.logging.filter.is_none() && rust_log.is_none();
    let mut logging = cfg.logging.clone();
    if level_live {
        logging.level = ivrd::config::LogLevel::Trace;
    }
    if logging
        .builder(a.journal, rust_log.as_deref())
        .try_init()
        .is_ok()
        && level_live
    {
        log::set_max_level(cfg.logging.level.filter());
    }
    match run_inner(a, &cfg, &sfd, level_live) {
        Ok(()) => 0,
        Err(e) => {
            log::error!("{e}");
            eprintln!("ivrd run: {e}");
            1
        }
    }
}

fn run_inner(
    a: &RunArgs,
    cfg: &Config,
    sfd: &nix::sys::signalfd::SignalFd,
    level_live: bool,
) -> Result<(), String> {
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
    let max_channels = cfg.daemon.max_channels as usize;
    let options = Options {
        lock_memory: false,
        cpu_latency_us: cfg.daemon.cpu_wakeup_latency_us.as_us(),
        cpu: cfg.daemon.audio_cpu.map(|n| n as usize),
        tx_prime_blocks: board_cfg.tx_prime_blocks,
        capacity: Some(audio::Capacity::new(max_channels)),
        ..Options::default()
    };
    // Channels opened and closed by a reload go through these rings (see `control::live`).
    let rings = control::setup::Rings::default();
    let (mut ctl, audio_thread, audio_stats, board_thread, metrics, recorder, mut live) =
        match board_cfg.kind {
            BoardKind::Sim => {
                let path = board_cfg
                    .profile
                    .clone()
                    .ok_or("sim board without a profile")?;
                let profile = simboard::Profile::load(&path).map_err(|e| e.to_string())?;
                let metrics = Arc::new(Metrics::with_capacity(0, max_channels));
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
                // `block_ms`: 10 ms blocks by default, as on DAHDI. Every channel, the
                // spares a reload may open too.
                let block = board_cfg.block_samples();
                let mut all = board.take_all_channels();
                for c in &mut all {
                    c.set_io_block(block).map_err(|e| e.to_string())?;
                }
                log::info!(
                    "simulated card: {} channels, {block}-sample blocks ({} ms)",
                    all.len(),
                    block / tel_types::SAMPLES_PER_MS as usize
                );
                // The card's other channels wait as spares for a reload to open them.
                let (channels, spares) = control::live::SimSpares::split(cfg, all);
                let (lines, ctl, taps) = control::setup::build(cfg, channels, &metrics, epoch)?;
                let recorder = control::recorder::Recorder::spawn(
                    taps.scripts,
                    taps.calls,
                    taps.names,
                    &cfg.recordings.dir,
                )
                .map_err(|e| e.to_string())?;
                let mut clock = simboard::RealTimeClock::new().map_err(|e| e.to_string())?;
                let (ticker, _log) = audio::timed::sim_ticker(audio::timed::now_ns(), block, 0)
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
                let (control_side, audio_side) = audio::membership(32);
                let live: Box<dyn control::live::LiveStep> = Box::new(control::live::Live::new(
                    spares,
                    control_side,
                    rings,
                    control::live::to_recorder(recorder.new_taps()),
                ));
                let (audio_thread, audio_stats) = audio::spawn_ticked(
                    lines,
                    Some(audio_side),
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
                    live,
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
                // A channel that does not open is logged and tried again every 30 s, as
                // one that fails later; the others start. None at all is an error.
                let mut channels = Vec::with_capacity(numbers.len());
                let mut failed = Vec::new();
                // `block_ms`: 10 ms blocks by default (a prompt starts within 10 ms of its
                // command), with buffers for 40 ms each way.
                let block = board_cfg.block_samples() as u32;
                for n in numbers {
                    match dahdi::Channel::open(n)
                        .map_err(|e| e.to_string())
                        .and_then(|mut c| prepare_dahdi(&mut c, block).map(|()| c))
                    {
                        Ok(c) => channels.push(c),
                        Err(e) => {
                            log::error!(
                                "DAHDI channel {n}: {e}; the others start, it is tried again every {} s",
                                control::OOS_RETRY_MS / 1000
                            );
                            failed.push(n);
                        }
                    }
                }
                if channels.is_empty() {
                    return Err(format!(
                        "no DAHDI channel opened (channels {failed:?}; is DAHDI loaded and configured with dahdi_cfg?)"
                    ));
                }
                if let Some(b) = channels.first().and_then(|ch| ch.buffers().ok()) {
                    log::info!(
                        "DAHDI: {} channels, {}-sample blocks ({} ms), {} buffers each way",
                        channels.len(),
                        b.buf_size,
                        b.buf_size / 8,
                        b.num_bufs
                    );
                }
                let metrics = Arc::new(Metrics::with_capacity(0, max_channels));
                let (lines, mut ctl, taps) = control::setup::build(cfg, channels, &metrics, epoch)?;
                for n in failed {
                    ctl.open_failed(n, ivr::Instant::ZERO);
                }
                let recorder = control::recorder::Recorder::spawn(
                    taps.scripts,
                    taps.calls,
                    taps.names,
                    &cfg.recordings.dir,
                )
                .map_err(|e| e.to_string())?;
                let (control_side, audio_side) = audio::membership(32);
                let live: Box<dyn control::live::LiveStep> = Box::new(control::live::Live::new(
                    control::live::DahdiOpener {
                        prepare: prepare_dahdi,
                        block,
                    },
                    control_side,
                    rings,
                    control::live::to_recorder(recorder.new_taps()),
                ));
                let (audio_thread, audio_stats) = audio::spawn_channel_fds(
                    lines,
                    Some(audio_side),
                    Arc::clone(&waker),
                    Arc::clone(&stop),
                    options,
                )
                .map_err(|e| e.to_string())?;
                (
                    ctl,
                    audio_thread,
                    audio_stats,
                    None,
                    metrics,
                    recorder,
                    live,
                )
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
    let cdrs = std::cell::RefCell::new(Cdrs {
        sink: writer.sink(),
        writer: Some(writer),
        done: WriterReport::default(),
    });
    let workers = control::hooks::Workers::spawn(
        shop,
        cfg.order_hooks.pool_size as usize,
        Duration::from_millis(u64::from(cfg.order_hooks.timeout_ms)),
        Arc::clone(&waker),
    )
    .map_err(|e| e.to_string())?;
    log::info!("ivrd running: {} channel(s)", metrics.channels());
    let start = std::time::Instant::now();
    let mut running = Running {
        cfg: cfg.clone(),
        workers: &workers,
        recorder: &recorder,
        server,
        metrics: Arc::clone(&metrics),
        level_live,
        pack: control::prompts::fingerprint(&cfg.prompts.dir),
        cdr_wanted: None,
    };
    let mut grace_ms = 0;
    let mut stopping_since: Option<u64> = None;
    let mut hung_up_at: Option<u64> = None;
    let mut bridge_log = audio::BridgeFailureLog::default();
    let result = runtime::control_loop_with(
        &mut ctl,
        &mut poll,
        Some(sfd),
        &workers,
        &mut |cdr| {
            cdrs.borrow().sink.submit(cdr);
        },
        start,
        |ctl, now, sig| {
            let ms = now.as_millis();
            bridge_log.check(&audio_stats, ms);
            audio_stats.export(&running.metrics.audio);
            match sig {
                Some(Sig::Hup) => {
                    let old_cdr = running.cfg.cdr.clone();
                    reload(ctl, &a.config, &mut running);
                    if let Some(new) = running.cdr_wanted.take() {
                        let mut c = cdrs.borrow_mut();
                        if switch_cdr_store(&mut c, &old_cdr, &new, &running.metrics) {
                            running.cfg.cdr = new;
                        }
                    }
                }
                Some(Sig::Term) if stopping_since.is_none() => {
                    grace_ms = u64::from(running.cfg.daemon.grace_period_s) * 1000;
                    log::info!(
                        "stopping: no new calls; {} s for calls in progress",
                        grace_ms / 1000
                    );
                    ctl.stop_answering();
                    stopping_since = Some(ms);
                }
                _ => {}
            }
            // Channels a reload opened or closed (after the reload, so it applies at once).
            live.step(ctl, &running.cfg, now);
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
        cdrs.borrow().sink.submit(cdr);
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
    let server = running.server.take();
    drop(running);
    workers.shutdown();
    let recordings = recorder.shutdown();
    log::info!("recordings written: {recordings}");
    let Cdrs { writer, sink, done } = cdrs.into_inner();
    drop(sink);
    let produced = ctl.counts().cdrs;
    let mut report = writer.map(CdrWriter::shutdown).unwrap_or_default();
    report.written += done.written;
    report.spilled += done.spilled;
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

/// What every DAHDI channel gets once opened, at start and when a reload opens it: the
/// board's I/O block (`block` samples) and buffers for 40 ms each way.
fn prepare_dahdi(ch: &mut dahdi::Channel, block: u32) -> Result<(), String> {
    ch.set_io_block(block)
        .map_err(|e| format!("{block}-sample blocks: {e}"))
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
