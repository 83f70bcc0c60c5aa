//! The shipped systemd unit agrees with the daemon's stop and reload design.

use std::path::Path;

use ivrd::config::{Config, Daemon};

fn unit() -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/ivrd.service"))
            .unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn get<'a>(u: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    u.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn stop_timeout_outlasts_every_grace_period() {
    let u = unit();
    let stop: u32 = get(&u, "TimeoutStopSec")[0].parse().unwrap();
    let mut graces = vec![Daemon::default().grace_period_s];
    for name in ["ivrd-dahdi.toml", "ivrd-sim.toml"] {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/config")
            .join(name);
        let text = std::fs::read_to_string(&file).unwrap();
        graces.push(Config::parse(&text, &file).unwrap().daemon.grace_period_s);
    }
    for g in graces {
        // Room to flush CDRs and recordings after the grace period ends.
        assert!(
            stop >= g + 15,
            "TimeoutStopSec={stop} but grace period {g} s"
        );
    }
    assert_eq!(get(&u, "KillSignal"), ["SIGTERM"]);
}

#[test]
fn runs_unprivileged_with_dahdi_access_and_reloads_on_hup() {
    let u = unit();
    assert_eq!(
        get(&u, "ExecStart"),
        ["/usr/local/bin/ivrd run --config /etc/ivrd/ivrd.toml"]
    );
    assert_eq!(get(&u, "User"), ["ivrd"]);
    assert_eq!(get(&u, "SupplementaryGroups"), ["dahdi"]);
    assert_eq!(get(&u, "ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    assert_eq!(get(&u, "Restart"), ["on-failure"]);
    assert_eq!(get(&u, "LimitMEMLOCK"), ["infinity"]);
    assert!(!get(&u, "LimitRTPRIO").is_empty());
    // Hardening must not hide /dev/dahdi or make every thread real-time.
    assert!(get(&u, "PrivateDevices").iter().all(|v| *v != "yes"));
    assert!(get(&u, "DeviceAllow").contains(&"char-dahdi rw"));
    assert!(get(&u, "CPUSchedulingPolicy").is_empty());
    // The default wake-up latency request needs the PM QoS device past `DevicePolicy=`.
    assert_eq!(
        Daemon::default().cpu_wakeup_latency_us.as_us(),
        Some(0),
        "the default makes a request"
    );
    assert!(get(&u, "DeviceAllow").contains(&"/dev/cpu_dma_latency w"));
}
