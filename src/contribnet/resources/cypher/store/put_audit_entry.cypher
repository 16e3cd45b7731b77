// Append one audit entry, and one (:AuditTarget) per id it touches. Target nodes are created,
// never merged: no two writers ever wait on one node, so an ingest batch never waits on another's
// trail; the index on AuditTarget.target makes "the entries touching X" a seek.
// Parameters: $id, $at (DateTime), $action, $record (JSON), $targets (list of ids).
CREATE (:AuditEntry {id: $id, at: $at, action: $action, record: $record})
WITH 1 AS one
UNWIND $targets AS target
CREATE (:AuditTarget {target: target, entry: $id})
