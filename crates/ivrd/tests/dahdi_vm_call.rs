//! `ivrd run` on the real DAHDI kernel modules, with this test on the other end of the lines.
//!
//! Runs inside the hil-tests VM (`hil-tests/run-vm-tests.sh`, CI step 60) with
//! `hil-tests/ivrd/ivrd-vm.toml`: trunk 31 is cabled to channel 7, which this test drives as
//! the exchange (ring, keys, hang up); station 8 is cabled to channel 32, which this test
//! drives as the agent's phone (answer, talk, hang up). Two calls:
//!
//! 1. The caller hears the greeting, keys `1` and the order number `123`, hears the reply
//!    and hangs up: ivrd releases the trunk and writes the CDR with the path and the order.
//! 2. The caller keys `0` and is transferred: the station rings, the agent answers, and the
//!    two talk through the kernel conference (`bridge = "kernel"`) at the level sent, both
//!    ways, without hearing themselves; the agent hangs up, ivrd releases both lines and no
//!    audio crosses any more.
//!
//! 3. The caller hangs up the way Chinese exchanges signal it, with busy tone: ivrd hangs up.
//! 4. SIGHUP adds trunk 30 (cabled to channel 6): ivrd opens it and answers a call on it.
//! 5. SIGHUP removes trunk 31: ivrd closes it (it is idle) and no longer answers it.
//!
//! Trunk channel 40 has no signalling in the VM: it does not open; ivrd starts with the
//! others and keeps trying it.
//!
//! Then SIGTERM: ivrd exits 0 and the CDRs are in SQLite.
//!
//! Without `/dev/dahdi` it prints `skipped` and passes (with `HIL_REQUIRE_DAHDI=1` it
//! fails instead). Environment: `IVRD_BIN` (default: this build's ivrd), `IVRD_VM_CONFIG`
//! (default: `hil-tests/ivrd/ivrd-vm.toml`), `IVRD_VM_EXCHANGE` / `IVRD_VM_AGENT` (7 / 32).

use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dsp::dtmf_gen::{DtmfGenConfig, DtmfGenerator};
use dsp::tone::ToneGenerator;
use dsp::zones::ToneZone;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use tel_types::board::{ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{FRAME_SAMPLES, Hook, Law, LineEvent, Tone};

/// The 1004 Hz test tone's peak (−10 dBm0 in 16-bit linear, as `hil-tests` sends).
const TONE_PEAK: f64 = 7_139.0;
const TONE_HZ: f64 = 1004.0;
/// Quieter than this (RMS) is silence on the VM's noiseless lines.
const SILENT_RMS: f64 = 50.0;
const WORK: &str = "/tmp/ivrd-vm";
/// DAHDI buffers each way on the far ends (20 ms each): the test's slack against being
/// scheduled late, and its transmit delay.
const TX_AHEAD: usize = 10;

fn env_u16(name: &str, default: u16) -> u16 {
    std::env::var(name)
        .ok()
        .map_or(default, |v| v.trim().parse().expect(name))
}

fn rms(s: &[i16]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
}

fn db(got: f64, sent: f64) -> f64 {
    20.0 * (got.max(1e-3) / sent).log10()
}

/// What a far end sends.
#[derive(Debug)]
enum Source {
    Silence,
    Tone(u64),
    Keys(Box<DtmfGenerator>),
    /// The exchange's busy tone (zone `cn`: 450 Hz, 350 ms on, 350 ms off).
    Busy(Box<ToneGenerator>),
}

/// A channel this test drives: reads everything it receives, sends its source.
#[derive(Debug)]
struct Far {
    name: &'static str,
    ch: dahdi::Channel,
    rx: Vec<i16>,
    events: Vec<(u64, LineEvent)>,
    src: Source,
    /// A generated frame the channel did not take yet.
    pending: Option<[i16; FRAME_SAMPLES]>,
}

impl Far {
    fn open(name: &'static str, n: u16) -> Self {
        let mut ch = dahdi::Channel::open(n).unwrap_or_else(|e| panic!("{name}: {e}"));
        ch.set_law(Law::Linear)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let b = ch.buffers().unwrap_or_else(|e| panic!("{name}: {e}"));
        ch.set_buffers(&dahdi::BufferInfo {
            num_bufs: TX_AHEAD as u32,
            ..b
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        Self {
            name,
            ch,
            rx: Vec::new(),
            events: Vec::new(),
            src: Source::Silence,
            pending: None,
        }
    }

    /// Reads what arrived and keeps the transmit queue full (write-ahead): a late wake-up
    /// of this process must not chop a key tone into two digits.
    fn service(&mut self, now_ms: u64) {
        let mut buf = [0u8; 2 * FRAME_SAMPLES];
        for _ in 0..2 * TX_AHEAD {
            match self.ch.read_frame(&mut buf) {
                Ok(ReadOutcome::Data(n)) => self.rx.extend(
                    buf[..n]
                        .chunks_exact(2)
                        .map(|b| i16::from_le_bytes([b[0], b[1]])),
                ),
                Ok(ReadOutcome::WouldBlock) => break,
                Ok(ReadOutcome::EventPending) => self.take_events(now_ms),
                Err(e) => panic!("{}: read: {e}", self.name),
            }
        }
        for _ in 0..TX_AHEAD {
            let frame = match self.pending.take() {
                Some(f) => f,
                None => self.next_tx(),
            };
            let mut out = [0u8; 2 * FRAME_SAMPLES];
            for (o, s) in out.chunks_exact_mut(2).zip(frame) {
                o.copy_from_slice(&s.to_le_bytes());
            }
            match self.ch.write_frame(&out) {
                Ok(WriteOutcome::Written(_)) => {}
                Ok(WriteOutcome::WouldBlock) => {
                    self.pending = Some(frame);
                    break;
                }
                Ok(WriteOutcome::EventPending) => {
                    self.pending = Some(frame);
                    self.take_events(now_ms);
                    break;
                }
                Err(e) => panic!("{}: write: {e}", self.name),
            }
        }
    }

    fn next_tx(&mut self) -> [i16; FRAME_SAMPLES] {
        let mut tx = [0i16; FRAME_SAMPLES];
        match &mut self.src {
            Source::Silence => {}
            Source::Tone(k) => {
                for s in &mut tx {
                    let t = *k as f64 / 8000.0;
                    *s = (TONE_PEAK * (2.0 * std::f64::consts::PI * TONE_HZ * t).sin()) as i16;
                    *k += 1;
                }
            }
            Source::Keys(g) => {
                g.fill(&mut tx);
            }
            Source::Busy(g) => {
                g.fill(&mut tx);
            }
        }
        tx
    }

    fn take_events(&mut self, now_ms: u64) {
        while let Some(ev) = self
            .ch
            .next_event()
            .unwrap_or_else(|e| panic!("{}: {e}", self.name))
        {
            println!("  [{now_ms:>6} ms] {}: {ev:?}", self.name);
            self.events.push((now_ms, ev));
        }
    }

    fn hook(&mut self, h: Hook) {
        self.ch
            .set_hook(h)
            .unwrap_or_else(|e| panic!("{}: set_hook({h:?}): {e}", self.name));
    }

    fn saw(&self, ev: LineEvent, since_ms: u64) -> bool {
        self.events.iter().any(|&(t, e)| e == ev && t >= since_ms)
    }
}

/// The two far ends and the clock.
struct Lines {
    exchange: Far,
    agent: Far,
    t0: Instant,
}

impl Lines {
    fn now_ms(&self) -> u64 {
        self.t0.elapsed().as_millis() as u64
    }

    /// Runs both far ends until `done` or `max_ms`; the ms it took, or `None`.
    fn run_until(&mut self, max_ms: u64, done: impl Fn(&Self) -> bool) -> Option<u64> {
        let start = self.now_ms();
        loop {
            {
                let mut fds = [
                    PollFd::new(
                        self.exchange.ch.as_fd(),
                        PollFlags::POLLIN | PollFlags::POLLPRI,
                    ),
                    PollFd::new(
                        self.agent.ch.as_fd(),
                        PollFlags::POLLIN | PollFlags::POLLPRI,
                    ),
                ];
                let _ = nix::poll::poll(&mut fds, PollTimeout::from(20u16));
            }
            let now = self.now_ms();
            self.exchange.service(now);
            self.agent.service(now);
            if done(self) {
                return Some(now - start);
            }
            if now - start >= max_ms {
                return None;
            }
        }
    }

    fn run_for(&mut self, ms: u64) {
        let _ = self.run_until(ms, |_| false);
    }

    /// Sends the test tone from `from` for `ms` and returns (RMS at `to`, RMS echoed back
    /// to `from`), skipping the first 700 ms (the path's buffers: two loc-span hops and the
    /// conference, about 100 ms, and the far ends' write-ahead, 200 ms).
    fn tone_through(&mut self, from_exchange: bool, ms: u64) -> (f64, f64) {
        self.exchange.rx.clear();
        self.agent.rx.clear();
        let (f, _) = self.pair(from_exchange);
        f.src = Source::Tone(0);
        self.run_for(ms);
        let (f, t) = self.pair(from_exchange);
        f.src = Source::Silence;
        let skip = 5600;
        (
            rms(t.rx.get(skip..).unwrap_or(&[])),
            rms(f.rx.get(skip..).unwrap_or(&[])),
        )
    }

    fn pair(&mut self, from_exchange: bool) -> (&mut Far, &mut Far) {
        if from_exchange {
            (&mut self.exchange, &mut self.agent)
        } else {
            (&mut self.agent, &mut self.exchange)
        }
    }

    /// Rings the trunk and waits for ivrd to answer; the ms it took. Then stops ringing,
    /// as an exchange does (DAHDI goes on with the cadence on an FXO-signalled channel
    /// until told otherwise).
    fn ring_and_wait_answer(&mut self) -> u64 {
        let since = self.now_ms();
        self.exchange.hook(Hook::Ring);
        let t = self.run_until(15_000, |l| l.exchange.saw(LineEvent::RingOffHook, since));
        let t = t.unwrap_or_else(|| {
            panic!(
                "ivrd did not answer trunk within 15 s; exchange saw {:?}",
                self.exchange.events
            )
        });
        self.exchange.hook(Hook::OffHook);
        t
    }

    /// RMS of what the caller hears over the next `ms`.
    fn listen(&mut self, ms: u64) -> f64 {
        self.exchange.rx.clear();
        self.run_for(ms);
        rms(&self.exchange.rx)
    }

    /// Sends `keys` as DTMF from the exchange side and waits until they are out.
    fn key(&mut self, keys: &str) {
        let mut g = DtmfGenerator::new(DtmfGenConfig::default());
        g.push_str(keys);
        self.exchange.src = Source::Keys(Box::new(g));
        let done = self.run_until(
            10_000,
            |l| matches!(&l.exchange.src, Source::Keys(g) if g.is_idle()),
        );
        assert!(done.is_some(), "keys {keys} not sent within 10 s");
        self.exchange.src = Source::Silence;
    }

    /// The exchange hangs up (loop-start disconnect); waits for ivrd to release the trunk.
    fn caller_hangs_up(&mut self) -> u64 {
        let since = self.now_ms();
        self.exchange.hook(Hook::OnHook);
        self.run_until(8_000, |l| l.exchange.saw(LineEvent::OnHook, since))
            .unwrap_or_else(|| {
                panic!(
                    "ivrd did not release the trunk within 8 s of the caller hanging up; \
                     exchange saw {:?}",
                    self.exchange.events
                )
            })
    }
}

fn wait_for_log(log: &Path, what: &str, child: &mut Child, limit: Duration) {
    let t0 = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(what) {
            return;
        }
        if let Some(st) = child.try_wait().expect("try_wait") {
            panic!("ivrd exited ({st}) before `{what}`:\n{text}");
        }
        assert!(
            t0.elapsed() < limit,
            "no `{what}` from ivrd in {limit:?}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[derive(Debug)]
struct CdrRow {
    trunk: i64,
    path: String,
    orders: String,
    result: String,
    cause: String,
    target: Option<String>,
    agent_answer_ms: Option<i64>,
}

fn cdrs(path: &Path) -> Vec<CdrRow> {
    let db = rusqlite::Connection::open(path).expect("open CDR database");
    let mut st = db
        .prepare(
            "SELECT trunk, path, orders, result, hangup_cause, transfer_target, agent_answer_ms \
             FROM ivrd_cdr ORDER BY start_ms",
        )
        .expect("CDR table");
    st.query_map([], |r| {
        Ok(CdrRow {
            trunk: r.get(0)?,
            path: r.get(1)?,
            orders: r.get(2)?,
            result: r.get(3)?,
            cause: r.get(4)?,
            target: r.get(5)?,
            agent_answer_ms: r.get(6)?,
        })
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[test]
fn ivrd_answers_takes_keys_transfers_through_a_kernel_conference_and_stops() {
    if !Path::new("/dev/dahdi").exists() {
        assert!(
            std::env::var_os("HIL_REQUIRE_DAHDI").is_none(),
            "HIL_REQUIRE_DAHDI is set but /dev/dahdi is missing"
        );
        println!("skipped: /dev/dahdi not present (runs in the hil-vm CI step)");
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ivrd = std::env::var_os("IVRD_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ivrd")), PathBuf::from);
    let config = std::env::var_os("IVRD_VM_CONFIG")
        .map_or_else(|| repo.join("hil-tests/ivrd/ivrd-vm.toml"), PathBuf::from);
    // The hil-tests take turns on the channels through this lock.
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/hil-tests-dahdi.lock")
        .expect("lock file");
    let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .expect("lock");

    let work = Path::new(WORK);
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work.join("recordings")).unwrap();
    order_hooks::sample_shop::create_sqlite(&work.join("shop.sqlite"), 20, 1).unwrap();
    let log = work.join("ivrd.log");
    // A writable copy of the config (the reloads below rewrite it), its relative paths made
    // absolute.
    let base = config.parent().expect("config folder").to_path_buf();
    let text = std::fs::read_to_string(&config)
        .expect("config")
        .replace(
            "vm-line = \"vm-line.ivr\"",
            &format!("vm-line = \"{}\"", base.join("vm-line.ivr").display()),
        )
        .replace(
            "dir = \"prompts\"",
            &format!("dir = \"{}\"", base.join("prompts").display()),
        );
    assert!(
        text.contains("channels = \"31\""),
        "the trunk line of {config:?}"
    );
    // Channel 40 has no signalling in the VM's system.conf: it does not open, the others
    // start, and it is tried again.
    let trunks = |list: &str| text.replace("channels = \"31\"", &format!("channels = \"{list}\""));
    let live_config = work.join("ivrd.toml");
    std::fs::write(&live_config, trunks("31,40")).unwrap();
    let t_start = Instant::now();
    let mut child = Command::new(&ivrd)
        .args(["run", "--config"])
        .arg(&live_config)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", ivrd.display()));
    wait_for_log(&log, "ivrd running", &mut child, Duration::from_secs(30));
    wait_for_log(
        &log,
        "DAHDI channel 40: ",
        &mut child,
        Duration::from_secs(1),
    );
    println!("ivrd running after {:?}", t_start.elapsed());
    // The config leaves `block_ms` at its DAHDI default: 10 ms blocks, 40 ms of buffers.
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let blocks = text.lines().find(|l| l.contains("DAHDI: ")).unwrap_or("");
    println!("ivrd: {blocks}");
    assert!(
        blocks.contains("80-sample blocks (10 ms), 4 buffers each way"),
        "ivrd's log:\n{text}"
    );

    let mut l = Lines {
        exchange: Far::open("exchange", env_u16("IVRD_VM_EXCHANGE", 7)),
        agent: Far::open("agent", env_u16("IVRD_VM_AGENT", 32)),
        t0: Instant::now(),
    };
    // DAHDI ignores ringing on an FXS-signalled channel for 2 s after its line went on-hook
    // (RING_DEBOUNCE_TIME), as opening the exchange side just did.
    l.run_for(2_200);

    // --- Call 1: greeting, keys, reply, the caller hangs up.
    let t = l.ring_and_wait_answer();
    println!("call 1: answered {t} ms after ringing");
    let greeting = l.listen(3_000);
    println!("call 1: greeting RMS {greeting:.0}");
    assert!(
        greeting > 300.0,
        "the greeting is silent: RMS {greeting:.0}"
    );
    l.run_for(1_000);
    l.key("1");
    l.run_for(300);
    l.key("123");
    let reply = l.listen(2_000);
    println!("call 1: reply after the keys RMS {reply:.0}");
    assert!(reply > 300.0, "no reply after the keys: RMS {reply:.0}");
    let t = l.caller_hangs_up();
    println!("call 1: trunk released {t} ms after the caller hung up");
    l.run_for(2_200);

    // --- Call 2: transfer to the agent, audio through the kernel conference.
    let t = l.ring_and_wait_answer();
    println!("call 2: answered {t} ms after ringing");
    l.run_for(1_000);
    l.key("0");
    let since = l.now_ms();
    let t = l
        .run_until(15_000, |l| l.agent.saw(LineEvent::RingOffHook, since))
        .unwrap_or_else(|| panic!("the station never rang; agent saw {:?}", l.agent.events));
    println!("call 2: station rang {t} ms after the keys");
    l.agent.hook(Hook::OffHook);
    let answered = l.now_ms();
    l.run_for(700);
    let sent = TONE_PEAK / std::f64::consts::SQRT_2;
    let (to_agent, caller_echo) = l.tone_through(true, 1_500);
    let (to_caller, agent_echo) = l.tone_through(false, 1_500);
    println!(
        "call 2: caller->agent RMS {to_agent:.0} ({:+.2} dB), agent->caller RMS {to_caller:.0} \
         ({:+.2} dB), sent {sent:.0}; own voice back: caller {caller_echo:.0}, agent \
         {agent_echo:.0}",
        db(to_agent, sent),
        db(to_caller, sent)
    );
    assert!(
        db(to_agent, sent).abs() < 1.0,
        "caller->agent at {:+.2} dB",
        db(to_agent, sent)
    );
    assert!(
        db(to_caller, sent).abs() < 1.0,
        "agent->caller at {:+.2} dB",
        db(to_caller, sent)
    );
    assert!(
        caller_echo < SILENT_RMS && agent_echo < SILENT_RMS,
        "a party hears itself: caller {caller_echo:.0}, agent {agent_echo:.0}"
    );
    // A ring cadence is 5 s: a station ivrd did not stop ringing would ring again by now.
    let talked = l.now_ms() - answered;
    l.run_for(5_500_u64.saturating_sub(talked));
    assert!(
        !l.agent.saw(LineEvent::RingBegin, answered),
        "the station still rings after the agent answered: {:?}",
        l.agent.events
    );
    // The agent hangs up: ivrd unbridges and releases the trunk.
    let since = l.now_ms();
    l.agent.hook(Hook::OnHook);
    let t = l
        .run_until(8_000, |l| l.exchange.saw(LineEvent::OnHook, since))
        .unwrap_or_else(|| {
            panic!(
                "the trunk was not released after the agent hung up; exchange saw {:?}",
                l.exchange.events
            )
        });
    println!("call 2: trunk released {t} ms after the agent hung up");
    let (after, _) = l.tone_through(true, 1_500);
    println!("call 2: caller->agent after unbridge RMS {after:.0}");
    assert!(
        after < SILENT_RMS,
        "audio still crosses after the unbridge: RMS {after:.0}"
    );
    l.exchange.hook(Hook::OnHook);
    l.run_for(2_200);

    // --- Call 3: the caller hangs up the Chinese way: the exchange sends busy tone.
    let t = l.ring_and_wait_answer();
    println!("call 3: answered {t} ms after ringing");
    l.run_for(1_000);
    let busy = ToneZone::by_code("cn")
        .and_then(|z| z.tone(Tone::Busy))
        .expect("cn busy tone");
    l.exchange.src = Source::Busy(Box::new(ToneGenerator::new(busy, -10.0)));
    let since = l.now_ms();
    let t = l
        .run_until(10_000, |l| l.exchange.saw(LineEvent::OnHook, since))
        .unwrap_or_else(|| {
            panic!(
                "ivrd did not hang up on busy tone within 10 s; exchange saw {:?}",
                l.exchange.events
            )
        });
    println!("call 3: trunk released {t} ms after the busy tone began");
    l.exchange.src = Source::Silence;
    l.exchange.hook(Hook::OnHook);
    l.run_for(300);
    drop(l);

    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    // --- Call 4: SIGHUP adds trunk 30 (cabled to channel 6); a call on it is answered.
    std::fs::write(&live_config, trunks("30-31,40")).unwrap();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).expect("kill");
    wait_for_log(
        &log,
        "channel 30: opened as a trunk",
        &mut child,
        Duration::from_secs(10),
    );
    let mut l = Lines {
        exchange: Far::open("exchange 2", 6),
        agent: Far::open("agent", env_u16("IVRD_VM_AGENT", 32)),
        t0: Instant::now(),
    };
    l.run_for(2_200);
    let t = l.ring_and_wait_answer();
    println!("call 4: the added trunk answered {t} ms after ringing");
    let greeting = l.listen(3_000);
    assert!(
        greeting > 300.0,
        "the greeting on the added trunk is silent: RMS {greeting:.0}"
    );
    let t = l.caller_hangs_up();
    println!("call 4: trunk released {t} ms after the caller hung up");
    l.run_for(300);
    drop(l);

    // --- SIGHUP removes trunk 31: it is idle, so it closes at once; a ring is not answered.
    std::fs::write(&live_config, trunks("30,40")).unwrap();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).expect("kill");
    wait_for_log(
        &log,
        "channel 31: closed",
        &mut child,
        Duration::from_secs(10),
    );
    let mut l = Lines {
        exchange: Far::open("exchange", env_u16("IVRD_VM_EXCHANGE", 7)),
        agent: Far::open("agent", env_u16("IVRD_VM_AGENT", 32)),
        t0: Instant::now(),
    };
    l.run_for(2_200);
    let since = l.now_ms();
    l.exchange.hook(Hook::Ring);
    let answered = l.run_until(6_000, |l| l.exchange.saw(LineEvent::RingOffHook, since));
    assert!(
        answered.is_none(),
        "the removed trunk answered a call {answered:?} ms after ringing"
    );
    println!("removed trunk 31: not answered in 6 s");
    l.exchange.hook(Hook::OnHook);
    l.run_for(300);
    drop(l);

    // --- SIGTERM: exit 0, CDRs written.
    let t_term = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("kill");
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        assert!(
            t_term.elapsed() < Duration::from_secs(15),
            "ivrd did not exit within 15 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    println!(
        "ivrd exited {status} {:?} after SIGTERM; its log:\n{text}",
        t_term.elapsed()
    );
    assert_eq!(status.code(), Some(0), "ivrd's exit status");
    assert!(
        text.contains("the others start, it is tried again every 30 s"),
        "channel 40 at start"
    );
    assert!(
        text.contains("kernel bridges: 1 (0 refused"),
        "the bridge was not carried by the kernel"
    );
    let rows = cdrs(&work.join("cdr.sqlite"));
    println!("CDRs: {rows:#?}");
    assert_eq!(rows.len(), 4, "{rows:?}");
    let (a, b, c, d) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    assert_eq!(a.trunk, 31);
    assert!(
        a.path.contains("key 1") && a.path.contains("find_order"),
        "{a:?}"
    );
    assert_eq!(a.orders, r#"["123"]"#, "the keyed order number: {a:?}");
    assert_eq!(a.result, "self-served", "{a:?}");
    assert_eq!(a.cause, "caller-onhook", "{a:?}");
    assert!(b.path.contains("key 0"), "{b:?}");
    assert_eq!(b.result, "transferred", "{b:?}");
    assert_eq!(b.cause, "agent-hangup", "{b:?}");
    assert_eq!(b.target.as_deref(), Some("agents"), "{b:?}");
    assert!(b.agent_answer_ms.is_some(), "{b:?}");
    assert_eq!(c.cause, "busy-tone", "{c:?}");
    assert_eq!(d.trunk, 30, "the call on the trunk a reload added: {d:?}");
    assert_eq!(d.cause, "caller-onhook", "{d:?}");
    println!("ivrd on DAHDI: whole test {:?}", t_start.elapsed());
}
