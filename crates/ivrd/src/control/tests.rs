//! Whole calls in virtual time: the simulated card, the real pipelines and audio loop, the
//! engine running the bundled scripts, the SQLite sample shop.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ivrd::cdr::{CallResult, HangupCause};
use ivrd::config::Config;
use ivrd::metrics::Metrics;
use order_hooks::{GuardConfig, Guarded, Preset, Shop, ShopConfig, SqlShop};
use simboard::{BoardOptions, CallSpec, Outcome, Persona, Profile, SimBoard, Step};
use tel_types::{CallerId, FixedStr};

use super::virt::Virt;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ivrd-control-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A sample shop of 500 orders; returns it and some order numbers that exist.
fn shop(dir: &Path) -> (Arc<dyn Shop>, Vec<String>) {
    let path = dir.join("shop.sqlite");
    order_hooks::sample_shop::create_sqlite(&path, 500, 7).unwrap();
    let orders: Vec<String> = order_hooks::sample_shop::orders(500, 7)
        .take(20)
        .map(|o| o.order_no)
        .collect();
    let url = format!("sqlite:{}", path.display());
    let shop = Guarded::new(
        SqlShop::open(&ShopConfig::new(&url, Preset::Generic)).unwrap(),
        GuardConfig::default(),
    );
    (Arc::new(shop), orders)
}

fn config(extra: &str) -> Config {
    let r = repo();
    let text = format!(
        r#"
[[boards]]
name = "sim"
kind = "sim"
law = "alaw"
tone_zone = "cn"
profile = "{r}/firmware-stubs/analog-8fxo-8fxs.toml"

[[trunks]]
name = "400-analog"
board = "sim"
channels = "1-8"
script = "shop-hotline"
answer_after_rings = 2
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
ring_timeout_s = 15
[[agent_groups]]
name = "after_sales"
[[agent_groups]]
name = "complaints"

[scripts]
shop-hotline = "{r}/ivr-scripts/shop-hotline.ivr"

[prompts]
dir = "{r}/ivr-scripts/prompts"
default_language = "zh-CN"

[order_hooks]
backend = "sqlite"
path = "/nonexistent/shop.sqlite"

[recordings]
dir = "/nonexistent/recordings"

[cdr]
store = "sqlite"
path = "/nonexistent/cdr.sqlite"
{extra}
"#,
        r = r.display()
    );
    Config::parse(&text, &r.join("test.toml")).unwrap_or_else(|e| panic!("{e:?}"))
}

fn rig(name: &str) -> (Virt, Vec<String>, PathBuf) {
    let dir = tmp(name);
    let (shop, orders) = shop(&dir);
    let cfg = config("");
    let profile = Profile::load(repo().join("firmware-stubs/analog-8fxo-8fxs.toml")).unwrap();
    let board = SimBoard::with_options(
        profile,
        BoardOptions {
            capture_audio: true,
            seed: 3,
        },
    );
    let metrics = Arc::new(Metrics::new(16));
    let v = Virt::new(board, &cfg, shop, &metrics).unwrap();
    (v, orders, dir)
}

fn cid(number: &str) -> CallerId {
    let mut n = FixedStr::EMPTY;
    for c in number.chars() {
        n.push(c);
    }
    CallerId {
        number: n,
        ..CallerId::default()
    }
}

fn spec(persona: Arc<Persona>, number: &str) -> CallSpec {
    CallSpec {
        persona,
        caller_id: cid(number),
        hold_ms: None,
        give_up_ms: None,
        seed: 5,
    }
}

/// Daytime on a weekday (the script's service hours are open): the rig's epoch is 2026-11-18.
#[test]
fn order_status_by_number_is_said_back() {
    let (mut v, orders, _dir) = rig("order");
    let order = orders[1].clone();
    let caller = super::virt::order_by_number(&order);
    v.board.offer_call(1, spec(caller, "13800138000"));
    v.run_ms(150_000);
    assert_eq!(v.cdrs.len(), 1, "one CDR per call: {:?}", v.cdrs);
    let cdr = &v.cdrs[0];
    eprintln!(
        "PATH {:?} {:?}",
        cdr.path,
        v.board.finished_calls()[0].keys_sent
    );
    assert_eq!(cdr.orders, vec![order.clone()], "{cdr:?}");
    assert_eq!(cdr.caller_id.as_deref(), Some("13800138000"));
    assert!(
        cdr.path.iter().any(|p| p.contains("find_order: found")),
        "{:?}",
        cdr.path
    );
    assert_eq!(cdr.result, CallResult::SelfServed, "{cdr:?}");
    let calls = v.board.finished_calls();
    assert_eq!(calls.len(), 1);
    let heard = &calls[0].hearing;
    // The caller heard the greeting and the order's status prompt, as audio.
    let welcome = read(&repo().join("ivr-scripts/prompts/zh-CN/welcome.wav"));
    let order_menu = read(&repo().join("ivr-scripts/prompts/zh-CN/order_menu.wav"));
    assert!(heard.heard_prompt(&welcome).is_some(), "greeting not heard");
    assert!(
        heard.heard_prompt(&order_menu).is_some(),
        "order menu not heard"
    );
    assert_eq!(calls[0].keys_sent, format!("11{order}#9"));
    assert!(v.ctl.all_idle(), "the trunk is idle again");
    assert_eq!(v.ctl.counts().lookups_found, 1);
}

fn read(p: &Path) -> Vec<i16> {
    ivrd::prompt_wav::read(p).unwrap()
}

#[test]
fn hangup_mid_menu_is_seen_by_busy_tone_and_the_trunk_is_reused() {
    let (mut v, orders, _dir) = rig("busy");
    let quitter = Arc::new(Persona::new(
        "quitter",
        vec![
            Step::WaitForAudio { timeout_ms: 10_000 },
            Step::Wait(2_000),
            Step::HangUp,
        ],
    ));
    v.board.offer_call(2, spec(quitter, "13900139000"));
    v.run_ms(40_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    assert_eq!(v.cdrs[0].hangup_cause, HangupCause::BusyTone);
    assert_eq!(v.cdrs[0].result, CallResult::Abandoned);
    assert!(v.ctl.all_idle());
    // Released: the exchange saw us hang up, and the same trunk takes the next call.
    let first = &v.board.finished_calls()[0];
    assert_eq!(first.outcome, Outcome::FarEndHungUp);
    let caller = super::virt::order_by_number(&orders[2]);
    v.board.offer_call(2, spec(caller, "13900139001"));
    v.run_ms(90_000);
    assert_eq!(v.cdrs.len(), 2, "{:?}", v.cdrs);
    assert_eq!(v.cdrs[1].trunk, 2);
    assert_eq!(v.cdrs[1].orders, vec![orders[2].clone()]);
}

#[test]
fn transfer_rings_an_agent_with_caller_id_and_bridges_both_ways() {
    let (mut v, _orders, _dir) = rig("transfer");
    let speech = simboard::Speech::recorded_english().ok();
    for n in 9..=16 {
        v.board
            .set_agent(n, simboard::personas::agent(4_500, 10_000, speech.clone()));
    }
    let mut caller = Persona::new(
        "talks-to-agent",
        vec![
            Step::WaitForAudio { timeout_ms: 10_000 },
            Step::Wait(1_200),
            Step::press("0"),
            Step::Wait(9_000),
            Step::Say(3_000),
            Step::Wait(30_000),
        ],
    );
    caller.speech = speech;
    v.board.offer_call(3, spec(Arc::new(caller), "13700137000"));
    v.run_ms(120_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    let cdr = &v.cdrs[0];
    assert_eq!(cdr.result, CallResult::Transferred, "{cdr:?}");
    assert!(cdr.agent_answer_ms.is_some(), "{cdr:?}");
    assert_eq!(cdr.transfer_target.as_deref(), Some("service"));
    assert_eq!(cdr.hangup_cause, HangupCause::AgentHangup);
    let calls = v.board.finished_calls();
    let agent = calls
        .iter()
        .find(|c| c.channel >= 9)
        .expect("an agent's phone rang and answered");
    let agent_tl = agent.hearing.timeline();
    let got = agent_tl.caller_id().expect("caller ID on the phone");
    assert_eq!(got.number.as_str(), "13700137000");
    // Both ways: the agent heard the caller speak and the caller heard the agent.
    let answered = agent.answered_ms.expect("agent answered");
    let sound = |tl: &simboard::Timeline, after: u64| {
        tl.spans
            .iter()
            .any(|s| s.start_ms >= after && s.what == simboard::Heard::Sound && s.len_ms() >= 300)
    };
    assert!(
        sound(&agent_tl, answered),
        "the agent heard nothing of the caller"
    );
    let caller_call = calls.iter().find(|c| c.channel == 3).unwrap();
    assert!(
        sound(&caller_call.hearing.timeline(), answered),
        "the caller heard nothing of the agent"
    );
    assert!(v.ctl.all_idle());
}

#[test]
fn dead_shop_gives_the_fallback_branch() {
    let (mut v, orders, _dir) = rig("deadshop");
    v.shop_dead = true;
    let caller = super::virt::order_by_number(&orders[4]);
    v.board.offer_call(4, spec(caller, "13600136000"));
    v.run_ms(90_000);
    assert_eq!(v.cdrs.len(), 1);
    assert!(
        v.cdrs[0]
            .path
            .iter()
            .any(|p| p.contains("find_order: timeout")),
        "{:?}",
        v.cdrs[0].path
    );
    assert!(v.ctl.all_idle());
}

#[test]
fn a_failing_channel_goes_out_of_service_and_the_others_answer() {
    let (mut v, orders, _dir) = rig("oos");
    assert!(v.board.set_alarm(5, true));
    let caller = super::virt::order_by_number(&orders[5]);
    v.board.offer_call(6, spec(caller, "13500135000"));
    v.run_ms(90_000);
    assert_eq!(v.ctl.counts().out_of_service, 1);
    assert_eq!(v.cdrs.len(), 1);
    assert_eq!(v.cdrs[0].trunk, 6);
    assert_eq!(v.cdrs[0].orders, vec![orders[5].clone()]);
}

/// A short soak (the long ones are `ivrd demo --virtual`): ten minutes of calls at
/// 1,800 an hour on the analog card (busy-tone hangups, FSK caller ID), then drained.
#[test]
fn ten_minutes_of_load_lose_no_call_and_leave_no_channel_stuck() {
    let dir = tmp("soak");
    let (shop, orders) = shop(&dir);
    let cfg = config("");
    let profile = Profile::load(repo().join("firmware-stubs/analog-8fxo-8fxs.toml")).unwrap();
    let mut board = SimBoard::with_options(
        profile,
        BoardOptions {
            capture_audio: false,
            seed: 11,
        },
    );
    let mut load = ivrd::config::SimLoad {
        calls_per_hour: 1800.0,
        hold_mean_s: 120.0,
        seed: 5,
        personas: Default::default(),
    };
    for (p, w) in [
        ("order-status", 0.4),
        ("order-then-agent", 0.2),
        ("wants-agent", 0.2),
        ("hangs-up", 0.2),
    ] {
        load.personas.insert(p.to_string(), w);
    }
    super::virt::populate(&mut board, &cfg, &load, &orders);
    let metrics = Arc::new(Metrics::new(16));
    let mut v = Virt::new(board, &cfg, shop, &metrics).unwrap();
    v.run_ms(600_000);
    v.board
        .set_load(simboard::LoadGenerator::new(simboard::LoadProfile {
            calls_per_hour: 1.0,
            hold: simboard::HoldTime::Fixed { s: 1.0 },
            mix: Vec::new(),
            patience: None,
            seed: 0,
        }));
    for _ in 0..900 {
        v.run_ms(1_000);
        if v.ctl.all_idle() {
            break;
        }
    }
    let stats = v.board.stats();
    let c = v.ctl.counts();
    assert!(v.ctl.all_idle(), "{:?}", v.ctl.debug_states());
    assert!(stats.offered > 100, "{stats:?}");
    assert_eq!(c.unanswered_running, 0, "{c:?}");
    assert_eq!(stats.offered - stats.blocked, c.answered, "{stats:?} {c:?}");
    assert_eq!(v.cdrs.len() as u64, c.answered, "one CDR per call");
    assert!(c.busy_hangups > 0, "{c:?}");
    assert!(c.caller_ids > 0, "{c:?}");
    assert_eq!(c.ring_full, 0);
}

#[test]
fn polarity_reversal_ends_the_call_where_the_line_gives_it() {
    let dir = tmp("polarity");
    let (shop, _orders) = shop(&dir);
    let mut cfg = config("");
    cfg.trunks[0].hangup_on_polarity = true;
    cfg.trunks[0].busy_tone.disconnect = false;
    let text = std::fs::read_to_string(repo().join("firmware-stubs/analog-8fxo-8fxs.toml"))
        .unwrap()
        .replace("polarity_on_hangup = false", "polarity_on_hangup = true");
    let profile = Profile::parse(&text, "polarity.toml").unwrap();
    let board = SimBoard::with_options(profile, BoardOptions::default());
    let metrics = Arc::new(Metrics::new(16));
    let mut v = Virt::new(board, &cfg, shop, &metrics).unwrap();
    v.board
        .offer_call(1, spec(super::virt::hangs_up_mid_prompt(), "13800138000"));
    v.run_ms(30_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    assert_eq!(v.cdrs[0].hangup_cause, HangupCause::Polarity);
    assert!(v.ctl.all_idle());
}

#[test]
fn a_reloaded_script_takes_new_calls_and_the_call_in_progress_keeps_its_version() {
    let (mut v, orders, _dir) = rig("reload");
    v.board.offer_call(
        1,
        spec(super::virt::order_by_number(&orders[1]), "13800138000"),
    );
    v.run_ms(8_000);
    let script = super::setup::load_script(&repo().join("ivr-scripts/shop-hotline.ivr")).unwrap();
    assert_eq!(v.ctl.reload_script("shop-hotline", script), Ok(2));
    let broken = super::setup::load_script(&repo().join("ivr-scripts/README.md"));
    assert!(broken.is_err(), "a broken script is refused at load");
    v.board.offer_call(
        2,
        spec(super::virt::order_by_number(&orders[2]), "13800138001"),
    );
    v.run_ms(90_000);
    assert_eq!(v.cdrs.len(), 2, "{:?}", v.cdrs);
    let by_trunk = |t: u16| v.cdrs.iter().find(|c| c.trunk == t).unwrap();
    assert_eq!(by_trunk(1).script_version, "1");
    assert_eq!(by_trunk(2).script_version, "2");
    for t in [1, 2] {
        assert_eq!(
            by_trunk(t).result,
            CallResult::SelfServed,
            "{:?}",
            by_trunk(t)
        );
    }
}
