//! `ivrd run` on the simulated card, driven by signals: SIGHUP with a broken script is
//! refused while calls go on, SIGTERM lets calls finish, flushes every CDR and exits 0.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn wait_exit(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[test]
fn sighup_refuses_a_broken_script_and_sigterm_flushes_cdrs() {
    let dir = std::env::temp_dir().join(format!("ivrd-run-signals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let r = repo();
    // The script and its includes, copied so the test can break it.
    let scripts = dir.join("scripts");
    std::fs::create_dir_all(scripts.join("lib")).unwrap();
    for f in [
        "shop-hotline.ivr",
        "lib/common.ivr",
        "lib/order.ivr",
        "lib/returns.ivr",
        "lib/message.ivr",
    ] {
        std::fs::copy(r.join("ivr-scripts").join(f), scripts.join(f)).unwrap();
    }
    std::fs::create_dir_all(dir.join("recordings")).unwrap();
    let shop = dir.join("shop.sqlite");
    order_hooks::sample_shop::create_sqlite(&shop, 2_000, 1).unwrap();
    let cdr = dir.join("cdr.sqlite");
    let config = dir.join("ivrd.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[daemon]
grace_period_s = 2

[metrics]
enabled = false

[[boards]]
name = "sim"
kind = "sim"
law = "alaw"
tone_zone = "cn"
profile = "{r}/firmware-stubs/analog-8fxo-8fxs.toml"
[boards.load]
calls_per_hour = 3600
hold_mean_s = 20
seed = 9
personas = {{ order-status = 0.5, wants-agent = 0.3, impatient = 0.2 }}

[[trunks]]
name = "400-analog"
board = "sim"
channels = "1-8"
script = "shop-hotline"
answer_after_rings = 2
record = true
[trunks.caller_id]
standard = "fsk-bell202"
arrives = "after-first-ring"
[trunks.busy_tone]
disconnect = true

[[stations]]
board = "sim"
channels = "9-16"
groups = ["orders", "sales", "service", "after_sales", "complaints"]

[[agent_groups]]
name = "orders"
[[agent_groups]]
name = "sales"
[[agent_groups]]
name = "service"
[[agent_groups]]
name = "after_sales"
[[agent_groups]]
name = "complaints"

[scripts]
shop-hotline = "{s}/shop-hotline.ivr"

[prompts]
dir = "{r}/ivr-scripts/prompts"
default_language = "zh-CN"

[order_hooks]
backend = "sqlite"
path = "{shop}"

[recordings]
dir = "{d}/recordings"

[cdr]
store = "sqlite"
path = "{cdr}"
"#,
            r = r.display(),
            s = scripts.display(),
            shop = shop.display(),
            d = dir.display(),
            cdr = cdr.display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ivrd"))
        .args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(child.id() as i32);
    // Calls arrive about once a second; let some run.
    std::thread::sleep(Duration::from_secs(8));
    if child.try_wait().unwrap().is_some() {
        let mut log = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        panic!("the daemon died:\n{log}");
    }
    std::fs::write(
        scripts.join("shop-hotline.ivr"),
        "flow main\n  play \"welcome\"\n  goto nowhere\nend\n",
    )
    .unwrap();
    kill(pid, Signal::SIGHUP).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        child.try_wait().unwrap().is_none(),
        "a broken script on reload stopped the daemon"
    );
    // A broken config (a misspelt key) is refused as a whole, with its file and line.
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        good.replace("answer_after_rings = 2", "answer_after_ring = 3"),
    )
    .unwrap();
    kill(pid, Signal::SIGHUP).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        child.try_wait().unwrap().is_none(),
        "a broken config stopped the daemon"
    );
    // The script repaired and the config changed: the reload is applied.
    std::fs::copy(
        r.join("ivr-scripts/shop-hotline.ivr"),
        scripts.join("shop-hotline.ivr"),
    )
    .unwrap();
    // New recordings go to another folder (calls being recorded finish in the old one),
    // new CDRs to another database (after the old one is flushed).
    std::fs::create_dir_all(dir.join("recordings2")).unwrap();
    std::fs::write(
        &config,
        good.replace("answer_after_rings = 2", "answer_after_rings = 3")
            .replace("/recordings\"", "/recordings2\"")
            .replace("cdr.sqlite", "cdr2.sqlite"),
    )
    .unwrap();
    kill(pid, Signal::SIGHUP).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        child.try_wait().unwrap().is_none(),
        "a good reload stopped the daemon"
    );
    kill(pid, Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(30)).expect("the daemon did not stop");
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(status.success(), "exit {status:?}\n{log}");
    // The audio thread held the CPUs' wake-up latency at the default 0 µs for the loop's
    // life, or (where this user may not write the PM QoS device) said it was refused.
    let may_write = std::fs::File::options()
        .write(true)
        .open("/dev/cpu_dma_latency")
        .is_ok();
    let want = if may_write {
        "CPU wake-up latency held at 0 µs"
    } else {
        "CPU wake-up latency 0 µs (/dev/cpu_dma_latency: "
    };
    assert!(
        log.lines()
            .any(|l| l.contains("audio thread: ") && l.contains(want)),
        "{want:?} (device writable: {may_write}) not in\n{log}"
    );
    assert!(log.contains("refused, the old one runs on"), "{log}");
    let cfg_name = config.display().to_string();
    assert!(
        log.lines().any(|l| l.contains("reload refused")
            && l.contains(&cfg_name)
            && l.contains("answer_after_ring")),
        "the refused config names its file and key:\n{log}"
    );
    assert!(
        log.contains("reload: script `shop-hotline` version 2 takes new calls"),
        "{log}"
    );
    assert!(log.contains("reload applied"), "{log}");
    assert!(
        log.contains("reload: recordings: new recordings go to"),
        "{log}"
    );
    assert!(log.contains("stopping: no new calls"), "{log}");
    // Every CDR produced is in the database.
    let line = log
        .lines()
        .find(|l| l.contains("stopped: CDRs produced"))
        .unwrap_or_else(|| panic!("{log}"));
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    let n = nums.len();
    let (produced, written, spilled) = (nums[n - 3], nums[n - 2], nums[n - 1]);
    assert!(produced >= 3, "{line}");
    assert_eq!(produced, written + spilled, "{line}");
    let mut stored = ivrd::cdr::read_all(&cdr).unwrap();
    let before = stored.len();
    let after = ivrd::cdr::read_all(&dir.join("cdr2.sqlite")).unwrap();
    assert!(!after.is_empty(), "no CDR went to the new store");
    assert!(before > 0, "no CDR went to the old store");
    stored.extend(after);
    assert_eq!(stored.len() as u64, written, "{line}");
    assert!(
        log.contains("reload: cdr: new CDRs go to the new store"),
        "{log}"
    );
    // Calls went on after the refused reload: some answered after it.
    assert!(
        stored.iter().any(|c| c.answer_ms.is_some()),
        "no call was answered"
    );
    // Whole-call recordings: every answered call's WAV is complete (no `.part` left).
    let recorded: Vec<&String> = stored.iter().filter_map(|c| c.recording.as_ref()).collect();
    assert!(!recorded.is_empty(), "no call was recorded");
    assert!(
        recorded.iter().any(|p| p.contains("/recordings2/")),
        "calls answered after the reload are recorded in the new folder: {recorded:?}"
    );
    for p in recorded {
        let r = hound::WavReader::open(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert!(r.duration() > 8000, "{p}: {} samples", r.duration());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Trunks added and removed by SIGHUP on the simulated card: the added ones open and answer,
/// the removed ones close once their calls end, and no call is cut.
#[test]
fn sighup_opens_and_closes_trunks_without_cutting_calls() {
    let dir = std::env::temp_dir().join(format!("ivrd-run-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let r = repo();
    let shop = dir.join("shop.sqlite");
    order_hooks::sample_shop::create_sqlite(&shop, 2_000, 1).unwrap();
    std::fs::create_dir_all(dir.join("recordings")).unwrap();
    let cdr = dir.join("cdr.sqlite");
    let config = dir.join("ivrd.toml");
    // Callers who want an agent (agents talk about 8 s), several a second: every trunk is
    // in a call nearly all the time.
    let text = |trunks: &str| {
        format!(
            r#"
[daemon]
grace_period_s = 2

[metrics]
enabled = false

[[boards]]
name = "sim"
kind = "sim"
profile = "{r}/firmware-stubs/analog-8fxo-8fxs.toml"
[boards.load]
calls_per_hour = 20000
hold_mean_s = 8
seed = 4
personas = {{ wants-agent = 1.0 }}

[[trunks]]
name = "400-analog"
board = "sim"
channels = "{trunks}"
script = "shop-hotline"
answer_after_rings = 2
record = true

[[stations]]
board = "sim"
channels = "9-16"
groups = ["orders", "sales", "service", "after_sales", "complaints"]

[[agent_groups]]
name = "orders"
[[agent_groups]]
name = "sales"
[[agent_groups]]
name = "service"
[[agent_groups]]
name = "after_sales"
[[agent_groups]]
name = "complaints"

[scripts]
shop-hotline = "{r}/ivr-scripts/shop-hotline.ivr"

[prompts]
dir = "{r}/ivr-scripts/prompts"

[order_hooks]
backend = "sqlite"
path = "{shop}"

[recordings]
dir = "{d}/recordings"

[cdr]
store = "sqlite"
path = "{cdr}"
"#,
            r = r.display(),
            shop = shop.display(),
            d = dir.display(),
            cdr = cdr.display()
        )
    };
    std::fs::write(&config, text("1-6")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ivrd"))
        .args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(child.id() as i32);
    // The log, read as it comes.
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let log = std::sync::Arc::clone(&log);
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                log.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let wait_log = |what: &str, limit: Duration| {
        let t0 = Instant::now();
        while !log.lock().unwrap().contains(what) {
            assert!(
                t0.elapsed() < limit,
                "no `{what}` in {limit:?}:\n{}",
                log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_log("ivrd running", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(4));
    // Add trunks 7 and 8 (spares of the card until now).
    std::fs::write(&config, text("1-8")).unwrap();
    kill(pid, Signal::SIGHUP).unwrap();
    wait_log("channel 8: opened as a trunk", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(15));
    // Remove 6, 7 and 8 while calls run on them.
    std::fs::write(&config, text("1-5")).unwrap();
    let removed_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    kill(pid, Signal::SIGHUP).unwrap();
    for n in [6, 7, 8] {
        wait_log(&format!("channel {n}: closed"), Duration::from_secs(90));
    }
    assert!(child.try_wait().unwrap().is_none(), "the daemon died");
    kill(pid, Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(30)).expect("the daemon did not stop");
    reader.join().unwrap();
    let log = log.lock().unwrap().clone();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(
        log.contains("reload: channel(s) [7, 8] added: opened now"),
        "{log}"
    );
    for n in [7, 8] {
        assert!(
            log.contains(&format!("channel {n}: opened as a trunk of `400-analog`")),
            "{log}"
        );
    }
    assert!(
        log.contains("reload: channel(s) [6, 7, 8] removed: each closes when idle"),
        "{log}"
    );
    for n in [6, 7, 8] {
        assert!(log.contains(&format!("channel {n}: closed")), "{log}");
    }
    assert!(!log.contains("did not open"), "{log}");
    let stored = ivrd::cdr::read_all(&cdr).unwrap();
    // The added trunks answered calls.
    assert!(
        stored
            .iter()
            .any(|c| (7..=8).contains(&c.trunk) && c.answer_ms.is_some()),
        "no call answered on an added trunk: {stored:?}"
    );
    // Calls on the added trunks were recorded whole, like the others (their taps went to
    // the recording writer when they opened).
    let added: Vec<&String> = stored
        .iter()
        .filter(|c| (7..=8).contains(&c.trunk))
        .filter_map(|c| c.recording.as_ref())
        .collect();
    assert!(!added.is_empty(), "no call on an added trunk was recorded");
    for p in added {
        let r = hound::WavReader::open(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert!(r.duration() > 8000, "{p}: {} samples", r.duration());
    }
    // A call was in progress on a removed trunk when the reload came, and went on to its
    // end.
    assert!(
        stored.iter().any(|c| (6..=8).contains(&c.trunk)
            && c.answer_ms.is_some_and(|a| a < removed_at)
            && c.end_ms > removed_at + 500),
        "no call spanned the removal: {stored:?}"
    );
    // No call was cut by the removal: every call on 6-8 ended by the caller or the IVR.
    for c in stored.iter().filter(|c| (6..=8).contains(&c.trunk)) {
        assert!(
            !matches!(
                c.hangup_cause,
                ivrd::cdr::HangupCause::ChannelFailure | ivrd::cdr::HangupCause::Shutdown
            ),
            "{c:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
