-- The part of the ECShop schema the "ecshop" preset reads, translated to SQLite.
-- Column names and types follow ECShop's install/data/structure.sql (ecshop/ecshop on
-- GitHub); see docs/integrator-guide.md. Only the tables and columns the preset uses are
-- here; a real ECShop database has them all. The two indexes on mobile and tel are NOT in
-- stock ECShop: add them to a real shop for fast lookups by phone.
CREATE TABLE IF NOT EXISTS ecs_order_info (
  order_id        INTEGER PRIMARY KEY,
  order_sn        VARCHAR(20)   NOT NULL DEFAULT '',
  user_id         INTEGER NOT NULL DEFAULT 0,
  order_status    INTEGER NOT NULL DEFAULT 0,
  shipping_status INTEGER NOT NULL DEFAULT 0,
  pay_status      INTEGER NOT NULL DEFAULT 0,
  consignee       VARCHAR(60)   NOT NULL DEFAULT '',
  address         VARCHAR(255)  NOT NULL DEFAULT '',
  tel             VARCHAR(60)   NOT NULL DEFAULT '',
  mobile          VARCHAR(60)   NOT NULL DEFAULT '',
  shipping_id     SMALLINT       NOT NULL DEFAULT 0,
  shipping_name   VARCHAR(120)  NOT NULL DEFAULT '',
  pay_id          SMALLINT       NOT NULL DEFAULT 0,
  pay_name        VARCHAR(120)  NOT NULL DEFAULT '',
  goods_amount    NUMERIC NOT NULL DEFAULT 0.00,
  shipping_fee    NUMERIC NOT NULL DEFAULT 0.00,
  insure_fee      NUMERIC NOT NULL DEFAULT 0.00,
  pay_fee         NUMERIC NOT NULL DEFAULT 0.00,
  pack_fee        NUMERIC NOT NULL DEFAULT 0.00,
  card_fee        NUMERIC NOT NULL DEFAULT 0.00,
  money_paid      NUMERIC NOT NULL DEFAULT 0.00,
  order_amount    NUMERIC NOT NULL DEFAULT 0.00,
  add_time        INTEGER  NOT NULL DEFAULT 0,
  confirm_time    INTEGER  NOT NULL DEFAULT 0,
  pay_time        INTEGER  NOT NULL DEFAULT 0,
  shipping_time   INTEGER  NOT NULL DEFAULT 0,
  invoice_no      VARCHAR(255)  NOT NULL DEFAULT '',
  tax             NUMERIC NOT NULL DEFAULT 0.00,
  discount        NUMERIC NOT NULL DEFAULT 0.00
);
CREATE UNIQUE INDEX IF NOT EXISTS ecs_order_info_order_sn ON ecs_order_info (order_sn);
CREATE INDEX IF NOT EXISTS ecs_order_info_mobile ON ecs_order_info (mobile);
CREATE INDEX IF NOT EXISTS ecs_order_info_tel ON ecs_order_info (tel);
CREATE TABLE IF NOT EXISTS ecs_order_goods (
  rec_id       INTEGER PRIMARY KEY,
  order_id     INTEGER NOT NULL DEFAULT 0,
  goods_id     INTEGER NOT NULL DEFAULT 0,
  goods_name   VARCHAR(120)  NOT NULL DEFAULT '',
  goods_number INTEGER NOT NULL DEFAULT 1,
  goods_price  NUMERIC NOT NULL DEFAULT 0.00
);
CREATE INDEX IF NOT EXISTS ecs_order_goods_order_id ON ecs_order_goods (order_id);
CREATE TABLE IF NOT EXISTS ecs_payment (
  pay_id   INTEGER PRIMARY KEY,
  pay_code VARCHAR(20)  NOT NULL DEFAULT '',
  pay_name VARCHAR(120) NOT NULL DEFAULT '',
  is_cod   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS ecs_shipping (
  shipping_id   INTEGER PRIMARY KEY,
  shipping_code VARCHAR(20)  NOT NULL DEFAULT '',
  shipping_name VARCHAR(120) NOT NULL DEFAULT ''
);
-- Not ECShop: where the IVR writes its requests.
CREATE TABLE IF NOT EXISTS ecs_ivr_after_sales (
  id         INTEGER PRIMARY KEY,
  order_sn   VARCHAR(20)  NOT NULL,
  kind       VARCHAR(20)  NOT NULL,
  reason     VARCHAR(800) NOT NULL,
  phone      VARCHAR(20),
  add_time   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ecs_ivr_callback (
  id         INTEGER PRIMARY KEY,
  phone      VARCHAR(20)  NOT NULL,
  order_sn   VARCHAR(20),
  note       VARCHAR(800),
  add_time   INTEGER NOT NULL
);
