//! `ivrd demo`: the whole daemon on the simulated card, with simulated callers, the sample
//! shop in SQLite and the bundled scripts; a status line every second and a summary.
//!
//! In real time (the default) it runs the daemon's threads: the simulated card on its 1 ms
//! clock, the audio thread, the control loop, hook workers and the CDR writer. With
//! `--virtual` the same controller and pipelines run in virtual time on one thread (the
//! soak: 24 hours of calls in minutes).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ivrd::cdr::{CallResult, CdrWriter, StoreSpec, WriterConfig};
use ivrd::config::Config;
use ivrd::metrics::Metrics;
use order_hooks::{GuardConfig, Guarded, Preset, Shop, ShopConfig, SqlShop};
use simboard::{BoardOptions, BoardStats, HoldTime, LoadGenerator, LoadProfile, Profile, SimBoard};

use crate::control::{self, Controller, Counts};

/// Run the daemon on the simulated card with simulated callers and print what happens.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// The board profile (the simulated card's "firmware").
    #[arg(long, default_value = "firmware-stubs/install-120.toml")]
    profile: PathBuf,
    /// Offered calls per hour (Poisson arrivals) [default: the config's
    /// `[boards.load] calls_per_hour`, 1,800 in docs/config/ivrd-sim.toml].
    #[arg(long)]
    calls_per_hour: Option<f64>,
    /// Mean time an agent talks with a caller put through, seconds (lognormal; the agent
    /// hangs up then) [default: the config's `hold_mean_s`]. Callers who stay in the IVR
    /// stay as long as their way through the script takes.
    #[arg(long, alias = "hold-s")]
    talk_s: Option<f64>,
    /// Local time (UTC+8) the run starts at, `YYYY-MM-DDTHH:MM`: the scripts' opening
    /// hours follow it [default: 2026-11-18T10:00, a Wednesday, in virtual time; now in
    /// real time].
    #[arg(long, value_parser = parse_start)]
    start: Option<i64>,
    /// How long to offer calls, seconds (then calls in progress finish).
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Seed of the simulated callers.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Run in virtual time (as fast as the machine goes) instead of real time.
    #[arg(long = "virtual")]
    virtual_time: bool,
    /// Where the shop, CDRs and recordings go.
    #[arg(long, default_value = "target/demo")]
    data_dir: PathBuf,
    /// The daemon configuration to start from (board load, trunks, stations, groups,
    /// scripts, prompts); paths in `--data-dir` replace its shop and CDR paths.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Orders in the sample shop created on first run.
    #[arg(long, default_value_t = 20_000)]
    orders: u64,
    /// After the offered period, let calls finish for up to this long, seconds (then they
    /// are hung up).
    #[arg(long, default_value_t = 5)]
    drain_s: u64,
    /// Status line every this many seconds (of board time).
    #[arg(long, default_value_t = 1)]
    status_every: u64,
    /// Who decides when the call centre is open: `script` (the scripts' `hours` tables:
    /// the shop is open 09:00-21:00 on weekdays, 10:00-18:00 at weekends; after hours the
    /// night callers leave voice messages), `open` (staffed round the clock: every hour
    /// gets the opening-hours callers; the 24-hour soak at the peak-hour load) or `closed`
    /// (night service all day).
    #[arg(long, value_enum, default_value_t = Hours::Script)]
    hours: Hours,
}

/// The demo's `--hours`: the daemon's [`ivr::HoursMode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Hours {
    /// The scripts' `hours` tables.
    Script,
    /// Open round the clock.
    Open,
    /// Closed (night service) all day.
    Closed,
}

impl Hours {
    fn mode(self) -> ivr::HoursMode {
        match self {
            Self::Script => ivr::HoursMode::Script,
            Self::Open => ivr::HoursMode::Open,
            Self::Closed => ivr::HoursMode::Closed,
        }
    }
}

/// The demo's local time zone (the scripts' hours): China, UTC+8.
const UTC_OFFSET_MS: i64 = 8 * 3_600_000;

/// `YYYY-MM-DDTHH:MM` local time (UTC+8) to ms since 1970.
fn parse_start(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a local time like 2026-11-18T10:00");
    let (date, time) = s.split_once(['T', ' ']).ok_or_else(bad)?;
    let num = |t: &str| t.parse::<i64>().map_err(|_| bad());
    let d: Vec<&str> = date.split('-').collect();
    let t: Vec<&str> = time.split(':').collect();
    if d.len() != 3 || t.len() != 2 {
        return Err(bad());
    }
    let (y, m, day, h, min) = (num(d[0])?, num(d[1])?, num(d[2])?, num(t[0])?, num(t[1])?);
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&h)
        || !(0..60).contains(&min)
    {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400_000 + (h * 60 + min) * 60_000 - UTC_OFFSET_MS)
}

/// The opening hours the day and night caller mixes follow (`ivr-scripts/lib/common.ivr`).
const SERVICE_HOURS: &str = "service_hours";

/// The repository root (where `firmware-stubs/`, `ivr-scripts/` and `docs/` are): the
/// current directory if it has them, else the source checkout the binary was built from.
fn root() -> PathBuf {
    let cwd = PathBuf::from(".");
    if cwd.join("ivr-scripts").is_dir() {
        return cwd;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn under_root(p: &Path) -> PathBuf {
    if p.is_absolute() || p.exists() {
        p.to_path_buf()
    } else {
        root().join(p)
    }
}

/// Everything the demo sets up before running.
struct Prepared {
    cfg: Config,
    shop: Arc<dyn Shop>,
    orders: Vec<String>,
    profile: Profile,
    cdr_path: PathBuf,
}

fn prepare(a: &DemoArgs) -> Result<Prepared, String> {
    std::fs::create_dir_all(&a.data_dir).map_err(|e| format!("{}: {e}", a.data_dir.display()))?;
    let data = a
        .data_dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", a.data_dir.display()))?;
    let shop_path = data.join("shop.sqlite");
    if !shop_path.exists() {
        let t0 = std::time::Instant::now();
        order_hooks::sample_shop::create_sqlite(&shop_path, a.orders, 1)
            .map_err(|e| format!("creating the sample shop {}: {e}", shop_path.display()))?;
        println!(
            "sample shop: {} orders written to {} in {:.1} s",
            a.orders,
            shop_path.display(),
            t0.elapsed().as_secs_f64()
        );
    }
    let orders: Vec<String> = order_hooks::sample_shop::orders(a.orders, 1)
        .step_by(97)
        .take(64)
        .map(|o| o.order_no)
        .collect();
    let url = format!("sqlite:{}", shop_path.display());
    let sql = SqlShop::open(&ShopConfig::new(&url, Preset::Generic))
        .map_err(|e| format!("opening the sample shop: {e}"))?;
    let shop: Arc<dyn Shop> = Arc::new(Guarded::new(sql, GuardConfig::default()));

    let cfg_path = under_root(
        a.config
            .as_deref()
            .unwrap_or(Path::new("docs/config/ivrd-sim.toml")),
    );
    let text =
        std::fs::read_to_string(&cfg_path).map_err(|e| format!("{}: {e}", cfg_path.display()))?;
    let mut cfg = Config::parse(&text, &cfg_path).map_err(|e| {
        e.0.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let profile_path = under_root(&a.profile);
    let profile = Profile::load(&profile_path).map_err(|e| e.to_string())?;
    let cdr_path = data.join("cdr.sqlite");
    cfg.order_hooks.path = Some(shop_path);
    cfg.cdr.path = Some(cdr_path.clone());
    cfg.recordings.dir = data.join("recordings");
    // Trunks and stations the profile lacks are not wired (a smaller card runs too).
    let ports = profile.ports().count() as u16;
    let _ = ports;
    Ok(Prepared {
        cfg,
        shop,
        orders,
        profile,
        cdr_path,
    })
}

fn load_for(a: &DemoArgs, cfg: &Config) -> ivrd::config::SimLoad {
    let mut load = cfg
        .boards
        .iter()
        .find_map(|b| b.load.clone())
        .unwrap_or_else(|| ivrd::config::SimLoad {
            calls_per_hour: 1800.0,
            // As docs/config/ivrd-sim.toml: 2-minute calls over the whole mix.
            hold_mean_s: 210.0,
            seed: 1,
            personas: [
                ("order-status", 0.4),
                ("returns", 0.15),
                ("mistypes", 0.1),
                ("order-then-agent", 0.1),
                ("wants-agent", 0.1),
                ("hangs-up", 0.1),
                ("impatient", 0.05),
            ]
            .into_iter()
            .map(|(p, w)| (p.to_owned(), w))
            .collect(),
        });
    if let Some(c) = a.calls_per_hour {
        load.calls_per_hour = c;
    }
    if let Some(t) = a.talk_s {
        load.hold_mean_s = t;
    }
    load.seed = a.seed;
    load
}

fn stop_load(board: &mut SimBoard) {
    board.set_load(LoadGenerator::new(LoadProfile {
        calls_per_hour: 1.0,
        hold: HoldTime::Fixed { s: 1.0 },
        mix: Vec::new(),
        patience: None,
        seed: 0,
    }));
}

fn status(t_s: u64, ctl: &Controller) -> String {
    let o = ctl.occupancy();
    let c = ctl.counts();
    format!(
        "{:>6}s  active {:>3} (ivr {:>3}, queue {:>2}, agents {:>3})  answered {:>5}  lookups {:>5}  digits {:>6}  lost {}",
        t_s,
        o.active,
        o.in_ivr,
        o.queued,
        o.with_agent,
        c.answered,
        c.lookups,
        c.digits,
        c.unanswered_running
    )
}

/// Calls that ended in opening hours and after hours, and their handling time.
#[derive(Debug, Default, Clone, Copy)]
struct Periods {
    /// (calls, handling ms) that ended while the call centre was open.
    open: (u64, u64),
    /// The same after hours.
    closed: (u64, u64),
    /// The counters when the current period began.
    last: (u64, u64),
}

impl Periods {
    /// Ends the current period (`was_open`) with the counters `c`.
    fn close(&mut self, c: &Counts, was_open: bool) {
        let d = (c.handled - self.last.0, c.handling_ms - self.last.1);
        let to = if was_open {
            &mut self.open
        } else {
            &mut self.closed
        };
        *to = (to.0 + d.0, to.1 + d.1);
        self.last = (c.handled, c.handling_ms);
    }
}

/// What the after-hours callers got, counted from the CDRs' paths (virtual time: the demo
/// sees every CDR before the writer does).
#[derive(Debug, Default, Clone, Copy)]
struct Night {
    /// Voice messages filed as callback tasks, and of them with an order number.
    messages: u64,
    messages_with_order: u64,
    /// Voice-message callers who hung up before their message was filed.
    messages_abandoned: u64,
    /// Callbacks booked without a message.
    callbacks: u64,
}

impl Night {
    fn count(&mut self, cdr: &ivrd::cdr::Cdr) {
        let has = |s: &str| cdr.path.iter().any(|p| p == s);
        if has("call voice_message") {
            if has("request_callback: found") {
                self.messages += 1;
                if has("find_order: found") {
                    self.messages_with_order += 1;
                }
            } else if cdr.result == CallResult::Abandoned {
                self.messages_abandoned += 1;
            }
        } else if has("request_callback: found") {
            self.callbacks += 1;
        }
    }
}

fn mean_s((n, ms): (u64, u64)) -> f64 {
    if n == 0 {
        0.0
    } else {
        ms as f64 / n as f64 / 1000.0
    }
}

/// The end-of-run checks and summary. Returns `true` if every check passed.
fn summary(
    c: &Counts,
    periods: &Periods,
    night: Option<&Night>,
    board: &BoardStats,
    cdrs_written: u64,
    stuck: usize,
    wall_s: f64,
) -> bool {
    let names = [
        "self-served",
        "transferred",
        "abandoned",
        "unanswered",
        "failed",
    ];
    println!("---- summary ----");
    println!(
        "calls offered by the callers {}, to a free trunk {}, all trunks busy {}",
        board.offered,
        board.offered - board.blocked,
        board.blocked
    );
    println!(
        "answered {} (board saw {}), gave up while ringing {}",
        c.answered, board.answered, board.abandoned
    );
    let by: Vec<String> = CallResult::ALL
        .iter()
        .map(|r| format!("{} {}", names[*r as usize], c.by_result[*r as usize]))
        .collect();
    println!(
        "by outcome: {} (of them hung up in progress at the end of the run: {})",
        by.join(", "),
        c.shutdown_hangups
    );
    println!(
        "order lookups {} (found {}), digits {}, caller IDs {}, busy-tone hangups {}",
        c.lookups, c.lookups_found, c.digits, c.caller_ids, c.busy_hangups
    );
    let aht = if c.handled == 0 {
        0.0
    } else {
        c.handling_ms as f64 / c.handled as f64 / 1000.0
    };
    println!(
        "average handling time {aht:.1} s over {} calls; agents answered {}",
        c.handled, c.agent_answered
    );
    println!(
        "handling time in opening hours {:.1} s over {} calls, after hours {:.1} s over {} calls",
        mean_s(periods.open),
        periods.open.0,
        mean_s(periods.closed),
        periods.closed.0
    );
    if let Some(n) = night {
        println!(
            "after hours: voice messages filed {} (with the order number {}), hung up before filing {}; callbacks booked {}",
            n.messages, n.messages_with_order, n.messages_abandoned, n.callbacks
        );
    }
    let lost = c.unanswered_running;
    println!(
        "lost calls {lost} (rang on a free trunk and were not answered while running); all trunks busy {}; channels out of service {}; command ring full {}",
        board.blocked, c.out_of_service, c.ring_full
    );
    println!(
        "CDRs produced {}, written {cdrs_written}; stuck channels at the end {stuck}; {wall_s:.1} s of wall time",
        c.cdrs
    );
    let ok = lost == 0
        && board.blocked == 0
        && cdrs_written == c.cdrs
        && c.cdrs == c.answered + c.by_result[CallResult::Unanswered as usize]
        && stuck == 0
        && c.ring_full == 0;
    println!("checks: {}", if ok { "ok" } else { "FAILED" });
    ok
}

/// Runs the demo; the process exit code.
pub(crate) fn run(a: &DemoArgs) -> i32 {
    match run_inner(a) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("ivrd demo: {e}");
            2
        }
    }
}

fn run_inner(a: &DemoArgs) -> Result<bool, String> {
    let p = prepare(a)?;
    let load = load_for(a, &p.cfg);
    println!(
        "ivrd demo: {} ({} ports: {} trunks, {} stations), {} calls/hour, agents talk {} s on average, {} s{}, opening hours: {}; data in {}",
        p.profile.name,
        p.profile.ports().count(),
        p.profile.ports().filter(|x| x.1.is_trunk()).count(),
        p.profile.count(simboard::PortType::FxsStation),
        load.calls_per_hour,
        load.hold_mean_s,
        a.seconds,
        if a.virtual_time {
            " of virtual time"
        } else {
            ""
        },
        match a.hours {
            Hours::Script => "the scripts' tables (weekdays 09:00-21:00)",
            Hours::Open => "open round the clock",
            Hours::Closed => "closed all day (night service)",
        },
        a.data_dir.display()
    );
    let mut board = SimBoard::with_options(
        p.profile.clone(),
        BoardOptions {
            capture_audio: false,
            seed: a.seed,
        },
    );
    control::virt::populate(&mut board, &p.cfg, &load, &p.orders);
    // The callers of the day and of the night (after the scripts' service hours).
    let mixes = Mixes {
        day: control::virt::personas(&load, &p.orders, true),
        night: control::virt::personas(&load, &p.orders, false),
    };
    let metrics = Arc::new(Metrics::new(p.profile.ports().count()));
    let writer = CdrWriter::spawn(
        WriterConfig::new(
            StoreSpec::Sqlite(p.cdr_path.clone()),
            p.cdr_path.with_extension("spill.jsonl"),
        ),
        Arc::clone(&metrics),
    )
    .map_err(|e| format!("CDR store: {e}"))?;
    let sink = writer.sink();
    let t0 = std::time::Instant::now();
    let mut periods = Periods::default();
    let mut night = None;
    let (counts, board_stats, stuck) = if a.virtual_time {
        let tally = night.insert(Night::default());
        let epoch = a.start.unwrap_or(control::virt::EPOCH_MS);
        let mut v =
            control::virt::Virt::new_at(board, &p.cfg, Arc::clone(&p.shop), &metrics, epoch)?;
        v.ctl.set_hours_mode(a.hours.mode());
        let every = a.status_every.max(1) * 1000;
        let offer_ms = a.seconds * 1000;
        let mut open = true;
        while v.now_ms() < offer_ms {
            if v.now_ms() % 60_000 == 0 {
                let now = ivr::Instant::from_millis(v.now_ms());
                let o = v.ctl.hours_open(SERVICE_HOURS, now).unwrap_or(true);
                if o != open {
                    periods.close(&v.ctl.counts(), open);
                    open = o;
                    mixes.switch(&mut v.board, open);
                }
            }
            v.frame();
            if v.now_ms() % every == 0 {
                println!("{}", status(v.now_ms() / 1000, &v.ctl));
            }
            for cdr in v.cdrs.drain(..) {
                tally.count(&cdr);
                sink.submit(cdr);
            }
        }
        stop_load(&mut v.board);
        // Let every call finish on its own (callers hang up by their hold time).
        let drain_until = v.now_ms() + a.drain_s.max(1) * 1000;
        while v.now_ms() < drain_until && !v.ctl.all_idle() {
            v.run_ms(1000);
        }
        v.ctl.stop_answering();
        v.ctl.hang_up_all(ivr::Instant::from_millis(v.now_ms()));
        // Agents hear the release and hang up within a second or two.
        for _ in 0..10 {
            v.run_ms(1000);
            if v.ctl.all_idle() {
                break;
            }
        }
        for cdr in v.cdrs.drain(..) {
            tally.count(&cdr);
            sink.submit(cdr);
        }
        if !v.ctl.all_idle() {
            println!("not idle: {:?}", v.ctl.debug_states());
        }
        periods.close(&v.ctl.counts(), open);
        (v.ctl.counts(), v.board.stats(), v.ctl.debug_states().len())
    } else {
        realtime(a, board, mixes, &mut periods, &p, &metrics, &sink)?
    };
    let wall = t0.elapsed().as_secs_f64();
    drop(sink);
    let report = writer.shutdown();
    Ok(summary(
        &counts,
        &periods,
        night.as_ref(),
        &board_stats,
        report.written + report.spilled,
        stuck,
        wall,
    ))
}

/// The persona mixes of opening hours and after hours.
struct Mixes {
    day: Vec<(Arc<simboard::Persona>, f64)>,
    night: Vec<(Arc<simboard::Persona>, f64)>,
}

impl Mixes {
    /// Switches the board's callers to the day (`open`) or night mix.
    fn switch(&self, board: &mut SimBoard, open: bool) {
        let board_ms = board.now_ms();
        if let Some(load) = board.load_mut() {
            load.set_mix(if open {
                self.day.clone()
            } else {
                self.night.clone()
            });
        }
        println!(
            "{:>6}s  the call centre {}",
            board_ms / 1000,
            if open {
                "opens: callers who want an agent get one"
            } else {
                "closes: callers check orders, ask for a callback or leave a voice message"
            }
        );
    }
}

fn realtime(
    a: &DemoArgs,
    mut board: SimBoard,
    mixes: Mixes,
    periods: &mut Periods,
    p: &Prepared,
    metrics: &Arc<Metrics>,
    sink: &ivrd::cdr::CdrSink,
) -> Result<(Counts, BoardStats, usize), String> {
    use crate::audio::{self, Options};
    let mut channels = board.take_all_channels();
    // The board's `block_ms` (10 ms by default, as on DAHDI).
    let block = p.cfg.boards.first().map_or(80, |b| b.block_samples());
    for c in &mut channels {
        c.set_io_block(block).map_err(|e| e.to_string())?;
    }
    println!(
        "board: {block}-sample blocks ({} ms, block_ms); the audio loop wakes once a block",
        block / tel_types::SAMPLES_PER_MS as usize
    );
    let epoch = a.start.unwrap_or_else(wall_ms);
    let (lines, mut ctl, taps) = control::setup::build(&p.cfg, channels, metrics, epoch)?;
    ctl.set_hours_mode(a.hours.mode());
    let recorder = control::recorder::Recorder::spawn(
        taps.scripts,
        taps.calls,
        taps.names,
        &p.cfg.recordings.dir,
    )
    .map_err(|e| e.to_string())?;
    let mut poll = mio::Poll::new().map_err(|e| e.to_string())?;
    let waker = Arc::new(
        mio::Waker::new(poll.registry(), control::runtime::WAKE).map_err(|e| e.to_string())?,
    );
    let workers = control::hooks::Workers::spawn(
        Arc::clone(&p.shop),
        4,
        Duration::from_millis(1500),
        Arc::clone(&waker),
    )
    .map_err(|e| e.to_string())?;
    let mut clock = simboard::RealTimeClock::new().map_err(|e| e.to_string())?;
    let board_start = audio::timed::now_ns();
    let (ticker, _log) =
        audio::timed::sim_ticker(board_start, block, 0).map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop_offering = Arc::new(AtomicBool::new(false));
    // The control loop says whether the call centre is open; the card's thread switches
    // the callers' mix.
    let open_now = Arc::new(AtomicBool::new(true));
    let board_thread = {
        let (stop, stop_offering) = (Arc::clone(&stop), Arc::clone(&stop_offering));
        let open_now = Arc::clone(&open_now);
        std::thread::Builder::new()
            .name("simboard".into())
            .spawn(move || {
                use std::os::fd::AsFd;
                let mut stopped = false;
                let mut open = true;
                while !stop.load(Ordering::Relaxed) {
                    let o = open_now.load(Ordering::Relaxed);
                    if o != open && !stopped {
                        open = o;
                        mixes.switch(&mut board, open);
                    }
                    let mut fds = [nix::poll::PollFd::new(
                        clock.as_fd(),
                        nix::poll::PollFlags::POLLIN,
                    )];
                    let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16));
                    clock.tick(&mut board);
                    if !stopped && stop_offering.load(Ordering::Relaxed) {
                        stop_load(&mut board);
                        stopped = true;
                    }
                }
                board.stats()
            })
            .map_err(|e| e.to_string())?
    };
    let options = Options {
        rt_priority: None,
        lock_memory: false,
        ..Options::default()
    };
    let (audio_thread, _stats) = audio::spawn_ticked(
        lines,
        None,
        Box::new(ticker),
        Arc::clone(&waker),
        Arc::clone(&stop),
        options,
    )
    .map_err(|e| e.to_string())?;
    let start = std::time::Instant::now();
    let offer_ms = a.seconds * 1000;
    let drain_ms = offer_ms + a.drain_s * 1000;
    let mut next_status = a.status_every.max(1) * 1000;
    let mut phase = 0;
    let mut cur_open = true;
    let result = control::runtime::control_loop(
        &mut ctl,
        &mut poll,
        None,
        &workers,
        sink,
        start,
        |ctl, now, _sig| {
            let ms = now.as_millis();
            if ms >= next_status {
                if let Some(o) = ctl.hours_open(SERVICE_HOURS, now) {
                    open_now.store(o, Ordering::Relaxed);
                    if o != cur_open {
                        periods.close(&ctl.counts(), cur_open);
                        cur_open = o;
                    }
                }
                println!("{}", status(ms / 1000, ctl));
                next_status += a.status_every.max(1) * 1000;
            }
            if phase == 0 && ms >= offer_ms {
                stop_offering.store(true, Ordering::Relaxed);
                phase = 1;
            }
            if phase == 1 && (ms >= drain_ms || ctl.all_idle()) {
                ctl.stop_answering();
                ctl.hang_up_all(now);
                phase = 2;
                return control::runtime::Flow::Continue;
            }
            if phase == 2 && (ctl.all_idle() || ms >= drain_ms + 10_000) {
                // The hang-ups have reached the card and the agents' phones are down.
                return control::runtime::Flow::Stop;
            }
            control::runtime::Flow::Continue
        },
    );
    // Last CDRs (hang-ups of the final step).
    ctl.step(ivr::Instant::from_millis(start.elapsed().as_millis() as u64));
    for cdr in ctl.take_cdrs() {
        sink.submit(cdr);
    }
    stop.store(true, Ordering::Relaxed);
    let _ = audio_thread.join();
    let stats = board_thread
        .join()
        .map_err(|_| "the card thread panicked".to_string())?;
    workers.shutdown();
    let recordings = recorder.shutdown();
    println!("recordings written: {recordings}");
    result.map_err(|e| e.to_string())?;
    if !ctl.all_idle() {
        println!("not idle: {:?}", ctl.debug_states());
    }
    periods.close(&ctl.counts(), cur_open);
    Ok((ctl.counts(), stats, ctl.debug_states().len()))
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
