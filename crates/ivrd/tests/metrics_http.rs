//! The metrics endpoint: scraped over real TCP, parsed line by line.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use ivrd::cdr::{CallResult, HangupCause};
use ivrd::metrics::{CallerIdOutcome, ChannelState, LookupOutcome, Metrics, MetricsServer};
use tel_types::Digit;

fn get(server: &MetricsServer, request: &str) -> (String, String) {
    let mut s = TcpStream::connect(server.local_addr()).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

/// Parses the exposition into `name{labels}` -> value, checking every line
/// is a comment or a well-formed sample.
fn parse(body: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for line in body.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        let name_end = key.find('{').unwrap_or(key.len());
        assert!(
            key[..name_end]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad metric name in {line:?}"
        );
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("{line:?}"));
        assert!(out.insert(key.to_owned(), v).is_none(), "duplicate {key}");
    }
    out
}

#[test]
fn scrape_reports_what_the_threads_counted() {
    let m = Arc::new(Metrics::new(8));
    let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), m.clone()).unwrap();

    // What the audio and control threads would do during a few calls.
    m.set_channel_state(0, ChannelState::InIvr);
    m.set_channel_state(1, ChannelState::InIvr);
    m.set_channel_state(2, ChannelState::Transferred);
    m.set_channel_state(7, ChannelState::OutOfService);
    m.calls_offered.add(5);
    m.calls_answered.add(4);
    m.call_ended(CallResult::SelfServed, HangupCause::BusyTone);
    m.call_ended(CallResult::Abandoned, HangupCause::BusyTone);
    m.call_ended(CallResult::Transferred, HangupCause::AgentHangup);
    m.lookup(LookupOutcome::Found, 0.030);
    m.lookup(LookupOutcome::Timeout, 1.5);
    m.dtmf_digit(Digit::D5, -2.5, 28.0, 80.0);
    m.dtmf_digit(Digit::Hash, 1.0, 35.0, 60.0);
    m.caller_id(CallerIdOutcome::Decoded);
    m.caller_id(CallerIdOutcome::Missing);
    m.ring_overruns.inc();
    m.cdr_write_failures.inc();

    let (head, body) = get(&server, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(len, body.len());
    let v = parse(&body);
    let at = |k: &str| *v.get(k).unwrap_or_else(|| panic!("no {k} in\n{body}"));
    assert_eq!(at("ivrd_channels{state=\"idle\"}"), 4.0);
    assert_eq!(at("ivrd_channels{state=\"in-ivr\"}"), 2.0);
    assert_eq!(at("ivrd_channels{state=\"transferred\"}"), 1.0);
    assert_eq!(at("ivrd_channels{state=\"out-of-service\"}"), 1.0);
    assert_eq!(at("ivrd_calls_offered_total"), 5.0);
    assert_eq!(at("ivrd_calls_answered_total"), 4.0);
    assert_eq!(at("ivrd_calls_total{result=\"transferred\"}"), 1.0);
    assert_eq!(at("ivrd_hangups_total{cause=\"busy-tone\"}"), 2.0);
    assert_eq!(at("ivrd_lookups_total{outcome=\"found\"}"), 1.0);
    assert_eq!(at("ivrd_lookups_total{outcome=\"timeout\"}"), 1.0);
    assert_eq!(at("ivrd_lookup_latency_seconds_bucket{le=\"0.05\"}"), 1.0);
    assert_eq!(at("ivrd_lookup_latency_seconds_bucket{le=\"1.5\"}"), 2.0);
    assert_eq!(at("ivrd_lookup_latency_seconds_count"), 2.0);
    assert!((at("ivrd_lookup_latency_seconds_sum") - 1.53).abs() < 1e-9);
    assert_eq!(at("ivrd_dtmf_digits_total{digit=\"5\"}"), 1.0);
    assert_eq!(at("ivrd_dtmf_digits_total{digit=\"#\"}"), 1.0);
    assert_eq!(at("ivrd_dtmf_twist_db_bucket{le=\"-2\"}"), 1.0);
    assert_eq!(at("ivrd_dtmf_snr_db_count"), 2.0);
    assert_eq!(at("ivrd_caller_id_total{outcome=\"decoded\"}"), 1.0);
    assert_eq!(at("ivrd_caller_id_total{outcome=\"missing\"}"), 1.0);
    assert_eq!(at("ivrd_ring_overruns_total"), 1.0);
    assert_eq!(at("ivrd_cdr_write_failures_total"), 1.0);

    // Counters keep counting between scrapes.
    m.calls_offered.inc();
    let (_, body) = get(&server, "GET /metrics HTTP/1.0\r\n\r\n");
    assert_eq!(parse(&body)["ivrd_calls_offered_total"], 6.0);
    server.stop();
}

#[test]
fn other_paths_and_methods_are_refused() {
    let server =
        MetricsServer::start("127.0.0.1:0".parse().unwrap(), Arc::new(Metrics::new(1))).unwrap();
    let (head, _) = get(&server, "GET /nope HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let (head, _) = get(
        &server,
        "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 405"), "{head}");
    let (head, body) = get(&server, "HEAD /metrics HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.is_empty());
    // A client that connects and says nothing does not stop the server
    // (it is dropped here; the next scrape still works).
    drop(TcpStream::connect(server.local_addr()).unwrap());
    let (head, _) = get(&server, "GET /metrics HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let addr = server.local_addr();
    server.stop();
    assert!(TcpStream::connect(addr).is_err(), "port closed after stop");
}
