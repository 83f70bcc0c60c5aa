//! The simulator's sample shop: a small TOML file of orders that designers edit
//! (`ivr-scripts/tests/shop.toml`), answering the order hooks deterministically.

use ivr::{Duration, HookCall, HookReply};
use serde::Deserialize;
use std::path::Path;

/// One order of the sample shop.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Order {
    order_no: String,
    phone: String,
    status: String,
    #[serde(default = "unknown")]
    payment: String,
    amount: String,
    #[serde(default)]
    carrier: String,
    #[serde(default)]
    tracking_no: String,
    #[serde(default)]
    created: String,
}

fn unknown() -> String {
    "unknown".into()
}

/// How the sample shop misbehaves, for testing failure branches.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Behaviour {
    /// Answer time in ms (default 300).
    latency_ms: Option<u64>,
    /// Order numbers whose lookup fails with an error.
    #[serde(default)]
    error_orders: Vec<String>,
    /// Order numbers whose lookup never answers in time.
    #[serde(default)]
    slow_orders: Vec<String>,
}

/// The sample shop.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Shop {
    #[serde(default)]
    orders: Vec<Order>,
    #[serde(default)]
    behaviour: Behaviour,
    /// Per-hook forced replies (`not-found`, `error`, `timeout`), set by test cases.
    #[serde(skip)]
    pub(crate) forced: Vec<(String, String)>,
}

impl Shop {
    /// Reads a shop file; the error names the file and the problem.
    pub(crate) fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn fields(o: &Order) -> Vec<(String, String)> {
        vec![
            ("order_no".into(), o.order_no.clone()),
            ("status".into(), o.status.clone()),
            ("payment".into(), o.payment.clone()),
            ("amount".into(), o.amount.clone()),
            ("carrier".into(), o.carrier.clone()),
            ("tracking_no".into(), o.tracking_no.clone()),
            ("created".into(), o.created.clone()),
        ]
    }
}

impl ivr::sim::Hooks for Shop {
    fn answer(&mut self, call: &HookCall) -> (HookReply, Duration) {
        let lat = Duration::from_millis(self.behaviour.latency_ms.unwrap_or(300));
        if let Some((_, how)) = self.forced.iter().find(|(h, _)| h == call.name()) {
            return match how.as_str() {
                "not-found" => (HookReply::NotFound, lat),
                "error" => (HookReply::Error("forced by the test case".into()), lat),
                _ => (HookReply::NotFound, Duration::from_secs(3600)),
            };
        }
        let reply = match call {
            HookCall::FindOrder { order_no } => {
                if self.behaviour.error_orders.contains(order_no) {
                    return (
                        HookReply::Error("the sample shop's database is down".into()),
                        lat,
                    );
                }
                if self.behaviour.slow_orders.contains(order_no) {
                    return (HookReply::NotFound, Duration::from_secs(3600));
                }
                match self.orders.iter().find(|o| o.order_no == *order_no) {
                    Some(o) => HookReply::Found(Self::fields(o)),
                    None => HookReply::NotFound,
                }
            }
            HookCall::RecentOrders { phone } => {
                let mut mine: Vec<&Order> =
                    self.orders.iter().filter(|o| o.phone == *phone).collect();
                mine.sort_by(|a, b| b.created.cmp(&a.created));
                match mine.first() {
                    Some(o) => {
                        let mut f = Self::fields(o);
                        f.push(("count".into(), mine.len().to_string()));
                        HookReply::Found(f)
                    }
                    None => HookReply::NotFound,
                }
            }
            HookCall::AfterSales { order_no, .. } => {
                if self.orders.iter().any(|o| o.order_no == *order_no) {
                    let tail: String = order_no
                        .chars()
                        .rev()
                        .take(6)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    HookReply::Found(vec![("reference".into(), format!("88{tail}"))])
                } else {
                    HookReply::NotFound
                }
            }
            HookCall::RequestCallback { phone, .. } => {
                if phone.is_empty() {
                    HookReply::NotFound
                } else {
                    HookReply::Found(vec![("ticket".into(), "1".into())])
                }
            }
            _ => HookReply::Error("unknown hook".into()),
        };
        (reply, lat)
    }
}
