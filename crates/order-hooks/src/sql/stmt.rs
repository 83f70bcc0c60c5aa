//! Named parameters (`:order_no`) compiled to each driver's placeholders.

use crate::error::{Error, Result};

/// The SQL dialect of a backend: decides the placeholder syntax and a few casts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite: `?1`, `?2` …
    Sqlite,
    /// PostgreSQL: `$1`, `$2` …
    Postgres,
    /// MySQL and MariaDB: `?`.
    Mysql,
}

impl Dialect {
    /// The dialect's name as config files spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
        }
    }
}

/// A value bound to a parameter or read from a result column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A floating-point number (only ever read, never bound).
    Float(f64),
    /// Text (decimals are read as text too, to keep money exact).
    Text(String),
}

/// The parameters a query may use, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    /// `:order_no`
    OrderNo,
    /// `:phone` (national digits)
    Phone,
    /// `:phone_intl` (`+86…`)
    PhoneIntl,
    /// `:phone_dashed` (`138-1234-5678`)
    PhoneDashed,
    /// `:phone_spaced` (`138 1234 5678`)
    PhoneSpaced,
    /// `:limit`
    Limit,
    /// `:kind` (`return`, `exchange`, `complaint`)
    Kind,
    /// `:reason`
    Reason,
    /// `:note`
    Note,
    /// `:created_at` (unix seconds)
    CreatedAt,
}

impl Param {
    fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "order_no" => Self::OrderNo,
            "phone" => Self::Phone,
            "phone_intl" => Self::PhoneIntl,
            "phone_dashed" => Self::PhoneDashed,
            "phone_spaced" => Self::PhoneSpaced,
            "limit" => Self::Limit,
            "kind" => Self::Kind,
            "reason" => Self::Reason,
            "note" => Self::Note,
            "created_at" => Self::CreatedAt,
            _ => return None,
        })
    }

    /// The name as written in SQL after `:`.
    pub fn name(self) -> &'static str {
        match self {
            Self::OrderNo => "order_no",
            Self::Phone => "phone",
            Self::PhoneIntl => "phone_intl",
            Self::PhoneDashed => "phone_dashed",
            Self::PhoneSpaced => "phone_spaced",
            Self::Limit => "limit",
            Self::Kind => "kind",
            Self::Reason => "reason",
            Self::Note => "note",
            Self::CreatedAt => "created_at",
        }
    }
}

/// One query compiled for one dialect: the SQL text with the driver's placeholders and the
/// parameter bound to each placeholder, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// SQL with placeholders.
    pub text: String,
    /// The parameter for each placeholder (repeated names are bound again).
    pub params: Vec<Param>,
}

impl Stmt {
    /// Compiles `sql` for `dialect`. `allowed` are the parameters this query may use; any
    /// other `:name` is an error naming `file`, `key` and the parameter. String literals,
    /// quoted identifiers, comments and PostgreSQL `::type` casts are left alone.
    ///
    /// # Errors
    /// [`Error::Config`] for an unknown or disallowed parameter or an unterminated quote.
    pub fn compile(
        sql: &str,
        dialect: Dialect,
        allowed: &[Param],
        file: &str,
        key: &str,
    ) -> Result<Self> {
        let cfg = |problem: String| Error::Config {
            file: file.to_owned(),
            key: key.to_owned(),
            problem,
        };
        let b = sql.as_bytes();
        let mut text = String::with_capacity(sql.len() + 8);
        let mut params = Vec::new();
        let mut i = 0;
        let mut copied = 0;
        while i < b.len() {
            match b[i] {
                q @ (b'\'' | b'"' | b'`') => {
                    let mut j = i + 1;
                    loop {
                        if j >= b.len() {
                            return Err(cfg(format!("unterminated {} quote", q as char)));
                        }
                        if b[j] == q {
                            if b.get(j + 1) == Some(&q) {
                                j += 2;
                                continue;
                            }
                            break;
                        }
                        j += 1;
                    }
                    i = j + 1;
                }
                b'-' if b.get(i + 1) == Some(&b'-') => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    let end = sql[i + 2..].find("*/").map(|k| i + 2 + k + 2);
                    i = end.ok_or_else(|| cfg("unterminated /* comment".into()))?;
                }
                b':' if b.get(i + 1) == Some(&b':') => i += 2,
                b':' if b
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
                {
                    let start = i + 1;
                    let mut j = start;
                    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                        j += 1;
                    }
                    let name = &sql[start..j];
                    let p = Param::from_name(name)
                        .ok_or_else(|| cfg(format!("unknown parameter :{name}")))?;
                    if !allowed.contains(&p) {
                        let names: Vec<String> =
                            allowed.iter().map(|p| format!(":{}", p.name())).collect();
                        return Err(cfg(format!(
                            "parameter :{name} is not available in this query (available: {})",
                            names.join(", ")
                        )));
                    }
                    text.push_str(&sql[copied..i]);
                    params.push(p);
                    match dialect {
                        Dialect::Sqlite => text.push_str(&format!("?{}", params.len())),
                        Dialect::Postgres => text.push_str(&format!("${}", params.len())),
                        Dialect::Mysql => text.push('?'),
                    }
                    copied = j;
                    i = j;
                }
                b'?' if dialect != Dialect::Postgres => {
                    return Err(cfg(
                        "positional placeholder '?' found: use named parameters such as :order_no"
                            .into(),
                    ));
                }
                b'$' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                    return Err(cfg(
                        "positional placeholder '$n' found: use named parameters such as :order_no"
                            .into(),
                    ));
                }
                _ => i += 1,
            }
        }
        text.push_str(&sql[copied..]);
        if text.trim().is_empty() {
            return Err(cfg("empty query".into()));
        }
        Ok(Self { text, params })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[Param] = &[Param::OrderNo, Param::Phone, Param::Limit];

    #[test]
    fn placeholders_per_dialect() {
        let sql = "SELECT * FROM o WHERE a = :order_no OR b = :phone OR c = :order_no LIMIT :limit";
        let s = Stmt::compile(sql, Dialect::Postgres, ALL, "f", "k").unwrap();
        assert_eq!(
            s.text,
            "SELECT * FROM o WHERE a = $1 OR b = $2 OR c = $3 LIMIT $4"
        );
        assert_eq!(
            s.params,
            vec![Param::OrderNo, Param::Phone, Param::OrderNo, Param::Limit]
        );
        let s = Stmt::compile(sql, Dialect::Mysql, ALL, "f", "k").unwrap();
        assert_eq!(
            s.text,
            "SELECT * FROM o WHERE a = ? OR b = ? OR c = ? LIMIT ?"
        );
        let s = Stmt::compile(sql, Dialect::Sqlite, ALL, "f", "k").unwrap();
        assert_eq!(
            s.text,
            "SELECT * FROM o WHERE a = ?1 OR b = ?2 OR c = ?3 LIMIT ?4"
        );
    }

    #[test]
    fn literals_comments_and_casts_are_untouched() {
        let sql =
            "SELECT ':phone', x::text, \"a:b\" -- :nope\n FROM t /* :no */ WHERE n = :order_no";
        let s = Stmt::compile(sql, Dialect::Postgres, ALL, "f", "k").unwrap();
        assert_eq!(s.params, vec![Param::OrderNo]);
        assert!(
            s.text.contains("':phone'") && s.text.contains("x::text") && s.text.ends_with("n = $1")
        );
    }

    #[test]
    fn errors_name_file_key_and_problem() {
        let e = Stmt::compile(
            "SELECT :bogus",
            Dialect::Sqlite,
            ALL,
            "shop.toml",
            "queries.order_by_no",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "shop.toml: queries.order_by_no: unknown parameter :bogus"
        );
        let e = Stmt::compile("SELECT :reason", Dialect::Sqlite, ALL, "f", "k").unwrap_err();
        assert!(e.to_string().contains("not available in this query"), "{e}");
        let e = Stmt::compile("SELECT 'abc", Dialect::Sqlite, ALL, "f", "k").unwrap_err();
        assert!(e.to_string().contains("unterminated"), "{e}");
        let e = Stmt::compile("SELECT * FROM t WHERE a = ?", Dialect::Mysql, ALL, "f", "k")
            .unwrap_err();
        assert!(e.to_string().contains("positional"), "{e}");
    }
}
