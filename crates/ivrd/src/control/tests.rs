//! Whole calls in virtual time: the simulated card, the real pipelines and audio loop, the
//! engine running the bundled scripts, the SQLite sample shop.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ivrd::cdr::{CallResult, HangupCause};
use ivrd::config::Config;
use ivrd::metrics::{ChannelState, Metrics};
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

/// The 8 FXO + 8 FXS card, seed 3 (what a persona hears is kept if `capture_audio`).
fn card(capture_audio: bool) -> SimBoard {
    let profile = Profile::load(repo().join("firmware-stubs/analog-8fxo-8fxs.toml")).unwrap();
    SimBoard::with_options(
        profile,
        BoardOptions {
            capture_audio,
            seed: 3,
        },
    )
}

fn rig(name: &str) -> (Virt, Vec<String>, PathBuf) {
    let (v, orders, _metrics, dir) = rig_with(name, true, super::setup::Rings::default());
    (v, orders, dir)
}

/// The 8 FXO + 8 FXS card with the bundled hotline and a sample shop in `tmp(name)`.
fn rig_with(
    name: &str,
    capture_audio: bool,
    rings: super::setup::Rings,
) -> (Virt, Vec<String>, Arc<Metrics>, PathBuf) {
    let dir = tmp(name);
    let (shop, orders) = shop(&dir);
    let cfg = config("");
    let board = card(capture_audio);
    let metrics = Arc::new(Metrics::new(16));
    let v = Virt::with_rings(board, &cfg, shop, &metrics, rings).unwrap();
    (v, orders, metrics, dir)
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
fn a_reload_applies_scripts_for_new_calls_and_line_settings_when_idle() {
    let (mut v, orders, dir) = rig("reload");
    v.board.offer_call(
        1,
        spec(super::virt::order_by_number(&orders[1]), "13800138000"),
    );
    v.run_ms(8_000);
    assert!(!v.ctl.all_idle(), "a call is in progress on trunk 1");
    // The new configuration: a new script version, 3 rings, +6 dB transmit gain, polarity
    // instead of busy tone for hang-up, a longer ring timeout for `service`.
    let mut new = config("");
    new.trunks[0].answer_after_rings = 3;
    new.trunks[0].tx_gain_db = 6.0;
    new.trunks[0].busy_tone.disconnect = false;
    new.trunks[0].hangup_on_polarity = true;
    new.agent_groups[2].ring_timeout_s = 40;
    let scripts = super::setup::load_scripts(&new).unwrap();
    let log = v.ctl.reload(&new, scripts, None).unwrap();
    assert!(log.iter().any(|l| l.contains("version 2")), "{log:?}");
    // The busy channel keeps its line settings; an idle one has the new ones at once.
    let ch = |n| tel_types::ChannelId(n);
    assert_eq!(v.ctl.line_policy(ch(1)).unwrap().answer_after_rings, 2);
    assert!(v.ctl.line_policy(ch(1)).unwrap().busy_disconnect);
    assert_eq!(v.ctl.line_policy(ch(2)).unwrap().answer_after_rings, 3);
    assert_eq!(v.ctl.groups[2].ring_timeout_ms, 40_000);
    v.frame();
    let tx_gain = |v: &Virt, i: usize| v.audio.pipe(i).gains().1;
    assert_eq!(tx_gain(&v, 0), media::Gain::UNITY, "not under a call");
    assert_eq!(tx_gain(&v, 1), media::Gain::from_db(6.0));
    // A new call on trunk 2 runs version 2.
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
        let c = by_trunk(t);
        assert_eq!(c.result, CallResult::SelfServed, "{c:?}");
    }
    // The call on trunk 1 ended: its channel now has the new settings too.
    v.frame();
    assert_eq!(v.ctl.line_policy(ch(1)).unwrap().answer_after_rings, 3);
    assert_eq!(tx_gain(&v, 0), media::Gain::from_db(6.0));
    let _ = dir;
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_reloaded_prompt_pack_takes_new_calls_and_the_call_in_progress_keeps_the_old() {
    let (mut v, orders, dir) = rig("reload-prompts");
    v.board.offer_call(
        1,
        spec(super::virt::order_by_number(&orders[1]), "13800138000"),
    );
    v.run_ms(8_000);
    let old = v.audio.pipe(0).prompt_table();
    // A changed pack in a new folder.
    let pack_dir = dir.join("prompts");
    copy_dir(&repo().join("ivr-scripts/prompts"), &pack_dir);
    std::fs::copy(
        pack_dir.join("zh-CN/goodbye.wav"),
        pack_dir.join("zh-CN/welcome.wav"),
    )
    .unwrap();
    let mut new = config("");
    new.prompts.dir.clone_from(&pack_dir);
    let scripts = super::setup::load_scripts(&new).unwrap();
    let pack = super::prompts::load_pack(&pack_dir);
    let fresh = pack.0;
    let log = v.ctl.reload(&new, scripts, Some(pack)).unwrap();
    assert!(log.iter().any(|l| l.starts_with("prompts:")), "{log:?}");
    v.frame();
    let same = |a: &media::PromptTable, b: &media::PromptTable| std::ptr::eq(a, b);
    assert!(
        same(v.audio.pipe(0).prompt_table(), old),
        "the call keeps its pack"
    );
    assert!(
        same(v.audio.pipe(1).prompt_table(), fresh),
        "idle: the new pack"
    );
    v.board.offer_call(
        2,
        spec(super::virt::order_by_number(&orders[2]), "13800138001"),
    );
    v.run_ms(90_000);
    assert_eq!(v.cdrs.len(), 2, "{:?}", v.cdrs);
    for c in &v.cdrs {
        assert_eq!(c.result, CallResult::SelfServed, "{c:?}");
        assert_eq!(c.orders.len(), 1, "{c:?}");
    }
    assert!(
        same(v.audio.pipe(0).prompt_table(), fresh),
        "after its call"
    );
}

#[test]
fn a_reload_with_a_script_that_plays_unknown_prompts_changes_nothing() {
    let (mut v, _orders, dir) = rig("reload-refused");
    let bad = dir.join("bad.ivr");
    std::fs::write(
        &bad,
        "flow main\n  answer\n  play \"no-such-prompt\"\n  hangup\nend\n",
    )
    .unwrap();
    let mut new = config("");
    new.scripts.insert("shop-hotline".into(), bad.clone());
    new.trunks[0].answer_after_rings = 4;
    let scripts = super::setup::load_scripts(&new).unwrap();
    let err = v.ctl.reload(&new, scripts, None).unwrap_err();
    assert!(err.contains("no-such-prompt"), "{err}");
    assert_eq!(
        v.ctl
            .line_policy(tel_types::ChannelId(1))
            .unwrap()
            .answer_after_rings,
        2
    );
    // A script that does not parse is refused at load, naming file and line.
    std::fs::write(&bad, "flow main\n  plya \"x\"\nend\n").unwrap();
    let e = super::setup::load_scripts(&new).unwrap_err();
    assert!(e.contains("bad.ivr:2:3"), "{e}");
}

/// A rig with small rings between the controller and the pipelines.
fn rig_rings(name: &str, commands: usize, events: usize) -> (Virt, Vec<String>, Arc<Metrics>) {
    let rings = super::setup::Rings { commands, events };
    let (v, orders, metrics, _dir) = rig_with(name, false, rings);
    (v, orders, metrics)
}

/// The control thread stalls for `ms`: the card and the audio loop run on, nobody takes
/// events or sends commands.
fn stall_control(v: &mut Virt, ms: u64) {
    for _ in 0..ms / 20 {
        v.board.advance_ms(20);
        v.audio.service_all();
    }
}

fn run_until(v: &mut Virt, limit_ms: u64, mut done: impl FnMut(&Virt) -> bool) {
    for _ in 0..limit_ms / 20 {
        if done(v) {
            return;
        }
        v.frame();
    }
    panic!("condition not reached in {limit_ms} ms");
}

#[test]
fn a_full_command_ring_loses_no_command_and_the_call_is_the_same() {
    let call = |commands: usize| {
        let (mut v, orders, metrics) = rig_rings("cmdring", commands, 128);
        let caller = super::virt::order_by_number(&orders[1]);
        v.board.offer_call(1, spec(caller, "13800138000"));
        v.run_ms(90_000);
        assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
        assert!(v.ctl.all_idle());
        (
            v.cdrs[0].clone(),
            v.ctl.counts(),
            metrics.commands_deferred.get(),
            orders[1].clone(),
        )
    };
    let (roomy, roomy_counts, _, _) = call(128);
    assert_eq!(roomy_counts.ring_full, 0);
    // Two commands per ring: a say-back of a dozen fragments cannot fit at once.
    let (tight, counts, deferred, order) = call(2);
    assert!(counts.ring_full > 10, "{counts:?}");
    assert_eq!(deferred, counts.ring_full);
    assert_eq!(tight.result, CallResult::SelfServed, "{tight:?}");
    assert_eq!(tight.orders, vec![order]);
    // Nothing was lost: the call took exactly the same path through the script.
    assert_eq!(tight.path, roomy.path);
    assert_eq!(tight.hangup_cause, roomy.hangup_cause);
}

#[test]
fn keys_lost_on_a_full_event_ring_are_an_input_error_not_a_wrong_order() {
    let (mut v, orders, metrics) = rig_rings("keyslost", 128, 4);
    let caller = super::virt::order_by_number(&orders[3]);
    v.board.offer_call(2, spec(caller, "13800138002"));
    // The caller chose "order status" and "by number"; now the control thread stalls
    // while they type the order number.
    run_until(&mut v, 60_000, |v| v.ctl.counts().digits >= 2);
    stall_control(&mut v, 15_000);
    v.run_ms(120_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    let cdr = &v.cdrs[0];
    assert!(
        cdr.path.iter().any(|p| p.contains("input lost")),
        "{:?}",
        cdr.path
    );
    // Never a lookup of a number with keys missing.
    assert!(
        cdr.orders.iter().all(|o| o == &orders[3]),
        "{:?}",
        cdr.orders
    );
    assert_eq!(metrics.calls_input_lost.get(), 1);
    assert!(metrics.ring_overruns.get() > 0);
    assert!(v.ctl.all_idle(), "{:?}", v.ctl.debug_states());
}

#[test]
fn a_hang_up_during_a_full_event_ring_still_releases_the_call() {
    let (mut v, _orders, _metrics) = rig_rings("hanguplost", 128, 2);
    v.board
        .offer_call(3, spec(super::virt::hangs_up_mid_prompt(), "13800138003"));
    run_until(&mut v, 30_000, |v| v.ctl.counts().answered == 1);
    // The caller hangs up mid-greeting while the control thread is stalled; the ring
    // overflows with everything the line does meanwhile.
    stall_control(&mut v, 12_000);
    v.run_ms(2_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    assert!(
        matches!(
            v.cdrs[0].hangup_cause,
            HangupCause::BusyTone | HangupCause::CallerOnHook
        ),
        "{:?}",
        v.cdrs[0]
    );
    // The ring did overflow: the hang-up signal was among the events kept for later.
    let stats = v.ctl.handles[2].stats();
    assert!(stats.held_events > 0, "{stats:?}");
    assert!(v.ctl.all_idle(), "{:?}", v.ctl.debug_states());
    // Released: the line is back on-hook and takes the next call.
    let first = &v.board.finished_calls()[0];
    assert_eq!(first.outcome, Outcome::FarEndHungUp);
}

#[test]
fn a_new_order_hooks_backend_takes_new_lookups() {
    let dir_a = tmp("backend-a");
    let dir_b = tmp("backend-b");
    let (shop_a, orders) = shop(&dir_a);
    // Another shop with a single order: the first shop's sixth order is not in it.
    let path_b = dir_b.join("shop.sqlite");
    order_hooks::sample_shop::create_sqlite(&path_b, 1, 99).unwrap();
    let url = format!("sqlite:{}", path_b.display());
    let shop_b: Arc<dyn Shop> = Arc::new(Guarded::new(
        SqlShop::open(&ShopConfig::new(&url, Preset::Generic)).unwrap(),
        GuardConfig::default(),
    ));
    let poll = mio::Poll::new().unwrap();
    let waker = Arc::new(mio::Waker::new(poll.registry(), mio::Token(0)).unwrap());
    let workers =
        super::hooks::Workers::spawn(shop_a, 2, std::time::Duration::from_secs(2), waker).unwrap();
    let ask = |id: u32| super::HookJob {
        ch: tel_types::ChannelId(1),
        id: ivr::HookId(id),
        call: ivr::HookCall::FindOrder {
            order_no: orders[5].clone(),
        },
        asked: ivr::Instant::ZERO,
    };
    let answer = |id: u32| {
        assert!(workers.submit(ask(id)).is_none());
        let d = workers
            .done
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        assert_eq!(d.id, ivr::HookId(id));
        d.reply
    };
    assert!(matches!(answer(1), ivr::HookReply::Found(_)));
    workers.set_backend(shop_b);
    assert_eq!(answer(2), ivr::HookReply::NotFound);
    workers.shutdown();
}

/// A rig over `cfg` whose metrics have room for the card's 16 channels (those opened
/// later appear in them).
fn rig_cfg(name: &str, cfg: &Config) -> (Virt, Vec<String>, Arc<Metrics>) {
    let dir = tmp(name);
    let (shop, orders) = shop(&dir);
    let board = card(false);
    let metrics = Arc::new(Metrics::with_capacity(0, 16));
    let v = Virt::new(board, cfg, shop, &metrics).unwrap();
    (v, orders, metrics)
}

/// The card of [`rig_cfg`] at 22:00 in China (the shop is closed), with the sample shop in
/// the returned folder.
fn night_rig(name: &str) -> (Virt, Vec<String>, Arc<Metrics>, PathBuf) {
    let dir = tmp(name);
    let (shop, orders) = shop(&dir);
    let board = card(false);
    let metrics = Arc::new(Metrics::new(16));
    let night = super::virt::EPOCH_MS + 12 * 3_600_000;
    let v = Virt::new_at(board, &config(""), shop, &metrics, night).unwrap();
    (v, orders, metrics, dir)
}

fn channels(list: &str) -> ivrd::config::ChannelList {
    ivrd::config::ChannelList::parse(list).unwrap()
}

const CH: fn(u16) -> tel_types::ChannelId = tel_types::ChannelId;

#[test]
fn a_trunk_added_by_a_reload_opens_and_answers_calls() {
    let mut cfg = config("");
    cfg.trunks[0].channels = channels("1-7");
    let (mut v, orders, metrics) = rig_cfg("live-add", &cfg);
    assert_eq!(v.audio.index(CH(8)), None, "channel 8 is a spare at start");
    assert_eq!(metrics.channels(), 15);
    let log = v.reload(&config("")).unwrap();
    assert!(log.iter().any(|l| l.contains("[8] added")), "{log:?}");
    v.run_ms(100);
    assert!(
        v.audio.index(CH(8)).is_some(),
        "the audio loop services channel 8"
    );
    assert_eq!(metrics.channels(), 16);
    assert_eq!(v.ctl.line_policy(CH(8)).unwrap().answer_after_rings, 2);
    v.board.offer_call(
        8,
        spec(super::virt::order_by_number(&orders[1]), "13800138000"),
    );
    v.run_ms(90_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    assert_eq!(v.cdrs[0].trunk, 8);
    assert_eq!(v.cdrs[0].result, CallResult::SelfServed, "{:?}", v.cdrs[0]);
    assert_eq!(v.cdrs[0].orders, [orders[1].clone()]);
}

#[test]
fn a_trunk_removed_by_a_reload_finishes_its_call_then_closes() {
    let (mut v, orders, metrics) = rig_cfg("live-remove", &config(""));
    v.board.offer_call(
        2,
        spec(super::virt::order_by_number(&orders[2]), "13800138002"),
    );
    v.run_ms(8_000);
    assert!(!v.ctl.all_idle(), "a call is in progress on trunk 2");
    let mut new = config("");
    new.trunks[0].channels = channels("1,3-8");
    let log = v.reload(&new).unwrap();
    assert!(log.iter().any(|l| l.contains("[2] removed")), "{log:?}");
    v.run_ms(2_000);
    assert!(v.audio.index(CH(2)).is_some(), "still in its call");
    assert!(v.live.opener.closed.is_empty());
    v.run_ms(90_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    assert_eq!(v.cdrs[0].trunk, 2);
    assert_eq!(v.cdrs[0].result, CallResult::SelfServed, "{:?}", v.cdrs[0]);
    // Then the line went back and was closed.
    assert_eq!(v.live.opener.closed, [2]);
    assert_eq!(v.audio.index(CH(2)), None);
    assert_eq!(metrics.channels(), 15);
    assert!(v.ctl.line_policy(CH(2)).is_none());
    // It answers nothing more; the others do.
    v.board.offer_call(
        2,
        spec(super::virt::order_by_number(&orders[3]), "13800138003"),
    );
    v.board.offer_call(
        3,
        spec(super::virt::order_by_number(&orders[4]), "13800138004"),
    );
    v.run_ms(90_000);
    let trunks: Vec<u16> = v.cdrs.iter().map(|c| c.trunk).collect();
    assert_eq!(trunks, [2, 3], "{:?}", v.cdrs);
    // Configured again: it opens again.
    v.reload(&config("")).unwrap();
    v.run_ms(100);
    assert!(v.audio.index(CH(2)).is_some());
    assert_eq!(metrics.channels(), 16);
}

/// A channel a reload removes is `closing` in the metrics, never `out-of-service` (which
/// operators alert on), until it is closed and no longer counted.
#[test]
fn a_channel_being_closed_by_a_reload_shows_as_closing_not_out_of_service() {
    let (mut v, _orders, metrics) = rig_cfg("live-closing", &config(""));
    v.run_ms(200);
    let states = |m: &Metrics| -> Vec<ChannelState> {
        (0..m.capacity())
            .filter_map(|i| m.channel_state(i))
            .collect()
    };
    assert_eq!(metrics.channels(), 16);
    let mut new = config("");
    new.trunks[0].channels = channels("1,3-8");
    v.reload(&new).unwrap();
    let mut seen = Vec::new();
    for _ in 0..50 {
        v.frame();
        seen.extend(states(&metrics));
        if metrics.channels() == 15 {
            break;
        }
    }
    assert_eq!(metrics.channels(), 15, "channel 2 closed");
    assert!(seen.contains(&ChannelState::Closing), "{seen:?}");
    assert!(!seen.contains(&ChannelState::OutOfService), "{seen:?}");
}

#[test]
fn a_channel_moved_from_trunk_to_station_changes_role_when_its_call_ends() {
    let (mut v, orders, _metrics) = rig_cfg("live-rerole", &config(""));
    v.board.offer_call(
        8,
        spec(super::virt::order_by_number(&orders[1]), "13800138000"),
    );
    v.run_ms(8_000);
    let mut new = config("");
    new.trunks[0].channels = channels("1-7");
    new.stations[0].channels = channels("8-16");
    let log = v.reload(&new).unwrap();
    assert!(
        log.iter()
            .any(|l| l.contains("[8]") && l.contains("between trunk and station")),
        "{log:?}"
    );
    v.run_ms(2_000);
    assert!(
        v.ctl.line_policy(CH(8)).is_some(),
        "a trunk while its call runs"
    );
    v.run_ms(90_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    assert_eq!(v.cdrs[0].result, CallResult::SelfServed, "{:?}", v.cdrs[0]);
    // Closed, then opened again as a station.
    assert_eq!(v.live.opener.closed, [8]);
    assert!(v.audio.index(CH(8)).is_some());
    assert!(v.ctl.line_policy(CH(8)).is_none(), "a station now");
    assert!(v.ctl.is_station(CH(8)));
}

#[test]
fn a_station_swapped_by_a_reload_takes_the_next_transfer() {
    let mut cfg = config("");
    cfg.stations[0].channels = channels("9");
    let (mut v, _orders, metrics) = rig_cfg("live-station", &cfg);
    for n in 9..=16 {
        v.board
            .set_agent(n, simboard::personas::agent(2_000, 5_000, None));
    }
    assert_eq!(metrics.channels(), 9);
    // The agent on port 9 moves to port 10.
    let mut new = config("");
    new.stations[0].channels = channels("10");
    let log = v.reload(&new).unwrap();
    assert!(log.iter().any(|l| l.contains("[10] added")), "{log:?}");
    assert!(log.iter().any(|l| l.contains("[9] removed")), "{log:?}");
    v.run_ms(100);
    assert_eq!(v.live.opener.closed, [9]);
    assert!(v.ctl.is_station(CH(10)));
    assert!(!v.ctl.is_station(CH(9)));
    assert_eq!(metrics.channels(), 9);
    v.board
        .offer_call(1, spec(presses_zero_for_an_agent(), "13700137001"));
    v.run_ms(60_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    assert_eq!(v.cdrs[0].result, CallResult::Transferred, "{:?}", v.cdrs[0]);
    let rang: Vec<u16> = v
        .board
        .finished_calls()
        .iter()
        .filter(|c| c.channel >= 9)
        .map(|c| c.channel)
        .collect();
    assert_eq!(rang, [10], "only the station the reload opened rang");
}

#[test]
fn a_channel_that_does_not_open_is_logged_and_tried_again_while_the_rest_applies() {
    let (mut v, orders, _metrics) = rig_cfg("live-open-fails", &config(""));
    let mut new = config("");
    // The card has 16 ports: 17 does not open.
    new.stations[0].channels = channels("9-17");
    new.trunks[0].answer_after_rings = 3;
    let log = v.reload(&new).unwrap();
    assert!(log.iter().any(|l| l.contains("[17] added")), "{log:?}");
    v.run_ms(100);
    assert_eq!(v.ctl.open_failures(17), Some(1));
    // The rest of the reload applied.
    assert_eq!(v.ctl.line_policy(CH(1)).unwrap().answer_after_rings, 3);
    v.run_ms(31_000);
    assert_eq!(v.ctl.open_failures(17), Some(2), "tried again after 30 s");
    v.board.offer_call(
        1,
        spec(super::virt::order_by_number(&orders[1]), "13800138000"),
    );
    v.run_ms(90_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    assert_eq!(v.cdrs[0].result, CallResult::SelfServed);
}

#[test]
fn after_a_reload_new_transfers_use_the_new_agent_groups() {
    let (mut v, _orders, _dir) = rig("reload-groups");
    for n in 9..=16 {
        v.board
            .set_agent(n, simboard::personas::agent(2_000, 5_000, None));
    }
    let wants_agent = presses_zero_for_an_agent;
    v.board.offer_call(1, spec(wants_agent(), "13700137001"));
    v.run_ms(60_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    assert_eq!(v.cdrs[0].result, CallResult::Transferred, "{:?}", v.cdrs[0]);
    // The stations stop answering for `service` (where the script sends callers).
    let mut new = config("");
    new.stations[0].groups = vec!["orders".into(), "sales".into()];
    let scripts = super::setup::load_scripts(&new).unwrap();
    v.ctl.reload(&new, scripts, None).unwrap();
    v.board.offer_call(2, spec(wants_agent(), "13700137002"));
    v.run_ms(60_000);
    assert_eq!(v.cdrs.len(), 2, "{:?}", v.cdrs);
    let c = &v.cdrs[1];
    assert_eq!(c.transfer_target.as_deref(), Some("service"));
    assert_eq!(
        c.result,
        CallResult::Failed,
        "no station serves it now: {c:?}"
    );
    assert!(c.agent_answer_ms.is_none());
}

#[test]
fn station_gains_apply_at_start_as_on_reload() {
    let dir = tmp("station-gains");
    let (shop, _orders) = shop(&dir);
    let mut cfg = config("");
    cfg.stations[0].tx_gain_db = -6.0;
    let profile = Profile::load(repo().join("firmware-stubs/analog-8fxo-8fxs.toml")).unwrap();
    let board = SimBoard::with_options(profile, BoardOptions::default());
    let metrics = Arc::new(Metrics::new(16));
    let mut v = Virt::new(board, &cfg, shop, &metrics).unwrap();
    // Channel 9 is the first station (index 8).
    assert_eq!(v.audio.pipe(8).gains().1, media::Gain::from_db(-6.0));
    let mut new = cfg.clone();
    new.stations[0].tx_gain_db = 3.0;
    let scripts = super::setup::load_scripts(&new).unwrap();
    v.ctl.reload(&new, scripts, None).unwrap();
    v.frame();
    assert_eq!(v.audio.pipe(8).gains().1, media::Gain::from_db(3.0));
}

#[test]
fn a_caller_already_queued_keeps_the_wait_limit_of_their_call() {
    let dir = tmp("reload-queue");
    let (shop, _orders) = shop(&dir);
    // One agent phone: while it is busy, callers wait in the queue.
    let mut cfg = config("");
    cfg.stations[0].channels = ivrd::config::ChannelList::parse("9").unwrap();
    let profile = Profile::load(repo().join("firmware-stubs/analog-8fxo-8fxs.toml")).unwrap();
    let board = SimBoard::with_options(profile, BoardOptions::default());
    let metrics = Arc::new(Metrics::new(16));
    let mut v = Virt::new(board, &cfg, shop, &metrics).unwrap();
    let waits = || {
        Arc::new(Persona::new(
            "waits",
            vec![
                Step::WaitForAudio { timeout_ms: 10_000 },
                Step::Wait(1_200),
                Step::press("0"),
                Step::Wait(600_000),
            ],
        ))
    };
    // The first caller gets the phone, the second waits in the queue.
    v.board.offer_call(1, spec(waits(), "13700137001"));
    v.board.offer_call(2, spec(waits(), "13700137002"));
    run_until(&mut v, 60_000, |v| v.ctl.occupancy().queued == 2);
    let mut new = cfg.clone();
    new.agent_groups[2].max_wait_s = 20;
    let scripts = super::setup::load_scripts(&new).unwrap();
    v.ctl.reload(&new, scripts, None).unwrap();
    v.board.offer_call(3, spec(waits(), "13700137003"));
    v.run_ms(90_000);
    // The caller queued after the reload was given up on after the new 20 s; the one
    // queued before still waits (its limit is the 300 s it was queued with).
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    assert_eq!(v.cdrs[0].trunk, 3);
    assert_eq!(v.cdrs[0].result, CallResult::Failed);
    let waited = v.cdrs[0].end_ms - v.cdrs[0].transfer_ms.unwrap();
    assert!((20_000..22_000).contains(&waited), "{waited} ms");
    let o = v.ctl.occupancy();
    assert_eq!(
        (o.queued, o.with_agent),
        (1, 1),
        "{:?}",
        v.ctl.debug_states()
    );
}

/// After hours (22:00): a caller keys in an order and leaves a voice message; the shop gets
/// a callback task with the order and the message's file, and the CDR names the file.
#[test]
fn an_after_hours_voice_message_is_filed_with_its_order_and_file() {
    let (mut v, orders, _metrics, dir) = night_rig("voicemsg");
    let order = orders[2].clone();
    let caller = super::virt::voice_message(
        super::virt::Message {
            order: Some(&order),
            median_ms: 20_000,
            hash: true,
            hangs_up: false,
        },
        simboard::Speech::recorded_english().ok().as_ref(),
    );
    v.board.offer_call(2, spec(caller, "13900139000"));
    v.run_ms(180_000);
    assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
    let cdr = &v.cdrs[0];
    for step in [
        "menu closed: key 3",
        "collect order_no: ok",
        "find_order: found",
        "record message: done",
        "request_callback: found",
    ] {
        assert!(cdr.path.iter().any(|p| p == step), "{step}: {:?}", cdr.path);
    }
    assert_eq!(cdr.orders, vec![order.clone()]);
    assert_eq!(cdr.result, CallResult::SelfServed, "{cdr:?}");
    let file = cdr.recording.clone().expect("the CDR names the message");
    let rel = file
        .strip_prefix("/nonexistent/recordings/")
        .unwrap_or_else(|| panic!("{file}"));
    assert!(
        rel.ends_with(&format!("/{}-rec1.wav", cdr.call_id)),
        "{rel}"
    );
    // The shop's callback task: the caller's number, the order, the message's file.
    let db = rusqlite::Connection::open(dir.join("shop.sqlite")).unwrap();
    let (phone, order_no, note): (String, Option<String>, Option<String>) = db
        .query_row(
            "SELECT phone, order_no, note FROM shop_callbacks",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(phone, "13900139000");
    assert_eq!(order_no.as_deref(), Some(order.as_str()));
    assert_eq!(
        note.as_deref(),
        Some(format!("voice_message {rel}").as_str())
    );
    // The caller heard the confirmation and the IVR hung up.
    assert!(v.ctl.all_idle());
    let calls = v.board.finished_calls();
    assert_eq!(calls[0].keys_sent, format!("3{order}##"));
}

/// A caller who presses 0 in the main menu for an agent, then waits.
fn presses_zero_for_an_agent() -> Arc<Persona> {
    Arc::new(Persona::new(
        "wants-agent",
        vec![
            Step::WaitForAudio { timeout_ms: 10_000 },
            Step::Wait(1_200),
            Step::press("0"),
            Step::Wait(30_000),
        ],
    ))
}

/// Agents ready on every station; one caller on trunk 1 asks for an agent; 60 s run.
fn ask_for_an_agent_with_agents_ready(v: &mut Virt) {
    for n in 9..=16 {
        v.board
            .set_agent(n, simboard::personas::agent(2_000, 5_000, None));
    }
    v.board
        .offer_call(1, spec(presses_zero_for_an_agent(), "13700137001"));
    v.run_ms(60_000);
}

/// `daemon.hours` from the config sets the opening hours at start, and a reload switches
/// them at once: a supervisor closes the hotline early (night service) and opens it again.
#[test]
fn daemon_hours_are_set_by_the_config_and_switched_by_a_reload() {
    // Wednesday 10:00 in China: the scripts' service hours are open.
    let closed = config("[daemon]\nhours = \"closed\"\n");
    let (mut v, _orders, _metrics) = rig_cfg("daemon-hours", &closed);
    let open_now = |v: &Virt| v.ctl.hours_open("service_hours", ivr::Instant::ZERO);
    assert_eq!(open_now(&v), Some(false), "closed by the config at start");
    let by_script = config("");
    let log = v.reload(&by_script).unwrap();
    assert!(
        log.iter()
            .any(|l| l == "hours: the scripts' hours tables decide again"),
        "{log:?}"
    );
    assert_eq!(open_now(&v), Some(true), "the tables say open at 10:00");
    let log = v.reload(&closed).unwrap();
    assert!(
        log.iter()
            .any(|l| l == "hours: closed: night service all day"),
        "{log:?}"
    );
    assert_eq!(open_now(&v), Some(false));
    // A reload that leaves it as it is says nothing of it.
    let log = v.reload(&closed).unwrap();
    assert!(!log.iter().any(|l| l.starts_with("hours:")), "{log:?}");
    // The next caller who asks for an agent gets the after-hours menu: nobody is put
    // through, though the agents are there.
    ask_for_an_agent_with_agents_ready(&mut v);
    assert_eq!(v.ctl.counts().agent_answered, 0);
    assert!(!v.cdrs.is_empty(), "the call ended");
    assert!(
        v.cdrs.iter().all(|c| c.result != CallResult::Transferred),
        "{:?}",
        v.cdrs
    );
}

/// At 22:00 the script's service hours are closed and the caller who presses 0 in the main
/// menu gets no agent; with the hours mode `Open` (a hotline staffed round the clock, the
/// soak's default) the same caller at the same hour is put through to one.
#[test]
fn a_hotline_open_round_the_clock_puts_night_callers_through() {
    for (mode, open) in [
        (ivr::HoursMode::Script, false),
        (ivr::HoursMode::Open, true),
    ] {
        let (mut v, _orders, _metrics, _dir) = night_rig(&format!("open24-{mode:?}"));
        v.ctl.set_hours_mode(mode);
        assert_eq!(
            v.ctl.hours_open("service_hours", ivr::Instant::ZERO),
            Some(open)
        );
        ask_for_an_agent_with_agents_ready(&mut v);
        assert_eq!(v.ctl.counts().agent_answered, u64::from(open), "{mode:?}");
        if open {
            assert_eq!(v.cdrs.len(), 1, "{:?}", v.cdrs);
            assert_eq!(v.cdrs[0].result, CallResult::Transferred, "{:?}", v.cdrs[0]);
        } else {
            assert!(
                v.cdrs.iter().all(|c| c.result != CallResult::Transferred),
                "{:?}",
                v.cdrs
            );
        }
    }
}

/// After hours: a caller ends the voice message by hanging up. The trunk is released at
/// once and rings with the next call while the shop is still being asked to file the
/// message; the message is filed with its order and file, and the first call's CDR comes
/// when that is done (self-served, `record message: hangup` in its path).
#[test]
fn a_message_ended_by_hanging_up_is_filed_while_the_trunk_takes_the_next_call() {
    let (mut v, orders, metrics, dir) = night_rig("vmhangup");
    // The shop takes 3 s to file a task (the script's hook waits 4 s).
    v.hook_latency_ms = 3_000;
    let order = orders[2].clone();
    let speech = simboard::Speech::recorded_english().ok();
    let message = |hangs_up: bool| {
        super::virt::voice_message(
            super::virt::Message {
                order: Some(&order),
                median_ms: 15_000,
                hash: !hangs_up,
                hangs_up,
            },
            speech.as_ref(),
        )
    };
    v.board.offer_call(2, spec(message(true), "13900139000"));
    // Until the line is released with the script still running.
    run_until(&mut v, 200_000, |v| v.ctl.after_hangup_calls() == 1);
    let released_ms = super::virt::EPOCH_MS + 12 * 3_600_000 + v.now_ms() as i64;
    assert!(v.cdrs.is_empty(), "no CDR before the message is filed");
    assert_eq!(
        v.ctl.occupancy().busy_channels,
        0,
        "{:?}",
        v.ctl.debug_states()
    );
    // The next caller rings on the same trunk while the shop is being asked (the on-hook
    // reaches the line with the next frame).
    v.run_ms(100);
    assert!(
        v.board
            .offer_call(2, spec(message(false), "13900139001"))
            .is_some(),
        "the trunk is free"
    );
    run_until(&mut v, 10_000, |v| v.ctl.counts().offered == 2);
    assert_eq!(v.ctl.after_hangup_calls(), 1, "still filing");
    assert_eq!(metrics.calls_after_hangup.get(), 1, "operators see it too");
    assert_eq!(v.ctl.occupancy().busy_channels, 1);
    run_until(&mut v, 10_000, |v| !v.cdrs.is_empty());
    assert_eq!(v.ctl.after_hangup_calls(), 0);
    assert_eq!(metrics.calls_after_hangup.get(), 0);
    let cdr = v.cdrs[0].clone();
    assert_eq!(cdr.trunk, 2);
    assert_eq!(cdr.caller_id.as_deref(), Some("13900139000"));
    for step in [
        "find_order: found",
        "record message: hangup",
        "request_callback: found",
    ] {
        assert!(cdr.path.iter().any(|p| p == step), "{step}: {:?}", cdr.path);
    }
    assert_eq!(cdr.result, CallResult::SelfServed, "{cdr:?}");
    assert_eq!(cdr.hangup_cause, HangupCause::BusyTone, "{cdr:?}");
    // The call ended for the line (and the CDR's end) when the trunk was released.
    assert_eq!(cdr.end_ms, released_ms, "{cdr:?}");
    let file = cdr.recording.clone().expect("the CDR names the message");
    let rel = file
        .strip_prefix("/nonexistent/recordings/")
        .unwrap_or_else(|| panic!("{file}"))
        .to_string();
    assert!(
        rel.ends_with(&format!("/{}-rec1.wav", cdr.call_id)),
        "{rel}"
    );
    // The second call, meanwhile on the same trunk, is untouched and ends normally.
    v.run_ms(200_000);
    assert_eq!(v.cdrs.len(), 2, "{:?}", v.cdrs);
    let second = &v.cdrs[1];
    assert_eq!(second.trunk, 2);
    assert_eq!(second.caller_id.as_deref(), Some("13900139001"));
    assert!(
        second.path.iter().any(|p| p == "record message: done"),
        "{:?}",
        second.path
    );
    assert!(v.ctl.all_idle());
    // The shop has both tasks, the first with the file of the message cut by the hang-up.
    let db = rusqlite::Connection::open(dir.join("shop.sqlite")).unwrap();
    let mut st = db
        .prepare("SELECT phone, order_no, note FROM shop_callbacks ORDER BY rowid")
        .unwrap();
    let rows: Vec<(String, Option<String>, Option<String>)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "13900139000");
    assert_eq!(rows[0].1.as_deref(), Some(order.as_str()));
    assert_eq!(
        rows[0].2.as_deref(),
        Some(format!("voice_message {rel}").as_str())
    );
}
