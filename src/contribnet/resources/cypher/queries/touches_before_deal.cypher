// Question: Which touches came before a deal, within a window of days before it closed? The
//   non-voided touches of the deal's customer in [closed_at - $days days, closed_at], oldest first.
// Parameters:
//   $deal :: STRING        the deal's id
//   $days :: INTEGER = 90  how many days before the close to look back
// Returns: at, days_before, stage, staff, store, store_brand, store_city
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {"deal": "d-0000163", "days": 30}
//   at | days_before | stage | staff | store | store_brand | store_city
//   2024-12-30T05:43:12Z | 26.99 | reception | sf-sya-nio-1-07 | st-sya-nio-1 | nio | Sanya
//   2024-12-30T06:43:51Z | 26.95 | test_drive | sf-sya-nio-1-07 | st-sya-nio-1 | nio | Sanya
//   2024-12-30T06:45:51Z | 26.94 | test_drive | sf-sya-nio-1-07 | st-sya-nio-1 | nio | Sanya
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
