// Question: How long does it take from a customer's first touch to the close, by brand? For each
//   brand of the closing store: the non-voided deals whose customer had a non-voided touch before
//   the close, and the days from the customer's first such touch (at any store) to the close.
// Parameters:
//   $from :: DATETIME = null  only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null    only deals closed before this instant (null: no upper bound)
// Returns: brand, deals, avg_days, median_days, p90_days, min_days, max_days
// Example (the six scenarios, no parameters):
//   brand | deals | avg_days | median_days | p90_days | min_days | max_days
//   nio   | 8     | 19.98    | 10.6        | 44.57    | 6.1      | 57.23
//   onvo  | 1     | 8.17     | 8.17        | 8.17     | 8.17     | 8.17
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
