// Question: Which deals were assisted in another city? A store other than the closing store,
//   in a city other than the customer's home city, touched the customer before the close (the
//   Harbin customer convinced on holiday in Hainan). One row per deal and assisting store.
// Parameters:
//   $from :: DATETIME = null  only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null    only deals closed before this instant (null: no upper bound)
// Returns: deal, closed_at, customer, home_city, closing_store, closing_city, assisting_store, assisting_city, assisting_staff, touches
// Example (the six scenarios, no parameters):
//   deal   | closed_at                 | customer | home_city | closing_store | closing_city | assisting_store | assisting_city | assisting_staff      | touches
//   d-s2-1 | 2025-01-28T07:30:00+00:00 | c-s2-liu | Harbin    | st-nio-hrb-1  | Harbin       | st-nio-sanya-1  | Sanya          | ["sf-nio-sanya-lin"] | 2
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
