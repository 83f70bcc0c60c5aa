//! Trunk and agent dimensioning: Erlang B for lines, Erlang C for agents.
//!
//! `ivrd dimension` answers the two questions an operator asks before the
//! 12:00–16:00 peak: *how many trunks so that callers almost never get a busy
//! line* (Erlang B, blocking probability) and *how many agents so that most
//! callers are answered quickly* (Erlang C, service level and average speed of
//! answer).
//!
//! The model:
//!
//! - Agent load `A = calls/h × share to agents × AHT / 3600` erlangs; Erlang C
//!   gives `P(wait)`, the service level `SL(t) = 1 − P(wait)·e^(−(N−A)·t/AHT)`,
//!   the average speed of answer `ASA = P(wait)·AHT/(N−A)` and the occupancy
//!   `A/N`. The smallest `N` whose `SL(t)` meets the target is chosen.
//! - A trunk is held for the IVR time, then (for calls that go to an agent) the
//!   queue wait and the agent's handling time, so the line load is
//!   `calls/h × (IVR + share × (ASA + AHT)) / 3600`; the smallest number of
//!   trunks whose Erlang B blocking is at most the target is chosen.
//!
//! Erlang C assumes nobody abandons and unlimited lines, so it is slightly
//! pessimistic for agents; Erlang B assumes blocked callers go away (a lost
//! order for a 400 number). Both are computed with the numerically stable
//! recurrence `B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1))`, which neither
//! overflows nor loses precision for thousands of servers.
//!
//! Pure computation, no allocation beyond the result table; no I/O except in
//! [`run`], which may read a CDR database.
//!
//! ```
//! use ivrd::dimension::{plan, Inputs};
//! // 600 calls in the peak hour, 2 min with an agent, 40 s in the IVR.
//! let p = plan(&Inputs { calls_per_hour: 600.0, aht_s: 120.0, ivr_s: 40.0, ..Inputs::default() })
//!     .unwrap();
//! assert_eq!(p.agents, 24); // 80 % answered within 20 s
//! assert_eq!(p.lines, 40); // at most 1 % of callers hear busy
//! ```

use std::fmt;
use std::path::PathBuf;

/// Probability that a call finds all `servers` busy and is lost (Erlang B),
/// for an offered load of `load_erlangs`.
///
/// Uses the stable recurrence, so it is exact to floating-point precision
/// for any number of servers. `erlang_b(0, a)` is 1 (no line: every call is
/// lost); a load of 0 blocks nothing.
pub fn erlang_b(servers: u32, load_erlangs: f64) -> f64 {
    let mut b = 1.0;
    for n in 1..=servers {
        let ab = load_erlangs * b;
        b = ab / (f64::from(n) + ab);
    }
    b
}

/// Probability that a call has to wait (Erlang C) with `servers` agents and
/// `load_erlangs` of offered load. 1 when the agents cannot keep up
/// (`servers <= load`).
pub fn erlang_c(servers: u32, load_erlangs: f64) -> f64 {
    let n = f64::from(servers);
    if n <= load_erlangs {
        return 1.0;
    }
    let b = erlang_b(servers, load_erlangs);
    n * b / (n - load_erlangs * (1.0 - b))
}

/// Fraction of calls answered within `answer_within_s` seconds (Erlang C
/// service level) with `agents` agents, `load_erlangs` of load and an
/// average handling time of `aht_s` seconds. 0 when the agents cannot keep up.
pub fn service_level(agents: u32, load_erlangs: f64, aht_s: f64, answer_within_s: f64) -> f64 {
    let n = f64::from(agents);
    if n <= load_erlangs {
        return 0.0;
    }
    let pw = erlang_c(agents, load_erlangs);
    (1.0 - pw * (-(n - load_erlangs) * answer_within_s / aht_s).exp()).clamp(0.0, 1.0)
}

/// Average speed of answer in seconds (mean wait over all calls, Erlang C).
/// Infinite when the agents cannot keep up.
pub fn average_speed_of_answer(agents: u32, load_erlangs: f64, aht_s: f64) -> f64 {
    let n = f64::from(agents);
    if n <= load_erlangs {
        return f64::INFINITY;
    }
    erlang_c(agents, load_erlangs) * aht_s / (n - load_erlangs)
}

/// The smallest number of lines whose Erlang B blocking is at most
/// `max_blocking` (a fraction in (0, 1)) for `load_erlangs` of load.
pub fn lines_for_blocking(load_erlangs: f64, max_blocking: f64) -> u32 {
    // Iterate the recurrence instead of calling erlang_b for each n: O(N).
    let mut b = 1.0;
    let mut n = 0u32;
    while b > max_blocking {
        n += 1;
        let ab = load_erlangs * b;
        b = ab / (f64::from(n) + ab);
    }
    n
}

/// The smallest number of agents whose service level for answering within
/// `answer_within_s` is at least `target` (a fraction in (0, 1)).
pub fn agents_for_service_level(
    load_erlangs: f64,
    aht_s: f64,
    target: f64,
    answer_within_s: f64,
) -> u32 {
    if load_erlangs <= 0.0 {
        return 0;
    }
    // Start at the first stable staffing level; SL grows with every agent.
    let mut n = load_erlangs.floor() as u32 + 1;
    while service_level(n, load_erlangs, aht_s, answer_within_s) < target {
        n += 1;
    }
    n
}

/// What to dimension for: the peak hour's traffic and the targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inputs {
    /// Calls offered in the busiest hour.
    pub calls_per_hour: f64,
    /// Average handling time with an agent (talk + hold + wrap-up), seconds.
    pub aht_s: f64,
    /// Average time a call spends in the IVR before it ends or is handed
    /// to an agent, seconds.
    pub ivr_s: f64,
    /// Fraction of calls that go to an agent (the rest finish in the IVR).
    pub to_agents: f64,
    /// Service-level target: this fraction of calls…
    pub sl_target: f64,
    /// …answered by an agent within this many seconds.
    pub sl_answer_within_s: f64,
    /// Highest acceptable fraction of calls that find every trunk busy.
    pub max_blocking: f64,
}

impl Default for Inputs {
    /// No traffic, with the usual targets: 80/20 service level, 1 %
    /// blocking, 40 s in the IVR, every call to an agent.
    fn default() -> Self {
        Self {
            calls_per_hour: 0.0,
            aht_s: 0.0,
            ivr_s: 40.0,
            to_agents: 1.0,
            sl_target: 0.8,
            sl_answer_within_s: 20.0,
            max_blocking: 0.01,
        }
    }
}

/// One staffing level around the recommendation, for the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaffingRow {
    /// Number of agents.
    pub agents: u32,
    /// Probability a call waits at all.
    pub p_wait: f64,
    /// Fraction answered within the target time.
    pub service_level: f64,
    /// Average speed of answer, seconds.
    pub asa_s: f64,
    /// Agent occupancy (load / agents).
    pub occupancy: f64,
}

/// The result of [`plan`].
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The inputs it was computed from.
    pub inputs: Inputs,
    /// Offered agent load, erlangs.
    pub agent_load: f64,
    /// Agents needed for the service-level target.
    pub agents: u32,
    /// The staffing figures at `agents`.
    pub at_agents: StaffingRow,
    /// Offered trunk load (IVR + queue + talk), erlangs.
    pub line_load: f64,
    /// Trunks needed for the blocking target.
    pub lines: u32,
    /// Blocking probability with `lines` trunks.
    pub blocking: f64,
    /// Staffing levels from a few below to a few above `agents`.
    pub table: Vec<StaffingRow>,
}

/// An input to [`plan`] or a flag of `ivrd dimension` that cannot be used.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DimensionError {
    /// A value is out of range or malformed.
    BadValue {
        /// The flag (or input) name, e.g. `--aht`.
        flag: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The CDR database could not be read or had no calls.
    Cdr(String),
}

impl fmt::Display for DimensionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadValue {
                flag,
                value,
                problem,
            } => write!(f, "{flag} {value}: {problem}"),
            Self::Cdr(msg) => write!(f, "--cdr: {msg}"),
        }
    }
}

impl std::error::Error for DimensionError {}

fn bad(flag: &'static str, value: f64, problem: &'static str) -> DimensionError {
    DimensionError::BadValue {
        flag,
        value: value.to_string(),
        problem,
    }
}

/// Computes the trunks and agents needed for `inputs`.
///
/// # Errors
///
/// [`DimensionError::BadValue`] naming the input when a value is negative,
/// not finite, or a target is not strictly between 0 and 100 %.
pub fn plan(inputs: &Inputs) -> Result<Plan, DimensionError> {
    let i = *inputs;
    if !(i.calls_per_hour.is_finite() && i.calls_per_hour >= 0.0) {
        return Err(bad(
            "--calls-per-hour",
            i.calls_per_hour,
            "must be a number of calls, 0 or more",
        ));
    }
    if i.calls_per_hour > 1.0e6 {
        return Err(bad(
            "--calls-per-hour",
            i.calls_per_hour,
            "more than a million calls an hour is not a call centre this tool can size",
        ));
    }
    if !(i.aht_s.is_finite() && i.aht_s > 0.0) {
        return Err(bad("--aht", i.aht_s, "must be more than 0 seconds"));
    }
    if !(i.ivr_s.is_finite() && i.ivr_s >= 0.0) {
        return Err(bad("--ivr-time", i.ivr_s, "must be 0 seconds or more"));
    }
    if !(i.to_agents.is_finite() && (0.0..=1.0).contains(&i.to_agents)) {
        return Err(bad(
            "--to-agents",
            i.to_agents,
            "must be between 0 and 100 %",
        ));
    }
    if !(i.sl_target.is_finite() && i.sl_target > 0.0 && i.sl_target < 1.0) {
        return Err(bad(
            "--service-level",
            i.sl_target,
            "the percentage must be more than 0 and less than 100",
        ));
    }
    if !(i.sl_answer_within_s.is_finite() && i.sl_answer_within_s > 0.0) {
        return Err(bad(
            "--service-level",
            i.sl_answer_within_s,
            "the answer time must be more than 0 seconds",
        ));
    }
    if !(i.max_blocking.is_finite() && i.max_blocking > 0.0 && i.max_blocking < 1.0) {
        return Err(bad(
            "--blocking",
            i.max_blocking,
            "must be more than 0 and less than 100 %",
        ));
    }

    let agent_load = i.calls_per_hour * i.to_agents * i.aht_s / 3600.0;
    let row = |agents: u32| StaffingRow {
        agents,
        p_wait: erlang_c(agents, agent_load),
        service_level: service_level(agents, agent_load, i.aht_s, i.sl_answer_within_s),
        asa_s: average_speed_of_answer(agents, agent_load, i.aht_s),
        occupancy: if agents == 0 {
            0.0
        } else {
            agent_load / f64::from(agents)
        },
    };
    let (agents, at_agents) = if agent_load > 0.0 {
        let n = agents_for_service_level(agent_load, i.aht_s, i.sl_target, i.sl_answer_within_s);
        (n, row(n))
    } else {
        let none = StaffingRow {
            agents: 0,
            p_wait: 0.0,
            service_level: 1.0,
            asa_s: 0.0,
            occupancy: 0.0,
        };
        (0, none)
    };
    let stable = agent_load.floor() as u32 + 1;
    let table = if agents == 0 {
        Vec::new()
    } else {
        (agents.saturating_sub(3).max(stable)..=agents + 3)
            .map(row)
            .collect()
    };

    let queue_and_talk = if agents == 0 {
        0.0
    } else {
        at_agents.asa_s + i.aht_s
    };
    let line_load = i.calls_per_hour * (i.ivr_s + i.to_agents * queue_and_talk) / 3600.0;
    let lines = lines_for_blocking(line_load, i.max_blocking);
    Ok(Plan {
        inputs: i,
        agent_load,
        agents,
        at_agents,
        line_load,
        lines,
        blocking: erlang_b(lines, line_load),
        table,
    })
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inputs;
        writeln!(f, "Inputs")?;
        writeln!(
            f,
            "  calls in the busiest hour   {:>10.0}",
            i.calls_per_hour
        )?;
        writeln!(f, "  time in the IVR             {:>10.1} s", i.ivr_s)?;
        writeln!(
            f,
            "  calls that go to an agent   {:>10.1} %",
            i.to_agents * 100.0
        )?;
        writeln!(f, "  agent handling time (AHT)   {:>10.1} s", i.aht_s)?;
        writeln!(
            f,
            "  service-level target        {:>7.0} % in {} s",
            i.sl_target * 100.0,
            i.sl_answer_within_s
        )?;
        writeln!(
            f,
            "  blocking target             {:>10.2} %",
            i.max_blocking * 100.0
        )?;
        writeln!(f)?;
        writeln!(f, "Agents (Erlang C, no abandonment)")?;
        writeln!(
            f,
            "  agent load                  {:>10.2} E",
            self.agent_load
        )?;
        if self.table.is_empty() {
            writeln!(f, "  no calls go to agents")?;
        } else {
            writeln!(
                f,
                "  {:>6}  {:>8}  {:>9}  {:>8}  {:>9}",
                "agents", "P(wait)", "SL", "ASA", "occupancy"
            )?;
            for r in &self.table {
                let mark = if r.agents == self.agents {
                    "  <- needed"
                } else {
                    ""
                };
                writeln!(
                    f,
                    "  {:>6}  {:>7.1}%  {:>8.1}%  {:>7.1}s  {:>8.1}%{mark}",
                    r.agents,
                    r.p_wait * 100.0,
                    r.service_level * 100.0,
                    r.asa_s,
                    r.occupancy * 100.0
                )?;
            }
        }
        writeln!(f)?;
        writeln!(f, "Trunks (Erlang B, IVR + queue + talk)")?;
        writeln!(
            f,
            "  line load                   {:>10.2} E",
            self.line_load
        )?;
        writeln!(
            f,
            "  trunks needed               {:>10}   (blocking {:.2} %)",
            self.lines,
            self.blocking * 100.0
        )?;
        write!(
            f,
            "\nNeeded: {} agents, {} trunks.",
            self.agents, self.lines
        )
    }
}

/// Parses a percentage flag value: `1%`, `1.5 %` or a fraction `0.01`.
///
/// # Errors
///
/// A message saying what is wrong (for clap to print with the flag).
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, pct) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (t, false),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("not a percentage (write e.g. 1% or 0.01): {s:?}"))?;
    if !pct && v > 1.0 {
        return Err(format!(
            "{s:?} would be a fraction above 1; write {}% for {} percent",
            num, num
        ));
    }
    let frac = if pct { v / 100.0 } else { v };
    if !(frac.is_finite() && (0.0..=1.0).contains(&frac)) {
        return Err(format!("{s:?} is not between 0 and 100 %"));
    }
    Ok(frac)
}

/// Parses a service-level target `PERCENT/SECONDS`, e.g. `80/20` (80 % of
/// calls answered within 20 s); `80%/20s` is accepted too.
///
/// # Errors
///
/// A message saying what is wrong (for clap to print with the flag).
pub fn parse_service_level(s: &str) -> Result<(f64, f64), String> {
    let Some((p, t)) = s.split_once('/') else {
        return Err(format!(
            "{s:?} is not PERCENT/SECONDS (write e.g. 80/20 for 80 % within 20 s)"
        ));
    };
    let p = p.trim().trim_end_matches('%').trim();
    let t = t.trim().trim_end_matches('s').trim();
    let pct: f64 = p
        .parse()
        .map_err(|_| format!("{s:?}: {p:?} is not a percentage"))?;
    let secs: f64 = t
        .parse()
        .map_err(|_| format!("{s:?}: {t:?} is not a number of seconds"))?;
    if !(pct > 0.0 && pct < 100.0) {
        return Err(format!(
            "{s:?}: the percentage must be more than 0 and less than 100"
        ));
    }
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!(
            "{s:?}: the answer time must be more than 0 seconds"
        ));
    }
    Ok((pct / 100.0, secs))
}

/// Parses a duration in seconds: `120`, `120s`, `2m` or `1.5m`.
///
/// # Errors
///
/// A message saying what is wrong (for clap to print with the flag).
pub fn parse_seconds(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (write e.g. 120 or 2m)"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("{s:?} must be 0 or more"));
    }
    Ok(v * scale)
}

fn parse_calls(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of calls"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("{s:?} must be 0 or more"));
    }
    Ok(v)
}

/// `ivrd dimension`: trunks (Erlang B) and agents (Erlang C) for the peak hour.
#[derive(Debug, Clone, clap::Args)]
pub struct DimensionArgs {
    /// Calls offered in the busiest hour.
    #[arg(long, value_name = "N", value_parser = parse_calls,
          required_unless_present = "cdr", conflicts_with = "cdr")]
    pub calls_per_hour: Option<f64>,
    /// Average handling time with an agent (talk + wrap-up): 120, 120s, 2m.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds,
          required_unless_present = "cdr", conflicts_with = "cdr")]
    pub aht: Option<f64>,
    /// Average time a call spends in the IVR before it ends or reaches an agent.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds,
          default_value = "40", conflicts_with = "cdr")]
    pub ivr_time: f64,
    /// Share of calls that go to an agent (the rest finish in the IVR).
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent,
          default_value = "100%", conflicts_with = "cdr")]
    pub to_agents: f64,
    /// Service-level target: PERCENT/SECONDS, e.g. 80/20.
    #[arg(long, value_name = "PERCENT/SECONDS", value_parser = parse_service_level,
          default_value = "80/20")]
    pub service_level: (f64, f64),
    /// Highest share of callers who may find every trunk busy, e.g. 1%.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, default_value = "1%")]
    pub blocking: f64,
    /// Take calls/hour, AHT, IVR time and the agent share from the busiest
    /// hour in this CDR store instead: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "PATH|URL")]
    pub cdr: Option<String>,
}

/// The `ivrd dimension` entry point: [`run`], and on error prints
/// `ivrd dimension: <error>` to stderr and exits with status 2.
pub fn cli(args: &DimensionArgs) {
    if let Err(e) = run(args) {
        eprintln!("ivrd dimension: {e}");
        std::process::exit(2);
    }
}

/// Runs `ivrd dimension`: prints the plan to stdout.
///
/// # Errors
///
/// A [`DimensionError`] naming the flag and value that cannot be used.
pub fn run(args: &DimensionArgs) -> Result<(), DimensionError> {
    let (sl_target, sl_answer_within_s) = args.service_level;
    let mut inputs = Inputs {
        calls_per_hour: args.calls_per_hour.unwrap_or(0.0),
        aht_s: args.aht.unwrap_or(0.0),
        ivr_s: args.ivr_time,
        to_agents: args.to_agents,
        sl_target,
        sl_answer_within_s,
        max_blocking: args.blocking,
    };
    if let Some(source) = &args.cdr {
        let pg = source.starts_with("postgres://") || source.starts_with("postgresql://");
        let (store, shown) = if pg {
            // Never print the password.
            let shown = match source.rsplit_once('@') {
                Some((_, host)) => format!("postgres://…@{host}"),
                None => source.clone(),
            };
            (crate::cdr::StoreSpec::Postgres(source.clone()), shown)
        } else {
            let path = PathBuf::from(source);
            (crate::cdr::StoreSpec::Sqlite(path), source.clone())
        };
        let hour = crate::cdr::busiest_hour_in_store(&store)
            .map_err(|e| DimensionError::Cdr(format!("{shown}: {e}")))?
            .ok_or_else(|| DimensionError::Cdr(format!("{shown}: no calls recorded")))?;
        println!(
            "Busiest hour in {shown}: {} ({} calls, {} answered, {} to agents)\n",
            crate::cdr::format_utc_ms(hour.hour_start_ms),
            hour.calls,
            hour.answered,
            hour.transferred
        );
        if hour.transferred == 0 {
            return Err(DimensionError::Cdr(format!(
                "{shown}: no call in the busiest hour reached an agent, so there is no handling \
                 time to size agents from; give --calls-per-hour and --aht instead"
            )));
        }
        inputs.calls_per_hour = hour.calls as f64;
        inputs.aht_s = hour.mean_agent_s;
        inputs.ivr_s = hour.mean_ivr_s;
        inputs.to_agents = hour.transferred as f64 / hour.calls as f64;
    }
    let p = plan(&inputs)?;
    println!("{p}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Textbook Erlang B table values (blocking at the given load).
    #[test]
    fn erlang_b_matches_the_tables() {
        // Small cases worked by hand: B(1,1) = 1/2, B(2,1) = 1/5, B(5,2) = 4/109.
        let cases = [
            (1, 1.0, 0.5),
            (2, 1.0, 0.2),
            (5, 2.0, 4.0 / 109.0),
            (10, 10.0, 0.214_582),
        ];
        for (n, a, want) in cases {
            let got = erlang_b(n, a);
            assert!(close(got, want, 1e-6), "B({n}, {a}) = {got}, want {want}");
        }
        // The 1 % column of the standard Erlang B table: N lines carry A erlangs.
        for (n, a) in [
            (10, 4.46),
            (20, 12.03),
            (30, 20.33),
            (50, 37.90),
            (100, 84.06),
        ] {
            assert_eq!(lines_for_blocking(a, 0.01), n, "{a} E at 1 %");
            assert!(erlang_b(n, a) <= 0.01 && erlang_b(n - 1, a) > 0.01);
        }
        assert_eq!(erlang_b(0, 3.0), 1.0);
        assert_eq!(erlang_b(5, 0.0), 0.0);
    }

    #[test]
    fn erlang_b_is_stable_for_thousands_of_lines() {
        let b = erlang_b(5000, 4800.0);
        assert!(b.is_finite() && b > 0.0 && b < 0.05, "{b}");
        assert_eq!(lines_for_blocking(0.0, 0.01), 1);
    }

    #[test]
    fn erlang_c_known_values() {
        // 10 E offered to 11 agents: P(wait) ≈ 0.6821 (standard Erlang C value).
        assert!(close(erlang_c(11, 10.0), 0.6821, 5e-4));
        assert_eq!(erlang_c(10, 10.0), 1.0);
        assert_eq!(service_level(10, 10.0, 120.0, 20.0), 0.0);
        assert!(average_speed_of_answer(9, 10.0, 120.0).is_infinite());
    }

    /// The worked examples of FEATURE-ANCHORS.md §12 (80/20, 1 %, 40 s IVR).
    #[test]
    fn feature_anchor_worked_examples() {
        // calls, AHT, agents, SL %, ASA s, occupancy %, lines
        let rows = [
            (300.0, 120.0, 13, 82.7, 11.4, 77.0, 23),
            (600.0, 120.0, 24, 84.7, 8.9, 83.0, 40),
            (600.0, 180.0, 35, 83.7, 10.2, 86.0, 51),
            (1200.0, 150.0, 55, 80.3, 11.5, 91.0, 82),
        ];
        for (calls, aht, agents, sl, asa, occ, lines) in rows {
            let p = plan(&Inputs {
                calls_per_hour: calls,
                aht_s: aht,
                ..Inputs::default()
            })
            .unwrap();
            assert_eq!(p.agents, agents, "{calls} calls/h, {aht} s");
            assert!(close(p.at_agents.service_level * 100.0, sl, 0.05), "{p:?}");
            assert!(close(p.at_agents.asa_s, asa, 0.05), "{p:?}");
            assert!(close(p.at_agents.occupancy * 100.0, occ, 0.5), "{p:?}");
            assert_eq!(p.lines, lines, "{calls} calls/h, {aht} s");
            // One agent fewer misses the target; one line fewer blocks too much.
            assert!(service_level(agents - 1, p.agent_load, aht, 20.0) < 0.8);
            assert!(erlang_b(lines - 1, p.line_load) > 0.01);
        }
    }

    #[test]
    fn calls_that_stay_in_the_ivr_need_lines_but_no_agents() {
        let p = plan(&Inputs {
            calls_per_hour: 300.0,
            aht_s: 120.0,
            to_agents: 0.0,
            ..Inputs::default()
        })
        .unwrap();
        assert_eq!(p.agents, 0);
        assert!(p.table.is_empty());
        // 300 × 40 s = 3.33 E: 9 lines for 1 %.
        assert_eq!(p.lines, 9);
        assert!(p.to_string().contains("no calls go to agents"));
    }

    #[test]
    fn table_brackets_the_recommendation() {
        let p = plan(&Inputs {
            calls_per_hour: 600.0,
            aht_s: 120.0,
            ..Inputs::default()
        })
        .unwrap();
        let agents: Vec<u32> = p.table.iter().map(|r| r.agents).collect();
        assert_eq!(agents, (21..=27).collect::<Vec<_>>());
        let text = p.to_string();
        assert!(text.contains("24 agents, 40 trunks"), "{text}");
        assert!(text.contains("<- needed"), "{text}");
    }

    #[test]
    fn bad_inputs_name_the_flag_and_value() {
        let base = Inputs {
            calls_per_hour: 600.0,
            aht_s: 120.0,
            ..Inputs::default()
        };
        let e = plan(&Inputs { aht_s: 0.0, ..base }).unwrap_err();
        assert_eq!(e.to_string(), "--aht 0: must be more than 0 seconds");
        let e = plan(&Inputs {
            calls_per_hour: f64::NAN,
            ..base
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("--calls-per-hour NaN"), "{e}");
        let e = plan(&Inputs {
            max_blocking: 1.0,
            ..base
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("--blocking 1:"), "{e}");
    }

    #[test]
    fn flag_parsers() {
        assert_eq!(parse_percent("1%"), Ok(0.01));
        assert_eq!(parse_percent(" 2.5 % "), Ok(0.025));
        assert_eq!(parse_percent("0.01"), Ok(0.01));
        assert!(parse_percent("150%").unwrap_err().contains("150%"));
        assert!(parse_percent("abc").unwrap_err().contains("abc"));
        assert!(parse_percent("2").unwrap_err().contains("write 2%"));
        assert_eq!(parse_service_level("80/20"), Ok((0.8, 20.0)));
        assert_eq!(parse_service_level("90%/15s"), Ok((0.9, 15.0)));
        assert!(
            parse_service_level("80")
                .unwrap_err()
                .contains("PERCENT/SECONDS")
        );
        assert!(parse_service_level("100/20").is_err());
        assert!(parse_service_level("80/0").is_err());
        assert_eq!(parse_seconds("120"), Ok(120.0));
        assert_eq!(parse_seconds("2m"), Ok(120.0));
        assert_eq!(parse_seconds("90s"), Ok(90.0));
        assert!(parse_seconds("-3").is_err());
        assert!(parse_seconds("soon").unwrap_err().contains("soon"));
    }
}
