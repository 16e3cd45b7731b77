// Question: Who collaborates with whom? Pairs of staff members credited on the same deals (by the
//   deal's current settlement), with how many deals they share and what each pair earned on them.
// Parameters:
//   $from :: DATETIME = null      only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null        only deals closed before this instant (null: no upper bound)
//   $min_deals :: INTEGER = 1     only pairs sharing at least this many deals
//   $limit :: INTEGER = 50        at most this many pairs
// Returns: staff_a, staff_b, store_a, store_b, shared_deals, amount_a, amount_b, deals
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {"min_deals": 3}
//   staff_a | staff_b | store_a | store_b | shared_deals | amount_a | amount_b | deals
//   sf-sh-nio-1-04 | sf-sh-nio-1-10 | st-sh-nio-1 | st-sh-nio-1 | 69 | 18302054 | 1694063 | d-0000319,d-0000268,d-0001287,d-0001322,d-0001952,d-0001387,d-0002037,d-0002162,d-0002007,d-0001857,d-0002012,d-0001232,d-0001267,d-0001262,d-0001257,d-0001327,d-0002172,d-0001182,d-0001747,d-0001777,d-0001657,d-0001302,d-0001177,d-0001792,d-0001577,d-0001637,d-0001677,d-0001827,d-0002052,d-0001307,d-0001702,d-0001282,d-0001497,d-0001487,d-0001967,d-0002137,d-0002087,d-0001547,d-0001397,d-0002192,d-0001427,d-0001712,d-0001732,d-0001647,d-0001557,d-0002142,d-0002182,d-0001247,d-0001202,d-0001762,d-0001622,d-0002022,d-0001512,d-0001922,d-0001472,d-0001932,d-0001642,d-0001542,d-0001567,d-0001682,d-0001662,d-0001977,d-0002077,d-0001462,d-0001522,d-0001632,d-0001237,d-0001737,d-0001897
//   sf-sh-nio-1-10 | sf-sh-onvo-1-04 | st-sh-nio-1 | st-sh-onvo-1 | 68 | 1657776 | 6707214 | d-0001287,d-0001322,d-0001952,d-0001387,d-0002037,d-0002162,d-0002007,d-0001857,d-0002012,d-0001232,d-0001267,d-0001262,d-0001257,d-0001327,d-0002172,d-0001182,d-0001747,d-0001777,d-0001657,d-0001302,d-0001177,d-0001792,d-0001577,d-0001637,d-0001677,d-0001827,d-0002052,d-0001307,d-0001702,d-0001282,d-0001497,d-0001487,d-0001967,d-0002137,d-0002087,d-0001547,d-0001397,d-0002192,d-0001427,d-0001712,d-0001732,d-0001647,d-0001557,d-0002142,d-0002182,d-0001247,d-0001202,d-0001762,d-0001622,d-0002022,d-0001512,d-0001922,d-0001472,d-0001932,d-0001642,d-0001542,d-0001567,d-0001682,d-0001662,d-0001977,d-0002077,d-0001462,d-0001522,d-0001632,d-0001237,d-0001737,d-0001897,d-0000870
//   sf-sh-nio-1-04 | sf-sh-onvo-1-04 | st-sh-nio-1 | st-sh-onvo-1 | 67 | 17658304 | 6614508 | d-0001287,d-0001322,d-0001952,d-0001387,d-0002037,d-0002162,d-0002007,d-0001857,d-0002012,d-0001232,d-0001267,d-0001262,d-0001257,d-0001327,d-0002172,d-0001182,d-0001747,d-0001777,d-0001657,d-0001302,d-0001177,d-0001792,d-0001577,d-0001637,d-0001677,d-0001827,d-0002052,d-0001307,d-0001702,d-0001282,d-0001497,d-0001487,d-0001967,d-0002137,d-0002087,d-0001547,d-0001397,d-0002192,d-0001427,d-0001712,d-0001732,d-0001647,d-0001557,d-0002142,d-0002182,d-0001247,d-0001202,d-0001762,d-0001622,d-0002022,d-0001512,d-0001922,d-0001472,d-0001932,d-0001642,d-0001542,d-0001567,d-0001682,d-0001662,d-0001977,d-0002077,d-0001462,d-0001522,d-0001632,d-0001237,d-0001737,d-0001897
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
