// A deal's settlements, oldest first. Parameters: $deal. Returns: record (JSON).
MATCH (s:Settlement {deal: $deal})
RETURN s.record AS record
ORDER BY s.seq
