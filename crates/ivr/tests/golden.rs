//! Golden transcripts of the bundled scripts in virtual time (`UPDATE_GOLDEN=1` rewrites).

mod support;

use ivr::Engine;
use ivr::sim::{Action, SimConfig, simulate};

fn run(script: &str, cfg: SimConfig, actions: &[Action]) -> String {
    let mut engine = Engine::new(support::load(script));
    let mut shop = support::shop;
    let out = simulate(&mut engine, &cfg, actions, &mut shop);
    // Paths in locations depend on where the checkout is; keep them relative.
    let base = support::scripts_dir().to_string_lossy().into_owned();
    out.transcript.join("\n").replace(&base, "ivr-scripts") + "\n"
}

fn press(k: &str) -> Action {
    Action::Press(k.into())
}

#[test]
fn order_status_by_number() {
    let t = run(
        "order-status.ivr",
        SimConfig::default(),
        &[press("1"), press("20261122001#"), press("9")],
    );
    support::golden("order_status__by_number", &t);
}

#[test]
fn order_status_by_phone_in_english_verbose() {
    let cfg = SimConfig {
        verbose: true,
        ..SimConfig::default()
    };
    let t = run(
        "shop-hotline.ivr",
        cfg,
        &[press("9"), press("1"), press("2"), press("9")],
    );
    support::golden("shop_hotline__by_phone_english", &t);
}

#[test]
fn order_status_database_down() {
    let t = run(
        "order-status.ivr",
        SimConfig::default(),
        &[press("1"), press("20260000000#"), press("9")],
    );
    support::golden("order_status__database_down", &t);
}

#[test]
fn hotline_out_of_hours_silence() {
    let mut cfg = SimConfig::default();
    cfg.call.local.hour = 23;
    let t = run("shop-hotline.ivr", cfg, &[]);
    support::golden("shop_hotline__out_of_hours_silence", &t);
}

#[test]
fn hotline_after_hours_voice_message() {
    let mut cfg = SimConfig::default();
    cfg.call.local.hour = 22;
    cfg.speech = ivr::Duration::from_secs(40);
    let t = run(
        "shop-hotline.ivr",
        cfg,
        &[press("3"), press("20261122001#")],
    );
    support::golden("shop_hotline__voice_message", &t);
}

#[test]
fn hotline_after_hours_voice_message_ended_by_hanging_up() {
    let mut cfg = SimConfig::default();
    cfg.call.local.hour = 22;
    cfg.speech = ivr::Duration::from_secs(40);
    let t = run(
        "shop-hotline.ivr",
        cfg,
        &[
            press("3"),
            press("20261122001#"),
            Action::Wait(ivr::Duration::from_secs(20)),
            Action::Hangup,
        ],
    );
    support::golden("shop_hotline__voice_message_hangup", &t);
}

#[test]
fn returns_with_recording() {
    let t = run(
        "returns.ivr",
        SimConfig::default(),
        &[press("20261122001#"), press("2")],
    );
    support::golden("returns__with_recording", &t);
}

#[test]
fn survey_outbound() {
    let mut cfg = SimConfig::default();
    cfg.call.outbound = true;
    let t = run("survey.ivr", cfg, &[press("2")]);
    support::golden("survey__score_2", &t);
}

#[test]
fn transcripts_are_identical_run_to_run() {
    let a = run(
        "shop-hotline.ivr",
        SimConfig::default(),
        &[press("3"), press("20261122001#"), press("1")],
    );
    let b = run(
        "shop-hotline.ivr",
        SimConfig::default(),
        &[press("3"), press("20261122001#"), press("1")],
    );
    assert_eq!(a, b);
}
