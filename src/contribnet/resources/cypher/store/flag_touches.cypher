// The fraud rules' touches: the live touches that happened in [$start, $end) (null: open), of a
// page of staff members (the first $limit, by id, after $after), one row per staff member with
// the list of their touches. A row per touch cost the driver more than the rules themselves on a
// large network, and pages keep each transaction well within the server's timeout. Each touch
// is a list of the fields the rules read: [id, at, customer, store, stage, channel, evidence
// (JSON text), recorded_at (ISO text, or null before received times were kept)].
// Parameters: $start, $end (DateTime or null), $after (a staff id; '' for the first page),
// $limit. Returns staff, touches (empty for a staff member with none).
// Example: {staff: 'sf-1', touches: [['t-1', '2025-01-05T02:00Z', 'c-1', 'st-1', 'reception',
//   null, null, '2026-12-02T11:30:00.25Z']]}
MATCH (s:Staff)
WHERE s.id > $after
WITH s
ORDER BY s.id
LIMIT $limit
CALL (s) {
  MATCH (s)-[t:TOUCHED]->(c:Customer)
  WHERE ($start IS NULL OR t.at >= $start) AND ($end IS NULL OR t.at < $end)
    AND NOT coalesce(t.voided, false)
  RETURN collect([t.id, toString(t.at), c.id, t.store, t.stage, t.channel, t.evidence,
                  toString(t.recorded_at)]) AS touches
}
RETURN s.id AS staff, touches
