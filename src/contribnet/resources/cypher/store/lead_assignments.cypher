// The live lead assignments at or before an instant (lead pools: the holdings to check for
// reclaim), by at, id. Parameters: $until (datetime). Returns payload (the event's JSON).
// Example: {payload: '{"id":"la-1","type":"lead_assignment","at":"2025-01-01T00:00:00Z",...}'}
MATCH (a:LeadAssignment)
  USING INDEX a:LeadAssignment(at)
WHERE a.at <= $until AND NOT coalesce(a.voided, false)
MATCH (e:Event {key: a.id})
RETURN e.payload AS payload
ORDER BY a.at, a.id
