// Question: How did a (bulk) handover convert? Per non-voided handover: how many customers were
//   handed over, how many placed a non-voided deal after it, how many of those the receiving
//   staff member closed, and the amount of those deals.
// Parameters:
//   $handover :: STRING = null  one handover's id (null: every handover)
// Returns: handover, at, from_staff, to_staff, customers, converted, closed_by_receiver, conversion, amount
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {"handover": "h-2024-yearend-1"}
//   handover | at | from_staff | to_staff | customers | converted | closed_by_receiver | conversion | amount
//   h-2024-yearend-1 | 2024-12-27T10:00:00Z | sf-sh-onvo-1-02 | sf-sh-nio-1-02 | 210 | 63 | 63 | 0.3 | 2122800000
MATCH (from:Staff)-[:HANDED_OVER]->(h:Handover)-[:TO]->(to:Staff)
WHERE NOT coalesce(h.voided, false) AND ($handover IS NULL OR h.id = $handover)
MATCH (h)-[:INCLUDES]->(c:Customer)
OPTIONAL CALL (h, c) {
  MATCH (closer:Staff)-[:CLOSED]->(d:Deal)<-[:PLACED]-(c)
  WHERE NOT coalesce(d.voided, false) AND d.closed_at >= h.at
  RETURN d, closer
  ORDER BY d.closed_at, d.id
  LIMIT 1
}
WITH h, from, to, count(c) AS customers, count(d) AS converted,
     count(CASE WHEN closer = to THEN 1 END) AS closed_by_receiver, sum(d.amount) AS amount
RETURN h.id AS handover, h.at AS at, from.id AS from_staff, to.id AS to_staff, customers,
       converted, closed_by_receiver, round(toFloat(converted) / customers, 3) AS conversion, amount
ORDER BY at, handover
