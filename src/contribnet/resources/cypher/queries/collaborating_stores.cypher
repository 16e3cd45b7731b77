// Question: Which stores collaborate? Pairs of different stores whose staff are credited on the
//   same deals (by the deal's current settlement); a staff member counts for the store of their
//   employment spell covering the deal's close. Cross-brand pairs are flagged.
// Parameters:
//   $from :: DATETIME = null   only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null     only deals closed before this instant (null: no upper bound)
//   $min_deals :: INTEGER = 1  only pairs sharing at least this many deals
//   $limit :: INTEGER = 50     at most this many pairs
// Returns: store_a, store_b, brand_a, brand_b, cross_brand, shared_deals, amount_a, amount_b
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {}
//   store_a | store_b | brand_a | brand_b | cross_brand | shared_deals | amount_a | amount_b
//   st-sh-nio-1 | st-sh-onvo-1 | nio | onvo | true | 309 | 92635320 | 31544680
//   st-sy-nio-1 | st-sya-nio-1 | nio | nio | false | 4 | 932629 | 757371
//   st-wh-nio-1 | st-wh-onvo-1 | nio | onvo | true | 4 | 607477 | 632523
MATCH (d:Deal)-[cr:CREDITED]->(s:Staff)
WHERE NOT coalesce(d.voided, false)
  AND ($from IS NULL OR d.closed_at >= $from)
  AND ($to IS NULL OR d.closed_at < $to)
CALL (s, d) {
  MATCH (s)-[e:EMPLOYED_AT]->(st:Store)
  WITH st, e,
       (e.from IS NULL OR e.from <= date(d.closed_at))
       AND (e.to IS NULL OR date(d.closed_at) <= e.to) AS covers
  RETURN st
  ORDER BY covers DESC, coalesce(e.from, date('0001-01-01')) DESC
  LIMIT 1
}
WITH d, st, sum(cr.amount) AS amount
WITH d, collect({store: st, amount: amount}) AS stores
UNWIND stores AS x
UNWIND stores AS y
WITH d, x.store AS a, y.store AS b, x.amount AS amount_a, y.amount AS amount_b
WHERE a.id < b.id
WITH a, b, count(d) AS shared_deals, sum(amount_a) AS amount_a, sum(amount_b) AS amount_b
WHERE shared_deals >= $min_deals
RETURN a.id AS store_a, b.id AS store_b, a.brand AS brand_a, b.brand AS brand_b,
       a.brand <> b.brand AS cross_brand, shared_deals, amount_a, amount_b
ORDER BY shared_deals DESC, amount_a + amount_b DESC, store_a, store_b
LIMIT $limit
