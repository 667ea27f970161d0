-- Deterministic sample dataset for SQLite: the same e-commerce schema (customers, products,
-- orders, order_items, events) and the same rows as dataset.sql (PostgreSQL), for the demo
-- and for tests with known answers, including the differential tests that compare query
-- results between the two engines. Generated with WITH RECURSIVE counters and integer
-- arithmetic (no random()), so every load produces identical data.
--
-- Dates: orders/events are spread over the 730 days ending at the anchor date 2026-05-31,
-- which is written literally below (dataset.sql's default :anchor_date); to use another
-- anchor, replace every '2026-05-31' in this file. Needs SQLite 3.38 or later (json
-- functions built in, window functions); runs with the sqlite3 shell, Python's sqlite3
-- (executescript) or sqlx's raw_sql, and has no shell dot-commands.
--
-- Formats: DATE columns hold 'YYYY-MM-DD', TIMESTAMP columns 'YYYY-MM-DD HH:MM:SS'
-- (SQLite's datetime() format), events.properties a JSON object as text. DECIMAL(10,2)
-- has NUMERIC affinity, so a whole price is stored as an INTEGER and the others as REAL
-- holding the nearest double to the 2-decimal value; orders.total_amount is summed in
-- whole cents, so it carries no floating residue.
--
-- Known answers (anchor 2026-05-31): SUM(orders.total_amount) = 3466086.72;
-- revenue of completed orders by customer region: East 1092395.68,
-- North 546612.82, South 825810.04, West 248526.12, NULL 54508.9.
--
-- Only these five tables are dropped and recreated.

BEGIN;

DROP TABLE IF EXISTS events;
DROP TABLE IF EXISTS order_items;
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS products;
DROP TABLE IF EXISTS customers;

-- Customer accounts
CREATE TABLE customers (
    id         INTEGER PRIMARY KEY,
    name       VARCHAR(100) NOT NULL,
    email      VARCHAR(100) UNIQUE,
    region     VARCHAR(50),            -- NULL for ~3% (null-handling tests)
    tier       VARCHAR(20),
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE products (
    id             INTEGER PRIMARY KEY,
    name           VARCHAR(100) NOT NULL,
    category       VARCHAR(50),
    price          DECIMAL(10,2) NOT NULL,
    cost           DECIMAL(10,2),
    stock_quantity INTEGER DEFAULT 0
);

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY,
    customer_id      INTEGER NOT NULL REFERENCES customers(id),
    order_date       DATE NOT NULL,
    status           VARCHAR(20),
    total_amount     DECIMAL(10,2),
    shipping_address TEXT              -- NULL for ~5%
);

CREATE TABLE order_items (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity   INTEGER NOT NULL,
    unit_price DECIMAL(10,2) NOT NULL
);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    event_type VARCHAR(50),
    user_id    INTEGER REFERENCES customers(id),
    timestamp  TIMESTAMP NOT NULL,
    properties JSON
);

-- The PostgreSQL script's arrays are 1-based: its ARRAY[...][1 + x] is
-- json_extract('[...]', '$[' || x || ']') here. Ids are given explicitly and equal the
-- PostgreSQL serials (which follow each INSERT's ORDER BY).

-- ---------------------------------------------------------------- customers
-- 500 customers; created 0..~3 years before the anchor date.
INSERT INTO customers (id, name, email, region, tier, created_at)
WITH RECURSIVE
    c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 500),
    n(i, first, last) AS (
        SELECT i,
               json_extract('["James","Mary","John","Patricia","Robert","Jennifer",
                   "Michael","Linda","William","Elizabeth","David","Barbara","Richard","Susan",
                   "Joseph","Jessica","Thomas","Sarah","Charles","Karen"]',
                   '$[' || (i % 20) || ']'),
               json_extract('["Smith","Johnson","Williams","Brown","Jones","Garcia",
                   "Miller","Davis","Rodriguez","Martinez","Wilson","Anderson","Taylor","Moore",
                   "Jackson","Martin","Lee","Thompson","White","Harris","Clark","Lewis","Walker"]',
                   '$[' || ((i * 7) % 23) || ']')
        FROM c)
SELECT i,
       first || ' ' || last,
       lower(first || '.' || last || i) || '@' ||
           json_extract('["example.com","demo.com","test.org","sample.net"]', '$[' || (i % 4) || ']'),
       CASE WHEN i % 37 = 0 THEN NULL
            ELSE json_extract('["North","South","East","West"]', '$[' || ((i * 7) % 4) || ']') END,
       json_extract('["Gold","Silver","Bronze","Bronze","Silver"]', '$[' || ((i * 3) % 5) || ']'),
       datetime('2026-05-31',
                '-' || ((i * 2287) % 1095) || ' days',
                '+' || ((i * 3779) % 86400) || ' seconds')
FROM n
ORDER BY i;

-- ----------------------------------------------------------------- products
-- 48 products, 12 per category. price and cost are whole cents / 100, as in PostgreSQL's
-- round(...::numeric, 2) (both expressions there are exact 2-decimal values).
INSERT INTO products (id, name, category, price, cost, stock_quantity)
WITH v(n, category, name) AS (VALUES
      (1,'Electronics','Wireless Headphones'),(2,'Electronics','Smart Watch'),
      (3,'Electronics','Bluetooth Speaker'),(4,'Electronics','USB-C Hub'),
      (5,'Electronics','Webcam HD'),(6,'Electronics','Mechanical Keyboard'),
      (7,'Electronics','Gaming Mouse'),(8,'Electronics','Monitor Stand'),
      (9,'Electronics','Portable Charger'),(10,'Electronics','Phone Case'),
      (11,'Electronics','Screen Protector'),(12,'Electronics','HDMI Cable'),
      (13,'Clothing','Cotton T-Shirt'),(14,'Clothing','Denim Jeans'),
      (15,'Clothing','Running Shoes'),(16,'Clothing','Winter Jacket'),
      (17,'Clothing','Baseball Cap'),(18,'Clothing','Sports Socks'),
      (19,'Clothing','Leather Belt'),(20,'Clothing','Wool Sweater'),
      (21,'Clothing','Dress Shirt'),(22,'Clothing','Cargo Shorts'),
      (23,'Clothing','Rain Jacket'),(24,'Clothing','Sneakers'),
      (25,'Home','LED Desk Lamp'),(26,'Home','Coffee Maker'),
      (27,'Home','Throw Pillow'),(28,'Home','Kitchen Scale'),
      (29,'Home','Cutting Board'),(30,'Home','Shower Curtain'),
      (31,'Home','Wall Clock'),(32,'Home','Picture Frame'),
      (33,'Home','Candle Set'),(34,'Home','Storage Box'),
      (35,'Home','Bath Towels'),(36,'Home','Plant Pot'),
      (37,'Sports','Yoga Mat'),(38,'Sports','Dumbbells'),
      (39,'Sports','Resistance Bands'),(40,'Sports','Water Bottle'),
      (41,'Sports','Fitness Tracker'),(42,'Sports','Jump Rope'),
      (43,'Sports','Tennis Balls'),(44,'Sports','Swim Goggles'),
      (45,'Sports','Basketball'),(46,'Sports','Running Belt'),
      (47,'Sports','Gym Bag'),(48,'Sports','Foam Roller')
)
SELECT n, name, category,
       round(((5 + (n * 1237) % 295) * 100 + (n * 53) % 100) / 100.0, 2),
       round((5 + (n * 1237) % 295) * (35 + (n * 17) % 30) / 100.0, 2),
       (n * 97) % 500
FROM v
ORDER BY n;

-- ------------------------------------------------------------------- orders
-- 3000 orders over the 730 days ending at the anchor date.
INSERT INTO orders (id, customer_id, order_date, status, shipping_address)
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)
SELECT i,
       1 + (i * 7919) % 500,
       date('2026-05-31', '-' || ((i * 7411) % 730) || ' days'),
       CASE WHEN (i * 31) % 100 < 80 THEN 'completed'
            WHEN (i * 31) % 100 < 92 THEN 'pending'
            ELSE 'cancelled' END,
       CASE WHEN i % 20 = 0 THEN NULL
            ELSE CAST(100 + (i * 389) % 9900 AS TEXT) || ' ' ||
                 json_extract('["Main St","Oak Ave","Maple Dr","Cedar Ln","Park Rd","Lake Blvd"]',
                              '$[' || (i % 6) || ']')
                 || ', ' ||
                 json_extract('["New York","Los Angeles","Chicago","Houston","Phoenix","Seattle",
                                "Denver","Boston"]', '$[' || ((i * 5) % 8) || ']') END
FROM c
ORDER BY i;

-- -------------------------------------------------------------- order_items
-- 1..4 items per order (~7500 rows); unit_price = product price.
INSERT INTO order_items (id, order_id, product_id, quantity, unit_price)
WITH RECURSIVE k(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM k WHERE k < 4)
SELECT row_number() OVER (ORDER BY o.id, k.k),
       o.id, p.id, 1 + (o.id + k.k * 7) % 5, p.price
FROM orders o
JOIN k ON k.k <= 1 + (o.id * 13) % 4
JOIN products p ON p.id = 1 + (o.id * 17 + k.k * 29) % 48
ORDER BY o.id, k.k;

-- Summed in whole cents: a floating sum of the prices could leave a 1e-13 residue.
UPDATE orders
SET total_amount = (SELECT round(sum(quantity * CAST(round(unit_price * 100) AS INTEGER)) / 100.0, 2)
                    FROM order_items WHERE order_items.order_id = orders.id)
WHERE EXISTS (SELECT 1 FROM order_items WHERE order_items.order_id = orders.id);

-- ------------------------------------------------------------------- events
-- 5000 events with second resolution over the same 730 days.
INSERT INTO events (id, event_type, user_id, timestamp, properties)
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000)
SELECT i,
       json_extract('["page_view","page_view","page_view","login","signup","purchase"]',
                    '$[' || ((i * 11) % 6) || ']'),
       1 + (i * 104729) % 500,
       datetime('2026-05-31', '+1 day',
                '-' || ((i * 2654435761) % (730 * 86400)) || ' seconds'),
       json_object(
           'page', json_extract('["/home","/products","/cart","/checkout","/account"]',
                                '$[' || ((i * 3) % 5) || ']'),
           'device', json_extract('["desktop","mobile","tablet"]', '$[' || ((i * 13) % 3) || ']'),
           'duration_ms', (i * 7907) % 30000)
FROM c
ORDER BY i;

CREATE INDEX idx_orders_customer ON orders(customer_id);
CREATE INDEX idx_orders_date ON orders(order_date);
CREATE INDEX idx_orders_status ON orders(status);
CREATE INDEX idx_order_items_order ON order_items(order_id);
CREATE INDEX idx_order_items_product ON order_items(product_id);
CREATE INDEX idx_events_type ON events(event_type);
CREATE INDEX idx_events_timestamp ON events(timestamp);
CREATE INDEX idx_events_user ON events(user_id);

COMMIT;

ANALYZE customers;
ANALYZE products;
ANALYZE orders;
ANALYZE order_items;
ANALYZE events;
