// A policy version's hash and record by id. Parameters: $id. Returns: hash, record.
MATCH (p:Policy {id: $id})
RETURN p.hash AS hash, p.record AS record
