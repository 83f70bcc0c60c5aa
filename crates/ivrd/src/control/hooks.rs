//! The engine's hook calls answered by the shop (`order-hooks`), and the worker threads that
//! make those blocking calls off the control thread.

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use ivr::{HookCall, HookId, HookReply};
use order_hooks::{
    AfterSalesKind, AfterSalesRequest, CallbackRequest, Error, Note, Order, OrderNo, Phone, Shop,
    UnixTime,
};
use tel_types::ChannelId;

use super::HookJob;

/// The fields a script reads from a found order (`order.status`, …).
fn fields(o: &Order) -> Vec<(String, String)> {
    vec![
        ("order_no".into(), o.number.as_str().to_string()),
        ("status".into(), o.status.name().to_string()),
        ("payment".into(), o.payment_status.name().to_string()),
        ("amount".into(), o.amount.to_string()),
        (
            "carrier".into(),
            o.carrier
                .as_ref()
                .map(|c| c.code().to_string())
                .unwrap_or_default(),
        ),
        // Scripts say the tracking number digit by digit; carriers' letter prefixes (`SF…`)
        // are already said as the carrier's name.
        (
            "tracking_no".into(),
            o.tracking_no
                .as_deref()
                .unwrap_or_default()
                .chars()
                .filter(char::is_ascii_digit)
                .collect(),
        ),
    ]
}

fn err(e: &Error) -> HookReply {
    match e {
        Error::NotFound { .. } | Error::InvalidInput { .. } => HookReply::NotFound,
        Error::Timeout { .. } => HookReply::Timeout,
        other => HookReply::Error(other.to_string()),
    }
}

fn now_unix() -> UnixTime {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    UnixTime(s)
}

/// Answers one hook call from `shop` within `budget` (blocking).
pub(crate) fn answer(shop: &dyn Shop, call: &HookCall, budget: Duration) -> HookReply {
    match call {
        HookCall::FindOrder { order_no } => match OrderNo::parse(order_no) {
            Ok(no) => match shop.order(&no, budget) {
                Ok(o) => HookReply::Found(fields(&o)),
                Err(e) => err(&e),
            },
            Err(_) => HookReply::NotFound,
        },
        HookCall::RecentOrders { phone } => match Phone::parse(phone) {
            Ok(p) => match shop.recent_orders(&p, 5, budget) {
                Ok(list) if !list.is_empty() => {
                    let mut f = fields(&list[0]);
                    f.push(("count".into(), list.len().to_string()));
                    HookReply::Found(f)
                }
                Ok(_) => HookReply::NotFound,
                Err(e) => err(&e),
            },
            Err(_) => HookReply::NotFound,
        },
        HookCall::AfterSales {
            order_no, reason, ..
        } => {
            let (Ok(order), Ok(note)) = (OrderNo::parse(order_no), Note::parse("reason", reason))
            else {
                return HookReply::NotFound;
            };
            let req = AfterSalesRequest {
                order,
                kind: AfterSalesKind::Return,
                reason: note,
                phone: None,
                requested_at: now_unix(),
            };
            match shop.create_after_sales(&req, budget) {
                Ok(id) => HookReply::Found(vec![("reference".into(), id.to_string())]),
                Err(e) => err(&e),
            }
        }
        HookCall::RequestCallback {
            phone,
            reason,
            order_no,
            recording,
        } => {
            let Ok(phone) = Phone::parse(phone) else {
                return HookReply::NotFound;
            };
            // A voice message rides in the note next to the reason (`voice_message
            // rec-1` before the controller names the file, the file's name after), so the
            // agent who calls back finds it.
            let note = match recording {
                Some(r) => format!("{reason} {r}"),
                None => reason.clone(),
            };
            let req = CallbackRequest {
                phone,
                // A number the caller keyed in that is not an order number is left out
                // (the script checked it with find_order; a database outage kept it).
                order: order_no.as_deref().and_then(|o| OrderNo::parse(o).ok()),
                note: Note::parse("reason", &note).ok(),
                requested_at: now_unix(),
            };
            match shop.request_callback(&req, budget) {
                Ok(id) => HookReply::Found(vec![("ticket".into(), id.to_string())]),
                Err(e) => err(&e),
            }
        }
        _ => HookReply::Error("hook not supported by this daemon".into()),
    }
}

/// A hook answer for the control thread.
#[derive(Debug)]
pub(crate) struct Done {
    /// The call's channel.
    pub(crate) ch: ChannelId,
    /// The request.
    pub(crate) id: HookId,
    /// The answer.
    pub(crate) reply: HookReply,
    /// How long the shop took, seconds.
    pub(crate) latency_s: f64,
}

/// The backend new lookups go to; a reload swaps it (lookups in flight finish on the one
/// they started with).
type Backend = Arc<std::sync::RwLock<Arc<dyn Shop>>>;

/// `k` worker threads answering jobs from a bounded queue.
pub(crate) struct Workers {
    jobs: Option<Sender<HookJob>>,
    backend: Backend,
    /// Answers (the control thread drains it when woken).
    pub(crate) done: Receiver<Done>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}

impl Workers {
    /// Starts `k` workers over `shop`; each answer wakes `waker`.
    pub(crate) fn spawn(
        shop: Arc<dyn Shop>,
        k: usize,
        budget: Duration,
        waker: Arc<mio::Waker>,
    ) -> std::io::Result<Self> {
        let (jobs_tx, jobs_rx) = crossbeam_channel::bounded::<HookJob>(256);
        let (done_tx, done) = crossbeam_channel::bounded::<Done>(1024);
        let mut threads = Vec::new();
        let backend: Backend = Arc::new(std::sync::RwLock::new(shop));
        for n in 0..k.max(1) {
            let (rx, tx, backend, waker) = (
                jobs_rx.clone(),
                done_tx.clone(),
                Arc::clone(&backend),
                Arc::clone(&waker),
            );
            threads.push(
                std::thread::Builder::new()
                    .name(format!("hook-{n}"))
                    .spawn(move || {
                        for job in rx {
                            let shop = Arc::clone(
                                &backend
                                    .read()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner),
                            );
                            let t0 = std::time::Instant::now();
                            let reply = answer(shop.as_ref(), &job.call, budget);
                            let latency_s = t0.elapsed().as_secs_f64();
                            let _ = tx.send(Done {
                                ch: job.ch,
                                id: job.id,
                                reply,
                                latency_s,
                            });
                            let _ = waker.wake();
                        }
                    })?,
            );
        }
        Ok(Self {
            jobs: Some(jobs_tx),
            backend,
            done,
            threads,
        })
    }

    /// New lookups go to `shop` from now on; those in flight finish on the old backend
    /// (dropped when the last of them is done).
    pub(crate) fn set_backend(&self, shop: Arc<dyn Shop>) {
        *self
            .backend
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = shop;
    }

    /// Queues a job; if the queue is full the call gets `Timeout` at once (its fallback).
    pub(crate) fn submit(&self, job: HookJob) -> Option<Done> {
        let Some(tx) = &self.jobs else {
            return Some(Done {
                ch: job.ch,
                id: job.id,
                reply: HookReply::Timeout,
                latency_s: 0.0,
            });
        };
        match tx.try_send(job) {
            Ok(()) => None,
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => Some(Done {
                ch: job.ch,
                id: job.id,
                reply: HookReply::Timeout,
                latency_s: 0.0,
            }),
        }
    }

    /// Stops the workers after the queued jobs.
    pub(crate) fn shutdown(mut self) {
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
