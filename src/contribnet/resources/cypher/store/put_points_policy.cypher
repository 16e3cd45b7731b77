// Record a points policy version (the caller has checked that its id is new).
// Parameters: $id, $name, $version, $effective_from (DATE), $hash, $created_at, $record (JSON).
CREATE (:PointsPolicy {id: $id, name: $name, version: $version, effective_from: $effective_from,
                       hash: $hash, created_at: $created_at, record: $record})
