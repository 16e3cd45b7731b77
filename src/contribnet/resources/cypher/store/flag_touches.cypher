// The fraud rules' touches: the live touches that happened in [$start, $end) (null: open), with
// their fields and when the service received them (null before received times were kept).
// Parameters: $start, $end (DateTime or null). Returns touch (a map of the touch's fields),
// recorded_at (ISO text or null).
// Example: {touch: {id: 't-1', at: '2025-01-05T02:00Z', staff: 'sf-1', customer: 'c-1', ...},
//   recorded_at: '2026-12-02T11:30:00.25Z'}
MATCH (s:Staff)-[t:TOUCHED]->(c:Customer)
WHERE ($start IS NULL OR t.at >= $start) AND ($end IS NULL OR t.at < $end)
  AND NOT coalesce(t.voided, false)
RETURN t {.*, at: toString(t.at), staff: s.id, customer: c.id} AS touch,
       toString(t.recorded_at) AS recorded_at
