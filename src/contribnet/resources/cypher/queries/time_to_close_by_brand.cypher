// Question: How long does it take from a customer's first touch to the close, by brand? For each
//   brand of the closing store: the non-voided deals whose customer had a non-voided touch before
//   the close, and the days from the customer's first such touch (at any store) to the close.
// Parameters:
//   $from :: DATETIME = null  only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null    only deals closed before this instant (null: no upper bound)
// Returns: brand, deals, avg_days, median_days, p90_days, min_days, max_days
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {}
//   brand | deals | avg_days | median_days | p90_days | min_days | max_days
//   nio | 457 | 59.71 | 61.98 | 88.98 | 15.11 | 112.05
//   onvo | 89 | 33.05 | 32.91 | 41.98 | 13.87 | 84.38
MATCH (c:Customer)-[:PLACED]->(d:Deal)-[:AT]->(st:Store)
WHERE NOT coalesce(d.voided, false)
  AND ($from IS NULL OR d.closed_at >= $from)
  AND ($to IS NULL OR d.closed_at < $to)
CALL (c, d) {
  MATCH (:Staff)-[t:TOUCHED]->(c)
  WHERE NOT coalesce(t.voided, false) AND t.at <= d.closed_at
  RETURN min(t.at) AS first_touch
}
WITH st.brand AS brand, d, first_touch
WHERE first_touch IS NOT NULL
WITH brand, duration.inSeconds(first_touch, d.closed_at).seconds / 86400.0 AS days
RETURN brand, count(*) AS deals, round(avg(days), 2) AS avg_days,
       round(percentileCont(days, 0.5), 2) AS median_days,
       round(percentileCont(days, 0.9), 2) AS p90_days,
       round(min(days), 2) AS min_days, round(max(days), 2) AS max_days
ORDER BY brand
