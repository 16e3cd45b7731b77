// Every points policy version, in the order recorded. Returns: record (JSON).
MATCH (p:PointsPolicy)
RETURN p.record AS record
ORDER BY p.created_at, p.id
