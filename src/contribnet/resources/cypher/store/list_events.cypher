// A page of recorded events of one type (store, customer, deal), ordered by key.
// Parameters: $type, $offset, $limit. Returns payload, voided.
MATCH (e:Event {type: $type})
WITH e ORDER BY e.key SKIP $offset LIMIT $limit
OPTIONAL MATCH (d:Deal {id: e.key})
RETURN e.payload AS payload, coalesce(d.voided, false) AS voided
