// An adjustment's record by id. Parameters: $id. Returns: record (JSON).
MATCH (a:Adjustment {id: $id})
RETURN a.record AS record
