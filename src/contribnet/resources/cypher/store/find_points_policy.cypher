// A points policy version's hash and record by id. Parameters: $id. Returns: hash, record.
MATCH (p:PointsPolicy {id: $id})
RETURN p.hash AS hash, p.record AS record
