// Parameters: $rows [{id, name}].
UNWIND $rows AS row
MERGE (b:Brand {id: row.id})
SET b.name = row.name
