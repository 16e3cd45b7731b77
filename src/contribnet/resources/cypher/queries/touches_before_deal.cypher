// Question: Which touches came before a deal, within a window of days before it closed? The
//   non-voided touches of the deal's customer in [closed_at - $days days, closed_at], oldest first.
// Parameters:
//   $deal :: STRING        the deal's id
//   $days :: INTEGER = 90  how many days before the close to look back
// Returns: at, days_before, stage, staff, store, store_brand, store_city
// Example ($deal = 'd-s5-1', $days = 30, the six scenarios):
//   at                        | days_before | stage      | staff       | store       | store_brand | store_city
//   2025-04-05T02:00:00+00:00 | 22.06       | reception  | sf-nio-hz-x | st-nio-hz-a | nio         | Hangzhou
//   2025-04-05T02:30:00+00:00 | 22.03       | test_drive | sf-nio-hz-x | st-nio-hz-a | nio         | Hangzhou
//   ...
//   2025-04-27T03:00:00+00:00 | 0.01        | order      | sf-nio-hz-y | st-nio-hz-b | nio         | Hangzhou
MATCH (c:Customer)-[:PLACED]->(d:Deal {id: $deal})
WHERE NOT coalesce(d.voided, false)
MATCH (s:Staff)-[t:TOUCHED]->(c)
WHERE NOT coalesce(t.voided, false)
  AND d.closed_at - duration({days: $days}) <= t.at <= d.closed_at
OPTIONAL MATCH (st:Store {id: t.store})
RETURN t.at AS at,
       round(duration.inSeconds(t.at, d.closed_at).seconds / 86400.0, 2) AS days_before,
       t.stage AS stage, s.id AS staff, t.store AS store, st.brand AS store_brand,
       st.city AS store_city
ORDER BY at, t.id
