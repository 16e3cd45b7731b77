// Question: Which advisors' early-stage work is most often closed by others ("farmers", 种地)? A
//   staff member farmed a deal when someone else closed it and the staff member is credited on it
//   (its current settlement) for early-stage work: a touch of theirs at an early stage that counts
//   for that deal (non-voided, at or before the close, within the lookback, and after the
//   customer's previous live deal closed). Ranked by deals farmed, then the fen they paid, then
//   id. The leaders' page and GET /v1/graph/farmers rank by the same definition.
// Parameters:
//   $early_stages :: LIST<STRING> = lead,reception,consultation,test_drive,event  the stages that count as early work
//   $lookback_days :: INTEGER = 180  the policy's lookback: older touches do not count for a deal
//   $from :: DATETIME = null   only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null     only deals closed before this instant (null: no upper bound)
//   $min_deals :: INTEGER = 1  only staff who farmed at least this many deals
//   $limit :: INTEGER = 20     at most this many rows
// Returns: staff, name, store, early_deals, farmed_deals, farmed, farmed_share
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {"limit": 3}
//   staff | name | store | early_deals | farmed_deals | farmed | farmed_share
//   sf-sh-onvo-1-04 | 彭艳 | st-sh-onvo-1 | 70 | 68 | 6707214 | 0.971
//   sf-sh-onvo-1-03 | 余玲 | st-sh-onvo-1 | 67 | 66 | 7120530 | 0.985
//   sf-sh-onvo-1-02 | 何艳强 | st-sh-onvo-1 | 62 | 62 | 6290131 | 1.0
MATCH (closer:Staff)-[:CLOSED]->(d:Deal)-[cr:CREDITED]->(s:Staff)
WHERE NOT coalesce(d.voided, false)
  AND ($from IS NULL OR d.closed_at >= $from)
  AND ($to IS NULL OR d.closed_at < $to)
MATCH (c:Customer)-[:PLACED]->(d)
WITH closer, d, cr, s, c
WHERE EXISTS {
  MATCH (s)-[t:TOUCHED]->(c)
  WHERE NOT coalesce(t.voided, false) AND t.stage IN $early_stages
    AND t.at <= d.closed_at AND t.at >= d.closed_at - duration({days: $lookback_days})
    // after the customer's previous live deal closed: no earlier live deal closed at or after it
    AND NOT EXISTS {
      MATCH (c)-[:PLACED]->(p:Deal)
      WHERE NOT coalesce(p.voided, false) AND p <> d AND t.at <= p.closed_at
        AND (p.closed_at < d.closed_at OR (p.closed_at = d.closed_at AND p.id < d.id))
    }
}
WITH s, count(DISTINCT d) AS early_deals,
     count(DISTINCT CASE WHEN closer <> s THEN d END) AS farmed_deals,
     sum(CASE WHEN closer <> s THEN cr.amount ELSE 0 END) AS farmed
WHERE farmed_deals >= $min_deals
RETURN s.id AS staff, s.name AS name, s.store AS store, early_deals, farmed_deals, farmed,
       round(toFloat(farmed_deals) / early_deals, 3) AS farmed_share
ORDER BY farmed_deals DESC, farmed DESC, staff
LIMIT $limit
