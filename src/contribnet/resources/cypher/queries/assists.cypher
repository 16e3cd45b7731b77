// Question: Which deals closed by one store had been touched first by another store ("assists")?
//   A deal counts when a store other than the closing store touched its customer before the close.
//   first_store is the store of the customer's earliest touch before the close.
// Parameters:
//   $from :: DATETIME = null   only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null     only deals closed before this instant (null: no upper bound)
//   $store :: STRING = null    only deals closed by this store (null: every store)
// Returns: deal, closed_at, closing_store, first_store, assisting_stores, assisting_staff, assist_touches
// Example (the six scenarios, no parameters; first rows):
//   deal   | closed_at                 | closing_store | first_store  | assisting_stores   | assisting_staff      | assist_touches
//   d-s3-1 | 2024-12-29T06:20:00+00:00 | st-nio-sh-1   | st-onvo-sh-1 | ["st-onvo-sh-1"]   | ["sf-onvo-sh-he"]    | 2
//   d-s1-1 | 2025-01-12T07:10:00+00:00 | st-onvo-bj-1  | st-nio-bj-1  | ["st-nio-bj-1"]    | ["sf-nio-bj-li"]     | 2
//   d-s2-1 | 2025-01-28T07:30:00+00:00 | st-nio-hrb-1  | st-nio-hrb-1 | ["st-nio-sanya-1"] | ["sf-nio-sanya-lin"] | 2
MATCH (c:Customer)-[:PLACED]->(d:Deal)-[:AT]->(closing:Store)
WHERE NOT coalesce(d.voided, false)
  AND ($from IS NULL OR d.closed_at >= $from)
  AND ($to IS NULL OR d.closed_at < $to)
  AND ($store IS NULL OR closing.id = $store)
CALL (c, d, closing) {
  MATCH (s:Staff)-[t:TOUCHED]->(c)
  WHERE NOT coalesce(t.voided, false) AND t.at <= d.closed_at
  WITH s, t ORDER BY t.at, t.id
  WITH collect({store: t.store, staff: s.id}) AS touches
  WITH touches[0].store AS first_store,
       [x IN touches WHERE x.store <> closing.id] AS others
  WHERE size(others) > 0
  UNWIND others AS other
  WITH first_store, size(others) AS assist_touches, other
  ORDER BY other.store, other.staff
  RETURN first_store, assist_touches,
         collect(DISTINCT other.store) AS assisting_stores,
         collect(DISTINCT other.staff) AS assisting_staff
}
RETURN d.id AS deal, d.closed_at AS closed_at, closing.id AS closing_store, first_store,
       assisting_stores, assisting_staff, assist_touches
ORDER BY closed_at, deal
