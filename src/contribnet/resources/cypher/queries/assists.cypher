// Question: Which deals closed by one store had been touched first by another store ("assists")?
//   A deal counts when a store other than the closing store touched its customer before the close.
//   first_store is the store of the customer's earliest touch before the close.
// Parameters:
//   $from :: DATETIME = null   only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null     only deals closed before this instant (null: no upper bound)
//   $store :: STRING = null    only deals closed by this store (null: every store)
// Returns: deal, closed_at, closing_store, first_store, assisting_stores, assisting_staff, assist_touches
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {"store": "st-sh-nio-1"}
//   deal | closed_at | closing_store | first_store | assisting_stores | assisting_staff | assist_touches
//   d-0001185 | 2025-01-12T07:48:32Z | st-sh-nio-1 | st-sh-onvo-1 | st-sh-onvo-1 | sf-sh-onvo-1-02 | 1
//   d-0001287 | 2025-01-13T06:50:50Z | st-sh-nio-1 | st-sh-onvo-1 | st-sh-onvo-1 | sf-sh-onvo-1-04 | 1
//   d-0002181 | 2025-01-13T09:59:58Z | st-sh-nio-1 | st-sh-onvo-1 | st-sh-onvo-1 | sf-sh-onvo-1-03 | 2
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
