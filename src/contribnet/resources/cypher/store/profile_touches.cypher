// The advisor profiles' touches: the live touches that happened in [$start, $end),
// as much of each as a profile counts. Seeks the touched_at index (an open side
// is passed as the first or last instant Neo4j holds, so that the range always seeks).
// Parameters: $start, $end (DateTime). Returns id, staff, customer, stage, at (ISO text in
// UTC), in no set order.
// Example: {id: 't-42', staff: 'sf-sh-nio-1-01', customer: 'c-0000007', stage: 'test_drive',
//   at: '2025-01-05T02:00:00Z'}
MATCH (s:Staff)-[t:TOUCHED]->(c:Customer)
// The hint: on a small graph the planner may scan another relationship index and filter.
USING INDEX t:TOUCHED(at)
WHERE t.at >= $start AND t.at < $end
  AND NOT coalesce(t.voided, false)
// toString: the driver's DateTime values cost four times the time of the rest of the read.
RETURN t.id AS id, s.id AS staff, c.id AS customer, t.stage AS stage, toString(t.at) AS at
