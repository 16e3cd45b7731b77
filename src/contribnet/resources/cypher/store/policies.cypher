// Every policy version, in the order recorded. Returns: record (JSON).
MATCH (p:Policy)
RETURN p.record AS record
ORDER BY p.created_at, p.id
