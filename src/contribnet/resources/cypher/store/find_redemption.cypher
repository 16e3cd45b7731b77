// A redemption's record by id. Parameters: $id. Returns: record (JSON).
MATCH (r:Redemption {id: $id})
RETURN r.record AS record
