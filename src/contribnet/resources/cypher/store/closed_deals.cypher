// A page of non-voided deals closed in [$start, $end), ordered by close then id, after a cursor;
// with $unsettled only those with no settlement yet (batch settlement's work list).
// The cursor is written as two range bounds and a NOT rather than "closed_at > $after_at OR
// (closed_at = $after_at AND id > $after_id)": an OR makes the planner union two seeks and sort
// every later deal for each page, where this reads the closed_at index in order and stops after
// $limit rows (PartialTop), so a batch over n deals costs n reads, not n²/page.
// The hint pins that seek: left to its statistics the planner once chose to read the whole
// closed_at index from its start for every page (a NodeIndexScan; seen in CI).
// Parameters: $start, $end (DATETIME), $after_at (DATETIME), $after_id (STRING, '' for none),
//   $unsettled (BOOLEAN), $limit.
// Returns: id, closed_at (ISO text). Example: {id: 'd-1', closed_at: '2025-01-10T00:00:00Z'}
MATCH (d:Deal)
USING INDEX SEEK d:Deal(closed_at)
WHERE d.closed_at >= $start AND d.closed_at >= $after_at AND d.closed_at < $end
  AND NOT (d.closed_at = $after_at AND d.id <= $after_id)
  AND NOT coalesce(d.voided, false)
  AND (NOT $unsettled OR d.settlement IS NULL)
RETURN d.id AS id, toString(d.closed_at) AS closed_at
ORDER BY d.closed_at, id
LIMIT $limit
