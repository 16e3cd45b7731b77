// Question: Which deals were assisted in another city? A store other than the closing store,
//   in a city other than the customer's home city, touched the customer before the close (the
//   Harbin customer convinced on holiday in Hainan). One row per deal and assisting store.
// Parameters:
//   $from :: DATETIME = null  only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null    only deals closed before this instant (null: no upper bound)
// Returns: deal, closed_at, customer, home_city, closing_store, closing_city, assisting_store, assisting_city, assisting_staff, touches
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {}
//   deal | closed_at | customer | home_city | closing_store | closing_city | assisting_store | assisting_city | assisting_staff | touches
//   d-0000430 | 2025-01-21T07:26:21Z | c-0000430 | Beijing | st-bj-nio-1 | Beijing | st-sya-nio-1 | Sanya | sf-sya-nio-1-04 | 2
//   d-0000218 | 2025-01-26T02:33:57Z | c-0000218 | Harbin | st-hrb-onvo-1 | Harbin | st-hk-onvo-1 | Haikou | sf-hk-onvo-1-06 | 2
//   d-0000163 | 2025-01-26T05:26:27Z | c-0000163 | Shenyang | st-sy-nio-1 | Shenyang | st-sya-nio-1 | Sanya | sf-sya-nio-1-07 | 3
MATCH (c:Customer)-[:PLACED]->(d:Deal)-[:AT]->(closing:Store)
WHERE NOT coalesce(d.voided, false) AND c.city IS NOT NULL
  AND ($from IS NULL OR d.closed_at >= $from)
  AND ($to IS NULL OR d.closed_at < $to)
MATCH (s:Staff)-[t:TOUCHED]->(c)
WHERE NOT coalesce(t.voided, false) AND t.at <= d.closed_at AND t.store <> closing.id
MATCH (assisting:Store {id: t.store})
WHERE assisting.city <> c.city
WITH d, c, closing, assisting, s ORDER BY s.id
WITH d, c, closing, assisting, collect(DISTINCT s.id) AS assisting_staff, count(*) AS touches
RETURN d.id AS deal, d.closed_at AS closed_at, c.id AS customer, c.city AS home_city,
       closing.id AS closing_store, closing.city AS closing_city, assisting.id AS assisting_store,
       assisting.city AS assisting_city, assisting_staff, touches
ORDER BY closed_at, deal, assisting_store
