-- The generic shop schema (preset "generic"), PostgreSQL.
CREATE TABLE IF NOT EXISTS shop_orders (
  id          BIGSERIAL PRIMARY KEY,
  order_no    VARCHAR(20)  NOT NULL UNIQUE,
  status      VARCHAR(20)  NOT NULL,
  pay_method  VARCHAR(20)  NOT NULL,
  pay_status  VARCHAR(20)  NOT NULL,
  amount_fen  BIGINT       NOT NULL,
  carrier     VARCHAR(40),
  tracking_no VARCHAR(40),
  placed_at   BIGINT       NOT NULL,
  shipped_at  BIGINT,
  item_count  INTEGER      NOT NULL,
  consignee   VARCHAR(60)  NOT NULL,
  phone       VARCHAR(20)  NOT NULL,
  city        VARCHAR(40)  NOT NULL,
  address     VARCHAR(255) NOT NULL
);
CREATE INDEX IF NOT EXISTS shop_orders_phone ON shop_orders (phone, placed_at);
CREATE TABLE IF NOT EXISTS shop_after_sales (
  id         BIGSERIAL PRIMARY KEY,
  order_no   VARCHAR(20)  NOT NULL,
  kind       VARCHAR(20)  NOT NULL,
  reason     VARCHAR(800) NOT NULL,
  phone      VARCHAR(20),
  created_at BIGINT       NOT NULL
);
CREATE TABLE IF NOT EXISTS shop_callbacks (
  id         BIGSERIAL PRIMARY KEY,
  phone      VARCHAR(20)  NOT NULL,
  order_no   VARCHAR(20),
  note       VARCHAR(800),
  created_at BIGINT       NOT NULL
);
