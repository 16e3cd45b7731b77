// A page of current settlements of deals closed in [$start, $end), by close then deal, after a
// cursor. Parameters: $start, $end, $after_at (DATETIME), $after_id (STRING, '' for none), $limit.
// Returns: closed_at (ISO text), deal, record (JSON).
MATCH (d:Deal)
WHERE d.closed_at >= $start AND d.closed_at < $end
  AND (d.closed_at > $after_at OR (d.closed_at = $after_at AND d.id > $after_id))
  AND d.settlement IS NOT NULL
MATCH (s:Settlement {id: d.settlement})
RETURN toString(d.closed_at) AS closed_at, d.id AS deal, s.record AS record
ORDER BY d.closed_at, deal
LIMIT $limit
