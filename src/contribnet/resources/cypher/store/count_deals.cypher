// How many deals (voided ones included) match the filters of list_deals.
// Parameters: $store, $staff, $start, $end (as in list_deals). Returns total.
MATCH (d:Deal)
WHERE ($store IS NULL OR EXISTS { (d)-[:AT]->(:Store {id: $store}) })
  AND ($staff IS NULL OR EXISTS { (:Staff {id: $staff})-[:CLOSED]->(d) })
  AND ($start IS NULL OR d.closed_at >= $start)
  AND ($end IS NULL OR d.closed_at < $end)
RETURN count(d) AS total
