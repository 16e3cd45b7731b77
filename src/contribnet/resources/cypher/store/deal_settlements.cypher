// The current settlements of the given deals closed in [$start, $end), by close then deal.
// Parameters: $deals (ids), $start, $end (DATETIME). Returns: closed_at (ISO text), deal, record (JSON).
UNWIND $deals AS deal_id
MATCH (d:Deal {id: deal_id})
WHERE d.closed_at >= $start AND d.closed_at < $end
MATCH (s:Settlement {id: d.settlement})
RETURN toString(d.closed_at) AS closed_at, d.id AS deal, s.record AS record
ORDER BY d.closed_at, deal
