// One dispute and its resolution, if any.
// Parameters: $id. Returns record (JSON), resolution (JSON or null).
MATCH (d:Dispute {id: $id})
OPTIONAL MATCH (r:DisputeResolution {dispute: d.id})
RETURN d.record AS record, r.record AS resolution
