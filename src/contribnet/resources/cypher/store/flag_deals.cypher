// The fraud rules' deals: the live deals closed in [$start, $end) (null: open), one row per store
// with the list of its deals (not a row per deal: see flag_touches), each a list [id, customer,
// closer, closed_at, amount, reward_pool, points_pool, recorded_at (ISO text or null)].
// Parameters: $start, $end (DateTime or null). Returns store, deals.
// Example: {store: 'st-1', deals: [['d-1', 'c-1', 'sf-1', '2025-01-10T04:00Z', 30000000, 500000,
//   null, '2026-12-02T11:30:00.25Z']]}
MATCH (st:Store)
CALL (st) {
  MATCH (c:Customer)-[:PLACED]->(d:Deal)-[:AT]->(st), (closer:Staff)-[:CLOSED]->(d)
  WHERE ($start IS NULL OR d.closed_at >= $start) AND ($end IS NULL OR d.closed_at < $end)
    AND NOT coalesce(d.voided, false)
  OPTIONAL MATCH (e:Event {key: d.id})
  RETURN collect([d.id, c.id, closer.id, toString(d.closed_at), d.amount, d.reward_pool,
                  d.points_pool, toString(e.recorded_at)]) AS deals
}
WITH st, deals
WHERE size(deals) > 0
RETURN st.id AS store, deals
