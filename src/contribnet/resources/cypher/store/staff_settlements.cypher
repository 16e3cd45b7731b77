// The current settlements crediting one staff member, of deals closed in [$start, $end), by close
// then deal. Parameters: $staff, $start, $end (DATETIME). Returns: closed_at (ISO text), deal, record (JSON).
MATCH (:Staff {id: $staff})<-[:CREDITED]-(d:Deal)
WHERE d.closed_at >= $start AND d.closed_at < $end
WITH DISTINCT d
MATCH (s:Settlement {id: d.settlement})
RETURN toString(d.closed_at) AS closed_at, d.id AS deal, s.record AS record
ORDER BY d.closed_at, deal
