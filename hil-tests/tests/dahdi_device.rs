//! DAHDI-only behaviour through the `dahdi` crate's public API: clocks, exclusivity,
//! unconfigured channels, parameters, laws, clear channels, conferences, span status,
//! version, dialling, tones, IOMUX, echo canceller, gains and buffering. Skips where there
//! is no `/dev/dahdi`.

use std::time::{Duration, Instant};

use dahdi::{
    BufferInfo, BufferPolicy, Channel, ConfMode, Ctl, DialMode, Event, Gains, HookState, IoMux,
    Law, ReadOutcome, Signalling, Timer, Tone, WriteOutcome,
};
use hil_tests::contract::{decode, encode, rms};
use hil_tests::dahdi_rig::{drain, open, rig, wait_event, wait_readable};
use tel_types::{FRAME_SAMPLES, Hook};

fn ok<T>(r: dahdi::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// Accuracy of a clock: how far `elapsed` is from `expected`, in percent.
fn off_by_percent(elapsed: Duration, expected: Duration) -> f64 {
    (elapsed.as_secs_f64() - expected.as_secs_f64()).abs() / expected.as_secs_f64() * 100.0
}

#[test]
fn pseudo_channel_runs_at_8khz() {
    let Some(_rig) = rig("pseudo_channel_runs_at_8khz") else {
        return;
    };
    let mut p = ok(Channel::open_pseudo());
    assert!(p.number() >= 32768, "pseudo channel number {}", p.number());
    assert_eq!(ok(p.block_size()), 160);
    let params = ok(p.params());
    println!(
        "pseudo: {} law {:?} buffers {:?}",
        params.name,
        params.law,
        ok(p.buffers())
    );
    // 32 receive buffers (640 ms): scheduling hiccups (up to 100 ms under qemu TCG) must
    // not drop blocks, or the clock would look slow.
    let b = ok(p.buffers());
    ok(p.set_buffers(&BufferInfo { num_bufs: 32, ..b }));
    let silence = [0xFFu8; 160];
    let mut buf = [0u8; 160];
    // Drop the backlog, then time 250 blocks (5 s) from the next block.
    assert!(
        wait_readable(&p, 1000),
        "pseudo channel never became readable"
    );
    while let ReadOutcome::Data(_) = ok(p.read(&mut buf)) {}
    assert!(wait_readable(&p, 1000));
    let _ = ok(p.read(&mut buf));
    let start = Instant::now();
    let mut bytes = 0usize;
    while bytes < 250 * 160 {
        let _ = ok(p.write(&silence));
        assert!(
            wait_readable(&p, 1000),
            "no audio for 1 s after {bytes} bytes"
        );
        match ok(p.read(&mut buf)) {
            ReadOutcome::Data(n) => bytes += n,
            ReadOutcome::WouldBlock => {}
            ReadOutcome::EventPending => panic!("event on a pseudo channel: {:?}", p.get_event()),
        }
    }
    let elapsed = start.elapsed();
    let expected = Duration::from_micros(bytes as u64 * 125);
    let off = off_by_percent(elapsed, expected);
    println!("pseudo: {bytes} bytes in {elapsed:?} (expected {expected:?}), off by {off:.3} %");
    assert!(off < 1.0, "pseudo clock off by {off:.3} %");
}

#[test]
fn timer_expires_every_20ms() {
    let Some(_rig) = rig("timer_expires_every_20ms") else {
        return;
    };
    let t = ok(Timer::open());
    assert_eq!(ok(t.get_event()), None, "a new timer has no event");
    ok(t.set_period_samples(160));
    assert!(ok(t.wait(1000)), "timer never expired");
    ok(t.ack(0));
    let start = Instant::now();
    let mut max_gap = Duration::ZERO;
    let mut last = start;
    for i in 0..250 {
        assert!(ok(t.wait(1000)), "timer stopped after {i} expiries");
        assert_eq!(ok(t.get_event()), Some(Event::TimerExpired));
        ok(t.ack(1));
        let now = Instant::now();
        max_gap = max_gap.max(now - last);
        last = now;
    }
    let elapsed = start.elapsed();
    let off = off_by_percent(elapsed, Duration::from_secs(5));
    println!("timer: 250 x 20 ms in {elapsed:?}, off by {off:.3} %, largest gap {max_gap:?}");
    assert!(off < 1.0, "timer off by {off:.3} %");
    ok(t.set_period_samples(0));
    ok(t.ack(0));
    ok(t.ping());
    assert_eq!(ok(t.get_event()), Some(Event::TimerPing));
    ok(t.pong());
    assert_eq!(ok(t.get_event()), None);
}

#[test]
fn second_open_is_busy() {
    let Some(rig) = rig("second_open_is_busy") else {
        return;
    };
    let n = rig.config.spare_exchange;
    let first = open(n);
    let e = Channel::open(n).expect_err("a channel can be opened only once");
    println!("second open: {e}");
    assert!(e.is_busy(), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "channel {n}: DAHDI_SPECIFY: device busy (another program has this channel open) [EBUSY]"
        )
    );
    drop(first);
    let again = open(n);
    assert_eq!(again.number(), u32::from(n));
}

#[test]
fn unconfigured_channel_is_named() {
    let Some(rig) = rig("unconfigured_channel_is_named") else {
        return;
    };
    let n = rig.config.unconfigured;
    if n == 0 {
        println!("skipped: HIL_UNCONFIGURED=0");
        return;
    }
    let e = Channel::open(n).expect_err("an unconfigured channel cannot be opened");
    println!("unconfigured: {e}");
    assert!(e.is_unconfigured(), "{e}");
    assert_eq!(
        e.to_string(),
        format!("channel {n} is not configured (run dahdi_cfg) [DAHDI_SPECIFY: ENXIO]")
    );
}

#[test]
fn params_describe_the_channels() {
    let Some(rig) = rig("params_describe_the_channels") else {
        return;
    };
    let c = rig.config;
    let x = ok(open(c.exchange).params());
    let p = ok(open(c.phone).params());
    println!("exchange: {x:?}\nphone: {p:?}");
    assert_eq!(x.channo, u32::from(c.exchange));
    assert_eq!(p.channo, u32::from(c.phone));
    assert_eq!(x.signalling, Signalling::FxoKs);
    assert_eq!(p.signalling, Signalling::FxsKs);
    assert!(
        x.span >= 1 && p.span >= 1 && x.span != p.span,
        "spans {} {}",
        x.span,
        p.span
    );
    assert!(x.position >= 1 && !x.name.is_empty());
    assert_eq!(p.rx_hook, HookState::OnHook);
    assert!(
        x.times.rx_flash_ms > 0 && x.times.debounce_ms > 0,
        "{:?}",
        x.times
    );
    assert_eq!(
        open(c.alaw_exchange).law(),
        Law::ALaw,
        "channel {} should be alaw= in system.conf",
        c.alaw_exchange
    );
}

#[test]
fn block_size_and_buffers() {
    let Some(rig) = rig("block_size_and_buffers") else {
        return;
    };
    let mut ch = open(rig.config.spare_exchange);
    ok(ch.set_block_size(80));
    assert_eq!(ok(ch.block_size()), 80);
    drain(&mut ch);
    assert!(wait_readable(&ch, 1000));
    let mut buf = [0u8; 320];
    match ok(ch.read(&mut buf)) {
        ReadOutcome::Data(n) => assert_eq!(n, 80, "a block is 80 bytes at block size 80"),
        other => panic!("{other:?}"),
    }
    let want = BufferInfo {
        tx_policy: BufferPolicy::HalfFull,
        rx_policy: BufferPolicy::Immediate,
        num_bufs: 4,
        buf_size: 80,
        read_bufs: 0,
        write_bufs: 0,
    };
    ok(ch.set_buffers(&want));
    let got = ok(ch.buffers());
    println!("buffers: {got:?}");
    assert_eq!(
        (got.tx_policy, got.rx_policy, got.num_bufs, got.buf_size),
        (BufferPolicy::HalfFull, BufferPolicy::Immediate, 4, 80)
    );
    ok(ch.set_buffer_events(true));
    ok(ch.set_buffer_events(false));
}

#[test]
fn linear_frames_are_twice_the_bytes() {
    let Some(rig) = rig("linear_frames_are_twice_the_bytes") else {
        return;
    };
    let mut ch = open(rig.config.exchange);
    let mut buf = [0u8; 320];
    for (law, bytes) in [(Law::Linear, 320), (Law::ALaw, 160), (Law::MuLaw, 160)] {
        ok(ch.set_law(law));
        drain(&mut ch);
        assert!(wait_readable(&ch, 1000));
        match ok(ch.read(&mut buf)) {
            ReadOutcome::Data(n) => assert_eq!(n, bytes, "{law:?}"),
            other => panic!("{law:?}: {other:?}"),
        }
        assert_eq!(
            ok(ch.write(&buf[..bytes])),
            WriteOutcome::Written(bytes),
            "{law:?}"
        );
    }
}

#[test]
fn clear_channels_pass_bytes_unchanged() {
    let Some(rig) = rig("clear_channels_pass_bytes_unchanged") else {
        return;
    };
    let (a, b) = (rig.config.clear_a, rig.config.clear_b);
    if a == 0 {
        println!("skipped: HIL_CLEAR_A=0");
        return;
    }
    let mut tx = open(a);
    let mut rx = open(b);
    assert_eq!(ok(tx.params()).signalling, Signalling::Clear);
    let e = tx
        .hook(Hook::OffHook)
        .expect_err("a clear channel has no hook");
    println!("hook on clear channel: {e}");
    assert!(
        e.to_string()
            .contains("not possible on this channel's signalling type"),
        "{e}"
    );
    let pattern: Vec<u8> = (0..160u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut got: Vec<u8> = Vec::new();
    let mut buf = [0u8; 160];
    drain(&mut rx);
    let start = Instant::now();
    let mut found = None;
    while start.elapsed() < Duration::from_secs(3) && found.is_none() {
        let _ = ok(tx.write(&pattern));
        if wait_readable(&rx, 100) {
            while let ReadOutcome::Data(n) = ok(rx.read(&mut buf)) {
                got.extend_from_slice(&buf[..n]);
            }
        }
        found = got.windows(160).position(|w| w == pattern.as_slice());
    }
    let at = found.unwrap_or_else(|| panic!("pattern never arrived in {} bytes", got.len()));
    println!(
        "clear {a}->{b}: pattern at byte {at} after {:?}",
        start.elapsed()
    );
}

/// Writes a 1 kHz tone (linear) on `tx` for `ms` and returns the RMS received on `rx`
/// after the first 200 ms.
fn tone_through(tx: &mut Channel, rx: &mut Channel, ms: u64) -> f64 {
    let mut n = 0u64;
    let mut got: Vec<i16> = Vec::new();
    let mut buf = [0u8; 320];
    drain(rx);
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(ms) {
        loop {
            let mut pcm = [0i16; FRAME_SAMPLES];
            for (i, s) in pcm.iter_mut().enumerate() {
                let t = (n + i as u64) as f64 / 8000.0;
                *s = (7139.0 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as i16;
            }
            let mut bytes = [0u8; 320];
            encode(Law::Linear, &pcm, &mut bytes);
            match ok(tx.write(&bytes)) {
                WriteOutcome::Written(_) => n += FRAME_SAMPLES as u64,
                WriteOutcome::WouldBlock => break,
                WriteOutcome::EventPending => {
                    let _ = ok(tx.get_event());
                }
            }
        }
        if wait_readable(rx, 30) {
            loop {
                match ok(rx.read(&mut buf)) {
                    ReadOutcome::Data(k) => {
                        let mut pcm = [0i16; FRAME_SAMPLES];
                        let s = decode(Law::Linear, &buf[..k], &mut pcm);
                        got.extend_from_slice(&pcm[..s]);
                    }
                    ReadOutcome::WouldBlock => break,
                    ReadOutcome::EventPending => {
                        let _ = ok(rx.get_event());
                    }
                }
            }
        }
    }
    rms(got.get(1600..).unwrap_or(&[]))
}

#[test]
fn conference_bridges_two_channels_in_the_kernel() {
    let Some(rig) = rig("conference_bridges_two_channels_in_the_kernel") else {
        return;
    };
    let c = rig.config;
    if c.conf_a == 0 {
        println!("skipped: HIL_CONF_A=0");
        return;
    }
    let a = open(c.conf_a);
    let b = open(c.conf_b);
    let mut far_a = open(c.conf_far_a);
    let mut far_b = open(c.conf_far_b);
    for ch in [&mut far_a, &mut far_b] {
        ok(ch.set_law(Law::Linear));
    }
    let before = tone_through(&mut far_a, &mut far_b, 600);
    let member = ConfMode::Conference {
        conf: 0,
        talker: true,
        listener: true,
    };
    let conf = ok(a.set_conference(member));
    assert!(conf >= 1, "kernel chose conference {conf}");
    ok(b.set_conference(ConfMode::Conference {
        conf,
        talker: true,
        listener: true,
    }));
    assert_eq!(
        ok(b.conference()),
        Some(ConfMode::Conference {
            conf,
            talker: true,
            listener: true
        })
    );
    let during = tone_through(&mut far_a, &mut far_b, 1000);
    ok(a.set_conference(ConfMode::Normal));
    ok(b.set_conference(ConfMode::Normal));
    assert_eq!(ok(a.conference()), Some(ConfMode::Normal));
    let after = tone_through(&mut far_a, &mut far_b, 600);
    let sent = 7139.0 / std::f64::consts::SQRT_2;
    let db = 20.0 * (during / sent).log10();
    println!(
        "conference {conf}: {}->{} RMS before {before:.0}, bridged {during:.0} ({db:+.1} dB), after {after:.0}",
        c.conf_far_a, c.conf_far_b
    );
    assert!(
        before < 50.0,
        "audio crossed before the bridge: RMS {before:.0}"
    );
    assert!(db.abs() < 3.0, "bridged audio at {db:+.1} dB");
    assert!(
        after < 50.0,
        "audio still crosses after unbridging: RMS {after:.0}"
    );
    // Conference links: Debian's build leaves CONFIG_DAHDI_CONFLINK out.
    match a.conf_link(conf, 1000, true) {
        Ok(()) => ok(a.conf_link(conf, 1000, false)),
        Err(e) => {
            println!("conf_link: {e}");
            assert!(e.to_string().contains("not supported"), "{e}");
        }
    }
}

#[test]
fn span_status_and_version() {
    let Some(rig) = rig("span_status_and_version") else {
        return;
    };
    let ctl = ok(Ctl::open());
    let v = ok(ctl.version());
    println!(
        "DAHDI version {:?}, echo canceller {:?}",
        v.version, v.echo_canceller
    );
    assert!(
        v.version.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "{v:?}"
    );
    let span = ok(open(rig.config.exchange).params()).span;
    let s = ok(ctl.span_status(span));
    println!("span {span}: {s:?}");
    assert_eq!(s.span, span);
    assert!(!s.name.is_empty());
    assert!(
        s.total_channels >= s.configured_channels && s.configured_channels >= 1,
        "{s:?}"
    );
    assert!(s.total_spans >= 2, "{s:?}");
    let e = ctl
        .span_status(s.total_spans + 50)
        .expect_err("no such span");
    println!("missing span: {e}");
    assert!(
        e.to_string()
            .starts_with(&format!("span {}: DAHDI_SPANSTAT: ", s.total_spans + 50))
    );
}

#[test]
fn dial_tone_and_dtmf_dialling() {
    let Some(rig) = rig("dial_tone_and_dtmf_dialling") else {
        return;
    };
    let c = rig.config;
    let x = open(c.exchange);
    let mut p = open(c.phone);
    ok(p.set_law(Law::Linear));
    drain(&mut p);
    ok(p.hook(Hook::OffHook));
    let mut xm = x;
    wait_event(&mut xm, Event::RingOffHook, 3000)
        .unwrap_or_else(|seen| panic!("no off-hook: {seen:?}"));
    // Dial tone from the exchange side, heard on the phone side.
    ok(xm.send_tone(Some(Tone::Dial)));
    let mut got: Vec<i16> = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 320];
    while start.elapsed() < Duration::from_millis(800) {
        if wait_readable(&p, 100) {
            while let ReadOutcome::Data(n) = ok(p.read(&mut buf)) {
                let mut pcm = [0i16; 160];
                let k = decode(Law::Linear, &buf[..n], &mut pcm);
                got.extend_from_slice(&pcm[..k]);
            }
        }
    }
    ok(xm.send_tone(None));
    let level = rms(got.get(1600..).unwrap_or(&[]));
    println!("dial tone on the phone side: RMS {level:.0}");
    assert!(level > 500.0, "no dial tone heard: RMS {level:.0}");
    // The kernel dials DTMF and reports when done.
    ok(p.dial("T123", DialMode::Replace));
    assert!(ok(p.is_dialing()));
    let (ms, seen) = wait_event(&mut p, Event::DialComplete, 5000)
        .unwrap_or_else(|seen| panic!("no DialComplete: {seen:?}"));
    println!("DIAL T123: DialComplete after {ms} ms ({seen:?})");
    assert!(!ok(p.is_dialing()));
    let e = p
        .dial(&"1".repeat(300), DialMode::Append)
        .expect_err("too long");
    assert!(e.to_string().contains("longer than 255"), "{e}");
    ok(p.cancel_dial());
    ok(p.hook(Hook::OnHook));
    wait_event(&mut xm, Event::OnHook, 4000).unwrap_or_else(|seen| panic!("no on-hook: {seen:?}"));
}

#[test]
fn iomux_reports_readiness_and_events() {
    let Some(rig) = rig("iomux_reports_readiness_and_events") else {
        return;
    };
    let mut x = open(rig.config.spare_exchange);
    let mut p = open(rig.config.spare_phone);
    drain(&mut x);
    let r = ok(x.iomux(IoMux::READ | IoMux::SIGEVENT));
    println!("IOMUX READ|SIGEVENT -> {r:?}");
    assert!(r.contains(IoMux::READ), "{r:?}");
    ok(p.hook(Hook::OffHook));
    // Wait (blocking IOMUX) until the off-hook event is there.
    let start = Instant::now();
    loop {
        let r = ok(x.iomux(IoMux::SIGEVENT | IoMux::NOWAIT));
        if r.contains(IoMux::SIGEVENT) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(3), "no SIGEVENT");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(ok(x.get_event()), Some(Event::RingOffHook));
    // A flash right after going off-hook is refused during the debounce, in words.
    let e = p
        .hook(Hook::Flash)
        .expect_err("flash inside the debounce time");
    println!("early flash: {e}");
    assert!(e.is_busy() && e.to_string().contains("debounce"), "{e}");
    ok(p.hook(Hook::OnHook));
    wait_event(&mut x, Event::OnHook, 4000).unwrap_or_else(|seen| panic!("no on-hook: {seen:?}"));
    drain(&mut p);
}

#[test]
fn echo_canceller_gains() {
    let Some(rig) = rig("echo_canceller_gains") else {
        return;
    };
    let ch = open(rig.config.exchange);
    ok(ch.set_echo_canceller(128, &[]));
    ok(ch.disable_echo_canceller());
    let e = ch
        .set_echo_canceller(128, &[("a_name_much_too_long", 1)])
        .expect_err("long name");
    assert!(e.to_string().contains("longer than 15"), "{e}");
    let law = ok(ch.params()).law.unwrap_or(Law::MuLaw);
    let g = Gains::from_db(law, 3.0, -3.0);
    ok(ch.set_gains(&g));
    assert_eq!(ok(ch.gains()), g);
    ok(ch.set_gains(&Gains::unity()));
    assert_eq!(ok(ch.gains()), Gains::unity());
}
