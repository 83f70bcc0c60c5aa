-- The generic shop schema (preset "generic"), SQLite. Phones are stored normalised
-- (national digits, see Phone::parse); money in fen; times in unix seconds.
CREATE TABLE IF NOT EXISTS shop_orders (
  id          INTEGER PRIMARY KEY,
  order_no    TEXT    NOT NULL UNIQUE,
  status      TEXT    NOT NULL,
  pay_method  TEXT    NOT NULL,
  pay_status  TEXT    NOT NULL,
  amount_fen  INTEGER NOT NULL,
  carrier     TEXT,
  tracking_no TEXT,
  placed_at   INTEGER NOT NULL,
  shipped_at  INTEGER,
  item_count  INTEGER NOT NULL,
  consignee   TEXT    NOT NULL,
  phone       TEXT    NOT NULL,
  city        TEXT    NOT NULL,
  address     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS shop_orders_phone ON shop_orders (phone, placed_at);
CREATE TABLE IF NOT EXISTS shop_after_sales (
  id         INTEGER PRIMARY KEY,
  order_no   TEXT    NOT NULL,
  kind       TEXT    NOT NULL,
  reason     TEXT    NOT NULL,
  phone      TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS shop_callbacks (
  id         INTEGER PRIMARY KEY,
  phone      TEXT    NOT NULL,
  order_no   TEXT,
  note       TEXT,
  created_at INTEGER NOT NULL
);
