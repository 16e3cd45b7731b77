// Question: Who collaborates with whom? Pairs of staff members credited on the same deals (by the
//   deal's current settlement), with how many deals they share and what each pair earned on them.
// Parameters:
//   $from :: DATETIME = null      only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null        only deals closed before this instant (null: no upper bound)
//   $min_deals :: INTEGER = 1     only pairs sharing at least this many deals
//   $limit :: INTEGER = 50        at most this many pairs
// Returns: staff_a, staff_b, store_a, store_b, shared_deals, amount_a, amount_b, deals
// Example (the six scenarios, with the settled credit of the tests' fixture; first rows):
//   staff_a        | staff_b         | store_a     | store_b      | shared_deals | amount_a | amount_b | deals
//   sf-nio-sh-gao  | sf-onvo-sh-he   | st-nio-sh-1 | st-onvo-sh-1 | 2            | 725000   | 275000   | ["d-s3-1", "d-s3-2"]
//   sf-nio-bj-chen | sf-onvo-bj-zhao | st-nio-bj-1 | st-onvo-bj-1 | 1            | 560000   | 240000   | ["d-s1-2"]
MATCH (a:Staff)<-[ca:CREDITED]-(d:Deal)-[cb:CREDITED]->(b:Staff)
WHERE a.id < b.id AND NOT coalesce(d.voided, false)
  AND ($from IS NULL OR d.closed_at >= $from)
  AND ($to IS NULL OR d.closed_at < $to)
WITH a, b, d, ca, cb ORDER BY d.closed_at, d.id
WITH a, b, count(d) AS shared_deals, sum(ca.amount) AS amount_a, sum(cb.amount) AS amount_b,
     collect(d.id) AS deals
WHERE shared_deals >= $min_deals
RETURN a.id AS staff_a, b.id AS staff_b, a.store AS store_a, b.store AS store_b, shared_deals,
       amount_a, amount_b, deals
ORDER BY shared_deals DESC, amount_a + amount_b DESC, staff_a, staff_b
LIMIT $limit
