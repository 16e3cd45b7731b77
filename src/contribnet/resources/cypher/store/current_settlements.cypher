// A page of current settlements of deals closed in [$start, $end), by close then deal, after a
// cursor. The cursor is two range bounds and a NOT rather than an OR (see closed_deals.cypher):
// the closed_at index is read in order and the read stops after $limit rows.
// The hint pins the range seek, as in closed_deals.cypher.
// Parameters: $start, $end, $after_at (DATETIME), $after_id (STRING, '' for none), $limit.
// Returns: closed_at (ISO text), deal, record (JSON).
MATCH (d:Deal)
USING INDEX SEEK d:Deal(closed_at)
WHERE d.closed_at >= $start AND d.closed_at >= $after_at AND d.closed_at < $end
  AND NOT (d.closed_at = $after_at AND d.id <= $after_id)
  AND d.settlement IS NOT NULL
MATCH (s:Settlement {id: d.settlement})
RETURN toString(d.closed_at) AS closed_at, d.id AS deal, s.record AS record
ORDER BY d.closed_at, deal
LIMIT $limit
