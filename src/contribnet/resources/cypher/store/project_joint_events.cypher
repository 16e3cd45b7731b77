// A joint event and its organising stores. Parameters: $rows [{id, at (ISO 8601 text), name,
// organisers, voided}].
// Instants arrive as ISO 8601 text and become DateTimes here: the Python driver packs a DateTime
// parameter in ~60 us of client CPU (0.6 s per 10,000-row batch), text in next to none.
UNWIND $rows AS row
MERGE (j:JointEvent {id: row.id})
SET j.at = datetime(row.at), j.name = row.name, j.voided = row.voided
WITH j, row
UNWIND row.organisers AS store_id
MERGE (s:Store {id: store_id})
MERGE (s)-[:ORGANISED]->(j)
