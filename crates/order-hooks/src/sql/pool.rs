//! A fixed set of connection threads with per-call deadlines.
//!
//! Each worker thread owns one connection (opened lazily, reopened after it breaks). A call
//! is queued with its deadline; the caller waits on its own reply channel only until the
//! deadline and then returns `Timeout`, whatever the database does. The worker that runs a
//! stuck query is asked to cancel it (SQLite interrupt, PostgreSQL cancel request, MySQL
//! `KILL QUERY`) and drops jobs whose deadline has passed before it gets to them. The queue
//! is bounded, so callers get `Unavailable` at once when every connection is stuck.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::mapping::Rows;
use super::stmt::{Stmt, Value};
use crate::error::{Error, Result};

/// A driver-level failure, before it becomes an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// Could not connect (refused, unreachable, bad credentials).
    Connect(String),
    /// The connection broke during the call; it will be reopened.
    Lost(String),
    /// The database rejected the statement.
    Query(String),
    /// The statement ran out of time inside the driver.
    Timeout,
}

/// Cancels whatever the connection is running; called from another thread.
pub type Canceller = Arc<dyn Fn() + Send + Sync>;

/// One open database connection.
pub trait Conn: Send {
    /// Runs a query and returns its rows.
    fn query(
        &mut self,
        stmt: &Stmt,
        params: &[Value],
        deadline: Instant,
    ) -> std::result::Result<Rows, DbError>;
    /// Runs an INSERT and returns the new row's id (from `RETURNING id` or the driver's
    /// last-insert id).
    fn insert(
        &mut self,
        stmt: &Stmt,
        params: &[Value],
        deadline: Instant,
    ) -> std::result::Result<i64, DbError>;
    /// Runs one statement whose text already has this driver's placeholders (`?`, `$1`,
    /// `?1`) and returns the number of rows changed. For schema set-up and bulk loading;
    /// still parameterised.
    fn exec_raw(&mut self, sql: &str, params: &[Value]) -> std::result::Result<u64, DbError>;
    /// How to cancel a running statement, if the driver can.
    fn canceller(&self) -> Option<Canceller>;
}

/// Opens connections.
pub trait Connector: Send + Sync {
    /// Opens one connection; should give up around `deadline`.
    fn connect(&self, deadline: Instant) -> std::result::Result<Box<dyn Conn>, DbError>;
    /// What to call this database in messages (no password).
    fn describe(&self) -> String;
}

type Job = Box<dyn FnOnce(&mut Slot) + Send>;

struct Queued {
    id: u64,
    deadline: Instant,
    job: Job,
}

/// What a worker owns: its connection, if open.
pub(crate) struct Slot {
    conn: Option<Box<dyn Conn>>,
    connector: Arc<dyn Connector>,
    cancel: Arc<Mutex<Option<Canceller>>>,
}

impl Slot {
    /// Runs `f` on the connection, opening it first if needed. A read on a connection that
    /// was open before this call and turns out broken is retried once on a fresh one.
    pub(crate) fn run<T>(
        &mut self,
        deadline: Instant,
        retry_if_stale: bool,
        mut f: impl FnMut(&mut dyn Conn) -> std::result::Result<T, DbError>,
    ) -> std::result::Result<T, DbError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let reused = self.conn.is_some();
            if self.conn.is_none() {
                let c = self.connector.connect(deadline)?;
                *lock(&self.cancel) = c.canceller();
                self.conn = Some(c);
            }
            let conn = self.conn.as_deref_mut();
            let r = f(conn.unwrap_or_else(|| unreachable!("connection just opened")));
            match r {
                Err(DbError::Lost(e)) => {
                    self.conn = None;
                    *lock(&self.cancel) = None;
                    if !(reused && retry_if_stale && attempts == 1 && Instant::now() < deadline) {
                        return Err(DbError::Lost(e));
                    }
                    log::info!(
                        "order-hooks: connection to {} was lost ({e}); reconnecting",
                        self.connector.describe()
                    );
                }
                Err(DbError::Timeout) => {
                    // The statement may still be running on the server: start afresh.
                    self.conn = None;
                    *lock(&self.cancel) = None;
                    return Err(DbError::Timeout);
                }
                other => return other,
            }
        }
    }
}

struct Shared {
    queue: Mutex<(VecDeque<Queued>, bool)>,
    ready: Condvar,
}

/// The pool.
pub(crate) struct Pool {
    shared: Arc<Shared>,
    cancels: Vec<Arc<Mutex<Option<Canceller>>>>,
    busy: Arc<Mutex<Vec<Option<u64>>>>,
    next_id: AtomicU64,
    max_queue: usize,
    connector: Arc<dyn Connector>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("db", &self.connector.describe())
            .field("workers", &self.cancels.len())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Pool {
    /// Starts `size` worker threads (connections open on first use).
    pub(crate) fn new(connector: Arc<dyn Connector>, size: usize) -> Self {
        let size = size.max(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new((VecDeque::new(), false)),
            ready: Condvar::new(),
        });
        let busy = Arc::new(Mutex::new(vec![None; size]));
        let mut cancels = Vec::new();
        for i in 0..size {
            let cancel = Arc::new(Mutex::new(None));
            cancels.push(cancel.clone());
            let mut slot = Slot {
                conn: None,
                connector: connector.clone(),
                cancel,
            };
            let shared = shared.clone();
            let busy = busy.clone();
            let spawned = thread::Builder::new()
                .name(format!("order-hooks-db{i}"))
                .spawn(move || worker(&shared, &busy, i, &mut slot));
            if let Err(e) = spawned {
                log::error!("order-hooks: cannot start connection thread: {e}");
            }
        }
        Self {
            shared,
            cancels,
            busy,
            next_id: AtomicU64::new(1),
            max_queue: size * 4,
            connector,
        }
    }

    /// Runs `f` on some worker's connection and waits for it until `budget` is used up.
    pub(crate) fn call<T: Send + 'static>(
        &self,
        op: &'static str,
        budget: Duration,
        f: impl FnOnce(&mut Slot, Instant) -> std::result::Result<T, DbError> + Send + 'static,
    ) -> Result<T> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let deadline = start + budget;
        let (tx, rx) = mpsc::sync_channel::<std::result::Result<T, DbError>>(1);
        let job: Job = Box::new(move |slot: &mut Slot| {
            let _ = tx.send(f(slot, deadline));
        });
        {
            let mut q = lock(&self.shared.queue);
            let now = Instant::now();
            q.0.retain(|j| j.deadline > now);
            if q.0.len() >= self.max_queue {
                return Err(Error::Unavailable {
                    reason: format!(
                        "all {} connections to {} are busy and {} calls are waiting",
                        self.cancels.len(),
                        self.connector.describe(),
                        q.0.len()
                    ),
                });
            }
            q.0.push_back(Queued { id, deadline, job });
        }
        self.shared.ready.notify_one();
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.to_error(op, budget, e)),
            Err(_) => {
                self.cancel_job(id);
                Err(Error::Timeout { op, budget })
            }
        }
    }

    /// Asks the worker running job `id` (if any) to cancel its statement.
    fn cancel_job(&self, id: u64) {
        let Some(i) = lock(&self.busy).iter().position(|b| *b == Some(id)) else {
            return;
        };
        if let Some(cancel) = lock(&self.cancels[i]).clone() {
            let _ = thread::Builder::new()
                .name("order-hooks-cancel".into())
                .spawn(move || cancel());
        }
    }

    fn to_error(&self, op: &'static str, budget: Duration, e: DbError) -> Error {
        match e {
            DbError::Connect(m) => Error::Unavailable {
                reason: format!("cannot connect to {}: {m}", self.connector.describe()),
            },
            DbError::Lost(m) => Error::Unavailable {
                reason: format!("connection to {} lost: {m}", self.connector.describe()),
            },
            DbError::Query(m) => Error::Backend {
                detail: format!("{op}: {m}"),
            },
            DbError::Timeout => Error::Timeout { op, budget },
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        lock(&self.shared.queue).1 = true;
        self.shared.ready.notify_all();
    }
}

fn worker(shared: &Shared, busy: &Mutex<Vec<Option<u64>>>, me: usize, slot: &mut Slot) {
    loop {
        let job = {
            let mut q = lock(&shared.queue);
            loop {
                if q.1 {
                    return;
                }
                let now = Instant::now();
                match q.0.pop_front() {
                    // Its caller has given up already: don't run it.
                    Some(j) if j.deadline <= now => continue,
                    Some(j) => break j,
                    None => {
                        q = shared
                            .ready
                            .wait(q)
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                }
            }
        };
        lock(busy)[me] = Some(job.id);
        (job.job)(slot);
        lock(busy)[me] = None;
    }
}
