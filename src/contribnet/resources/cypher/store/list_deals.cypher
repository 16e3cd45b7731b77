// A page of deals ordered by id, voided ones included; each filter left null is not applied.
// Parameters: $store, $staff (STRING or null): closed at that store, by that staff member;
//   $start, $end (DATETIME or null): closed in [$start, $end); $offset, $limit.
// Returns payload (the deal event's JSON), voided.
MATCH (d:Deal)
WHERE ($store IS NULL OR EXISTS { (d)-[:AT]->(:Store {id: $store}) })
  AND ($staff IS NULL OR EXISTS { (:Staff {id: $staff})-[:CLOSED]->(d) })
  AND ($start IS NULL OR d.closed_at >= $start)
  AND ($end IS NULL OR d.closed_at < $end)
WITH d ORDER BY d.id SKIP $offset LIMIT $limit
MATCH (e:Event {key: d.id, type: 'deal'})
RETURN e.payload AS payload, coalesce(d.voided, false) AS voided
ORDER BY d.id
