-- The part of the ECShop schema the "ecshop" preset reads, MySQL / MariaDB.
-- Column names and types follow ECShop's install/data/structure.sql (ecshop/ecshop on
-- GitHub); see docs/integrator-guide.md. Only the tables and columns the preset uses are
-- here; a real ECShop database has them all. The two indexes on mobile and tel are NOT in
-- stock ECShop: add them to a real shop for fast lookups by phone.
CREATE TABLE IF NOT EXISTS ecs_order_info (
  order_id        MEDIUMINT UNSIGNED NOT NULL AUTO_INCREMENT,
  order_sn        VARCHAR(20)   NOT NULL DEFAULT '',
  user_id         MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  order_status    TINYINT UNSIGNED NOT NULL DEFAULT 0,
  shipping_status TINYINT UNSIGNED NOT NULL DEFAULT 0,
  pay_status      TINYINT UNSIGNED NOT NULL DEFAULT 0,
  consignee       VARCHAR(60)   NOT NULL DEFAULT '',
  address         VARCHAR(255)  NOT NULL DEFAULT '',
  tel             VARCHAR(60)   NOT NULL DEFAULT '',
  mobile          VARCHAR(60)   NOT NULL DEFAULT '',
  shipping_id     TINYINT       NOT NULL DEFAULT 0,
  shipping_name   VARCHAR(120)  NOT NULL DEFAULT '',
  pay_id          TINYINT       NOT NULL DEFAULT 0,
  pay_name        VARCHAR(120)  NOT NULL DEFAULT '',
  goods_amount    DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  shipping_fee    DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  insure_fee      DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  pay_fee         DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  pack_fee        DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  card_fee        DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  money_paid      DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  order_amount    DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  add_time        INT UNSIGNED  NOT NULL DEFAULT 0,
  confirm_time    INT UNSIGNED  NOT NULL DEFAULT 0,
  pay_time        INT UNSIGNED  NOT NULL DEFAULT 0,
  shipping_time   INT UNSIGNED  NOT NULL DEFAULT 0,
  invoice_no      VARCHAR(255)  NOT NULL DEFAULT '',
  tax             DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  discount        DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  PRIMARY KEY (order_id),
  UNIQUE KEY order_sn (order_sn),
  KEY user_id (user_id),
  KEY mobile (mobile),
  KEY tel (tel)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS ecs_order_goods (
  rec_id       MEDIUMINT UNSIGNED NOT NULL AUTO_INCREMENT,
  order_id     MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  goods_id     MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  goods_name   VARCHAR(120)  NOT NULL DEFAULT '',
  goods_number SMALLINT UNSIGNED NOT NULL DEFAULT 1,
  goods_price  DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  PRIMARY KEY (rec_id),
  KEY order_id (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS ecs_payment (
  pay_id   TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
  pay_code VARCHAR(20)  NOT NULL DEFAULT '',
  pay_name VARCHAR(120) NOT NULL DEFAULT '',
  is_cod   TINYINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (pay_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS ecs_shipping (
  shipping_id   TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
  shipping_code VARCHAR(20)  NOT NULL DEFAULT '',
  shipping_name VARCHAR(120) NOT NULL DEFAULT '',
  PRIMARY KEY (shipping_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
-- Not ECShop: where the IVR writes its requests.
CREATE TABLE IF NOT EXISTS ecs_ivr_after_sales (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_sn   VARCHAR(20)  NOT NULL,
  kind       VARCHAR(20)  NOT NULL,
  reason     VARCHAR(800) NOT NULL,
  phone      VARCHAR(20),
  add_time   INT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS ecs_ivr_callback (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  phone      VARCHAR(20)  NOT NULL,
  order_sn   VARCHAR(20),
  note       VARCHAR(800),
  add_time   INT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
