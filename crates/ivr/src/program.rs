//! The compiled form of a script: flows of flat instructions with jump targets.

use crate::error::Loc;
use tel_types::Digit;

/// An expression in a condition, `set`, `say` or call argument.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Str(String),
    Int(i64),
    Bool(bool),
    Var(String, Loc),
    Not(Box<Self>),
    And(Box<Self>, Box<Self>),
    Or(Box<Self>, Box<Self>),
    Cmp(CmpOp, Box<Self>, Box<Self>, Loc),
    Add(Box<Self>, Box<Self>),
    /// `open(hours)`, `holiday(hours)`: index into the script's hours tables.
    Open(usize, Loc),
    Holiday(usize, Loc),
    /// `len(x)`.
    Len(Box<Self>),
    /// An unresolved hours name (only between parsing and linking).
    HoursRef(bool, String, Loc),
}

impl Expr {
    /// Every variable the expression reads, with its location.
    pub(crate) fn vars<'a>(&'a self, out: &mut Vec<(&'a str, Loc)>) {
        match self {
            Self::Var(v, l) => out.push((v, *l)),
            Self::Not(a) | Self::Len(a) => a.vars(out),
            Self::And(a, b) | Self::Or(a, b) | Self::Cmp(_, a, b, _) | Self::Add(a, b) => {
                a.vars(out);
                b.vars(out);
            }
            _ => {}
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// What `say` reads out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SayKind {
    /// Digit by digit (order and phone numbers; 1 is 幺 in Mandarin).
    Digits,
    /// A whole number.
    Number,
    /// An amount of money in yuan, e.g. `128.50`.
    Money,
    /// A date `2026-11-22`.
    Date,
    /// A time of day `14:05`.
    Time,
    /// An order status code (`shipped`, …).
    Status,
    /// A payment status code (`paid`, …).
    Payment,
    /// A carrier code (`sf`, …).
    Carrier,
}

impl SayKind {
    /// The keyword in scripts.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Digits => "digits",
            Self::Number => "number",
            Self::Money => "money",
            Self::Date => "date",
            Self::Time => "time",
            Self::Status => "status",
            Self::Payment => "payment",
            Self::Carrier => "carrier",
        }
    }

    pub(crate) const ALL: [Self; 8] = [
        Self::Digits,
        Self::Number,
        Self::Money,
        Self::Date,
        Self::Time,
        Self::Status,
        Self::Payment,
        Self::Carrier,
    ];
}

/// Where a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferKind {
    /// An agent group (queue).
    Group,
    /// One extension.
    Extension,
}

/// The order hooks a script can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookKind {
    /// `find_order(order_no)`.
    FindOrder,
    /// `recent_orders(phone)`.
    RecentOrders,
    /// `after_sales(order_no, reason, recording)`.
    AfterSales,
    /// `request_callback(phone, reason[, order_no[, recording]])`.
    RequestCallback,
}

impl HookKind {
    /// The hook's name in scripts.
    pub fn name(self) -> &'static str {
        match self {
            Self::FindOrder => "find_order",
            Self::RecentOrders => "recent_orders",
            Self::AfterSales => "after_sales",
            Self::RequestCallback => "request_callback",
        }
    }

    pub(crate) fn arity(self) -> (usize, usize) {
        match self {
            Self::FindOrder | Self::RecentOrders => (1, 1),
            Self::AfterSales => (2, 3),
            Self::RequestCallback => (1, 4),
        }
    }

    pub(crate) const ALL: [Self; 4] = [
        Self::FindOrder,
        Self::RecentOrders,
        Self::AfterSales,
        Self::RequestCallback,
    ];
}

/// A list of prompt-name indices played in a row (one attempt of a tapered prompt).
pub(crate) type PromptList = Vec<u16>;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Menu {
    pub(crate) name: String,
    pub(crate) greeting: Vec<PromptList>,
    pub(crate) invalid: Vec<PromptList>,
    pub(crate) no_input: Vec<PromptList>,
    pub(crate) timeout_ms: u64,
    pub(crate) invalid_limit: u32,
    pub(crate) timeout_limit: u32,
    pub(crate) barge_in: bool,
    pub(crate) keys: Vec<(Digit, usize, Loc)>,
    pub(crate) on_invalid_limit: Option<(usize, Loc)>,
    pub(crate) on_timeout_limit: Option<(usize, Loc)>,
    pub(crate) end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Collect {
    pub(crate) var: String,
    pub(crate) prompt: Vec<PromptList>,
    pub(crate) invalid: Vec<PromptList>,
    pub(crate) no_input: Vec<PromptList>,
    pub(crate) min: u32,
    pub(crate) max: u32,
    pub(crate) end_keys: tel_types::DigitSet,
    pub(crate) stop_keys: tel_types::DigitSet,
    pub(crate) first_timeout_ms: u64,
    pub(crate) digit_timeout_ms: u64,
    pub(crate) pattern: Option<crate::pattern::Pattern>,
    pub(crate) attempts: u32,
    pub(crate) barge_in: bool,
    pub(crate) on_ok: Option<(usize, Loc)>,
    pub(crate) on_fail: Option<(usize, Loc)>,
    pub(crate) on_stop: Option<(usize, Loc)>,
    pub(crate) end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HookOp {
    pub(crate) kind: HookKind,
    pub(crate) args: Vec<Expr>,
    pub(crate) into: Option<String>,
    pub(crate) timeout_ms: u64,
    pub(crate) hold: Option<u16>,
    pub(crate) on_found: Option<(usize, Loc)>,
    pub(crate) on_not_found: Option<(usize, Loc)>,
    pub(crate) on_error: Option<(usize, Loc)>,
    pub(crate) on_timeout: Option<(usize, Loc)>,
    pub(crate) end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordOp {
    pub(crate) var: String,
    pub(crate) prompt: Option<PromptList>,
    pub(crate) beep: bool,
    pub(crate) max_ms: u64,
    pub(crate) silence_ms: u64,
    pub(crate) stop_keys: tel_types::DigitSet,
    pub(crate) on_done: Option<(usize, Loc)>,
    pub(crate) on_empty: Option<(usize, Loc)>,
    /// `on hangup`: where its body starts, the `on` line, and where the body ends (the
    /// index of its closing [`Op::HangupEnd`]).
    pub(crate) on_hangup: Option<(usize, Loc, usize)>,
    pub(crate) end: usize,
}

/// One instruction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Answer,
    Hangup,
    Play(PromptList),
    Say(SayKind, Expr),
    Set(String, Expr),
    Result(Expr),
    Language(String),
    Pause(u64),
    Jump(usize),
    /// Jump to a label; resolved into `GotoPc` at the end of the flow.
    Goto(String),
    /// A resolved `goto`.
    GotoPc(usize),
    /// `if`: jump to the target when the condition is false.
    JumpUnless(Expr, usize),
    Menu(Box<Menu>),
    Collect(Box<Collect>),
    Hook(Box<HookOp>),
    Record(Box<RecordOp>),
    Transfer(TransferKind, Expr),
    /// Call a sub-flow: flow index (resolved at link time), arguments, result variable.
    Call(usize, Vec<Expr>, Option<String>),
    /// Unresolved call by name (between parsing and linking).
    CallName(String, Vec<Expr>, Option<String>),
    Return(Option<Expr>),
    /// The end of a flow's text.
    End,
    /// The end of an `on hangup` body: the call is over (the caller has gone).
    HangupEnd,
}

/// One instruction with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Instr {
    pub(crate) op: Op,
    pub(crate) loc: Loc,
}

/// A flow: the main call flow or a sub-flow with parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Flow {
    pub(crate) name: String,
    pub(crate) params: Vec<String>,
    pub(crate) code: Vec<Instr>,
    pub(crate) labels: Vec<(String, usize, Loc)>,
    pub(crate) loc: Loc,
}

/// Opening hours and holidays: `hours office ... end`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hours {
    pub(crate) name: String,
    /// (weekday bitmask mon=bit0, from minute, to minute)
    pub(crate) spans: Vec<(u8, u32, u32)>,
    /// (from, to) as yyyymmdd numbers, inclusive.
    pub(crate) holidays: Vec<(u32, u32)>,
    pub(crate) loc: Loc,
}

impl Hours {
    pub(crate) fn is_holiday(&self, date: u32) -> bool {
        self.holidays.iter().any(|&(a, b)| a <= date && date <= b)
    }

    pub(crate) fn is_open(&self, date: u32, weekday: u8, minute: u32) -> bool {
        !self.is_holiday(date)
            && self
                .spans
                .iter()
                .any(|&(days, a, b)| days & (1 << weekday) != 0 && a <= minute && minute < b)
    }
}
