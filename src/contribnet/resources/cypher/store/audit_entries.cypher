// The audit entries touching one id, recorded in [$start, $end) (null: open), oldest first.
// Parameters: $target (an id), $start, $end (DateTime or null). Returns record (JSON).
// Example: {record: '{"id": "au-…", "action": "adjusted", "targets": ["adj-dp-1", "d-1", …]}'}
MATCH (t:AuditTarget {target: $target})
USING INDEX t:AuditTarget(target)
WITH DISTINCT t.entry AS id
MATCH (e:AuditEntry {id: id})
WHERE ($start IS NULL OR e.at >= $start) AND ($end IS NULL OR e.at < $end)
RETURN e.record AS record
ORDER BY e.at, e.id
