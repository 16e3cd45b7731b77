// One settlement by id. Parameters: $id. Returns: record (JSON).
MATCH (s:Settlement {id: $id})
RETURN s.record AS record
