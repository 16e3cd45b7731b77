// A joint event and its organising stores. Parameters: $rows [{id, at, name, organisers, voided}].
UNWIND $rows AS row
MERGE (j:JointEvent {id: row.id})
SET j.at = row.at, j.name = row.name, j.voided = row.voided
WITH j, row
UNWIND row.organisers AS store_id
MERGE (s:Store {id: store_id})
MERGE (s)-[:ORGANISED]->(j)
