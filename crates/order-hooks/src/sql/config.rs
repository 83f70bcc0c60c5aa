//! The shop configuration file (TOML): where the database is and which SQL to run.
//!
//! ```toml
//! url = "mysql://ivr:secret@10.0.0.5:3306/shop"   # sqlite:PATH, postgres://…, mysql://…
//! preset = "ecshop"          # "generic", "ecshop" or "custom"
//! table_prefix = "ecs_"      # ecshop only
//! pool_size = 4
//! ```
//!
//! With `preset = "custom"`, a `[queries]` table gives the four queries with named
//! parameters, and `[values.status]`, `[values.pay_method]`, `[values.pay_status]` map the
//! shop's own codes to ours; see `docs/integrator-guide.md`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::mapping::{Mapping, QueryTexts, Vocabulary};
use super::pool::Connector;
use super::stmt::Dialect;
use crate::error::{Error, Result};
use crate::model::{OrderStatus, PaymentMethod, PaymentStatus};

/// Which SQL a backend runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preset {
    /// This crate's own schema (`sql/generic.*.sql`).
    Generic,
    /// ECShop's `ecs_order_info` and friends, with a table prefix.
    Ecshop {
        /// Usually `ecs_`.
        prefix: String,
    },
    /// The integrator's own queries.
    Custom {
        /// The four queries.
        queries: QueryTexts,
    },
}

/// A parsed shop configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopConfig {
    /// `sqlite:PATH`, `postgres://…` (or `postgresql://`), `mysql://…` (or `mariadb://`).
    pub url: String,
    /// The SQL to run.
    pub preset: Preset,
    /// How the shop codes its columns.
    pub vocabulary: Vocabulary,
    /// Connections (and connection threads).
    pub pool_size: usize,
    /// The file it came from (`<inline>` for a string), for messages.
    pub file: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    url: String,
    #[serde(default)]
    preset: Option<String>,
    #[serde(default)]
    table_prefix: Option<String>,
    #[serde(default)]
    pool_size: Option<usize>,
    #[serde(default)]
    codes: Option<String>,
    #[serde(default)]
    queries: Option<RawQueries>,
    #[serde(default)]
    values: Option<RawValues>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueries {
    order_by_no: Option<String>,
    recent_by_phone: Option<String>,
    create_after_sales: Option<String>,
    request_callback: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValues {
    #[serde(default)]
    status: HashMap<String, String>,
    #[serde(default)]
    pay_method: HashMap<String, String>,
    #[serde(default)]
    pay_status: HashMap<String, String>,
}

/// Default number of connections.
pub const DEFAULT_POOL_SIZE: usize = 4;

impl ShopConfig {
    /// A config for `url` with a preset and defaults.
    pub fn new(url: &str, preset: Preset) -> Self {
        Self {
            url: url.to_owned(),
            preset,
            vocabulary: Vocabulary::default(),
            pool_size: DEFAULT_POOL_SIZE,
            file: "<inline>".into(),
        }
    }

    /// Reads a TOML file.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file, the key and the problem.
    pub fn from_file(path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            file: file.clone(),
            key: "file".into(),
            problem: format!("cannot read: {e}"),
        })?;
        Self::from_toml(&text, &file)
    }

    /// Parses TOML text; `file` names it in errors.
    ///
    /// # Errors
    /// [`Error::Config`] naming `file`, the key and the problem.
    pub fn from_toml(text: &str, file: &str) -> Result<Self> {
        let err = |key: &str, problem: String| Error::Config {
            file: file.to_owned(),
            key: key.to_owned(),
            problem,
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}")
                })
                .unwrap_or_else(|| "toml".into());
            err(&at, e.message().to_owned())
        })?;
        let preset_name = raw.preset.as_deref().unwrap_or(if raw.queries.is_some() {
            "custom"
        } else {
            "generic"
        });
        if raw.table_prefix.is_some() && preset_name != "ecshop" {
            return Err(err(
                "table_prefix",
                "only used with preset = \"ecshop\"".into(),
            ));
        }
        let preset = match preset_name {
            "generic" | "ecshop" if raw.queries.is_some() => {
                return Err(err(
                    "queries",
                    format!("preset {preset_name:?} has its own queries: use preset = \"custom\""),
                ));
            }
            "generic" => Preset::Generic,
            "ecshop" => Preset::Ecshop {
                prefix: raw.table_prefix.clone().unwrap_or_else(|| "ecs_".into()),
            },
            "custom" => {
                let q = raw.queries.as_ref().ok_or_else(|| {
                    err(
                        "queries",
                        "preset \"custom\" needs a [queries] table".into(),
                    )
                })?;
                let need = |v: &Option<String>, k: &str| {
                    v.clone()
                        .ok_or_else(|| err(&format!("queries.{k}"), "missing".into()))
                };
                Preset::Custom {
                    queries: QueryTexts {
                        order_by_no: need(&q.order_by_no, "order_by_no")?,
                        recent_by_phone: need(&q.recent_by_phone, "recent_by_phone")?,
                        create_after_sales: need(&q.create_after_sales, "create_after_sales")?,
                        request_callback: need(&q.request_callback, "request_callback")?,
                    },
                }
            }
            other => {
                return Err(err(
                    "preset",
                    format!("unknown preset {other:?} (generic, ecshop or custom)"),
                ));
            }
        };
        let mut vocabulary = Vocabulary {
            ecshop_codes: matches!(preset, Preset::Ecshop { .. }),
            ..Vocabulary::default()
        };
        match raw.codes.as_deref() {
            None => {}
            Some("names") if !vocabulary.ecshop_codes => {}
            Some("ecshop") if matches!(preset, Preset::Custom { .. }) => {
                vocabulary.ecshop_codes = true
            }
            Some(c) => {
                return Err(err(
                    "codes",
                    format!("{c:?} is not valid here (\"names\" or, for custom, \"ecshop\")"),
                ));
            }
        }
        let values = raw.values.unwrap_or_default();
        for (k, v) in &values.status {
            let s = OrderStatus::from_name(v).ok_or_else(|| {
                let names: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.name()).collect();
                err(
                    &format!("values.status.{k}"),
                    format!("{v:?} is not a status ({})", names.join(", ")),
                )
            })?;
            vocabulary.status.insert(k.clone(), s);
        }
        for (k, v) in &values.pay_method {
            let s = PaymentMethod::from_name(v).ok_or_else(|| {
                let names: Vec<&str> = PaymentMethod::ALL.iter().map(|s| s.name()).collect();
                err(
                    &format!("values.pay_method.{k}"),
                    format!("{v:?} is not a payment method ({})", names.join(", ")),
                )
            })?;
            vocabulary.pay_method.insert(k.clone(), s);
        }
        for (k, v) in &values.pay_status {
            let s = PaymentStatus::from_name(v).ok_or_else(|| {
                let names: Vec<&str> = PaymentStatus::ALL.iter().map(|s| s.name()).collect();
                err(
                    &format!("values.pay_status.{k}"),
                    format!("{v:?} is not a payment status ({})", names.join(", ")),
                )
            })?;
            vocabulary.pay_status.insert(k.clone(), s);
        }
        let pool_size = raw.pool_size.unwrap_or(DEFAULT_POOL_SIZE);
        if !(1..=64).contains(&pool_size) {
            return Err(err("pool_size", format!("{pool_size} is outside 1..=64")));
        }
        let cfg = Self {
            url: raw.url,
            preset,
            vocabulary,
            pool_size,
            file: file.to_owned(),
        };
        let dialect = dialect_of(&cfg.url).ok_or_else(|| {
            err(
                "url",
                "must start with sqlite:, postgres://, postgresql://, mysql:// or mariadb://"
                    .into(),
            )
        })?;
        cfg.mapping(dialect)?;
        Ok(cfg)
    }

    /// Compiles the preset or custom queries for `dialect`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file and query key.
    pub fn mapping(&self, dialect: Dialect) -> Result<Mapping> {
        let mut m = match &self.preset {
            Preset::Generic => Mapping::generic(dialect),
            Preset::Ecshop { prefix } => Mapping::ecshop(dialect, prefix)?,
            Preset::Custom { queries } => {
                Mapping::compile(dialect, queries, self.vocabulary.clone(), &self.file)?
            }
        };
        m.vocabulary = self.vocabulary.clone();
        if matches!(self.preset, Preset::Ecshop { .. }) {
            m.vocabulary.ecshop_codes = true;
        }
        Ok(m)
    }
}

/// The dialect a URL's scheme names.
pub fn dialect_of(url: &str) -> Option<Dialect> {
    if url.starts_with("sqlite:") {
        Some(Dialect::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(Dialect::Postgres)
    } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
        Some(Dialect::Mysql)
    } else {
        None
    }
}

pub(crate) fn connector_for(cfg: &ShopConfig) -> Result<(Dialect, Arc<dyn Connector>)> {
    let err = |problem: String| Error::Config {
        file: cfg.file.clone(),
        key: "url".into(),
        problem,
    };
    let dialect = dialect_of(&cfg.url).ok_or_else(|| {
        err("must start with sqlite:, postgres://, postgresql://, mysql:// or mariadb://".into())
    })?;
    let not_built = |f: &str| {
        err(format!(
            "this build has no {f} support (cargo feature \"{f}\")"
        ))
    };
    let c: Arc<dyn Connector> = match dialect {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => {
            let path = cfg
                .url
                .trim_start_matches("sqlite:")
                .trim_start_matches("//");
            Arc::new(super::sqlite::SqliteConnector::new(path))
        }
        #[cfg(feature = "postgres")]
        Dialect::Postgres => Arc::new(super::postgres::PgConnector::new(&cfg.url).map_err(err)?),
        #[cfg(feature = "mysql")]
        Dialect::Mysql => Arc::new(super::mysql::MysqlConnector::new(&cfg.url).map_err(err)?),
        #[allow(unreachable_patterns)]
        d => return Err(not_built(d.name())),
    };
    Ok((dialect, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_errors() {
        let c = ShopConfig::from_toml(
            "url = \"sqlite:/tmp/x.db\"\npreset = \"ecshop\"\n",
            "a.toml",
        )
        .unwrap();
        assert_eq!(
            c.preset,
            Preset::Ecshop {
                prefix: "ecs_".into()
            }
        );
        assert!(c.vocabulary.ecshop_codes);
        let e = ShopConfig::from_toml("url = \"sqlite:x\"\npreset = \"magento\"\n", "a.toml")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.toml: preset: unknown preset \"magento\" (generic, ecshop or custom)"
        );
        let e = ShopConfig::from_toml("url = \"oracle://x\"\n", "a.toml").unwrap_err();
        assert!(e.to_string().starts_with("a.toml: url: "), "{e}");
        let e = ShopConfig::from_toml("url = \"sqlite:x\"\npool_sise = 3\n", "a.toml").unwrap_err();
        assert!(
            e.to_string()
                .contains("a.toml: line 2: unknown field `pool_sise`"),
            "{e}"
        );
    }

    #[test]
    fn files_are_named_in_errors() {
        let e = ShopConfig::from_file(Path::new("/nonexistent/shop.toml")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/shop.toml: file: cannot read"),
            "{e}"
        );
        let e = ShopConfig::from_toml("url = ", "b.toml").unwrap_err();
        assert!(e.to_string().starts_with("b.toml: line 1: "), "{e}");
    }

    #[test]
    fn custom_queries_are_checked() {
        let text = r#"
url = "postgres://u@localhost/shop"
preset = "custom"
[queries]
order_by_no = "SELECT * FROM orders WHERE no = :order_no"
recent_by_phone = "SELECT * FROM orders WHERE tel = :phone LIMIT :limit"
create_after_sales = "INSERT INTO t (o) VALUES (:order_no) RETURNING id"
request_callback = "INSERT INTO c (p) VALUES (:phne) RETURNING id"
[values.status]
"3" = "shipped"
"#;
        let e = ShopConfig::from_toml(text, "shop.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "shop.toml: queries.request_callback: unknown parameter :phne"
        );
        let ok = ShopConfig::from_toml(&text.replace(":phne", ":phone"), "shop.toml").unwrap();
        assert_eq!(ok.vocabulary.status.get("3"), Some(&OrderStatus::Shipped));
        let e = ShopConfig::from_toml(&text.replace("\"shipped\"", "\"gone\""), "shop.toml")
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("shop.toml: values.status.3: \"gone\" is not a status"),
            "{e}"
        );
        let e = ShopConfig::from_toml(&text.replace("request_callback =", "#"), "shop.toml")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "shop.toml: queries.request_callback: missing"
        );
    }
}
