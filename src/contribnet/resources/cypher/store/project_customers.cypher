// Parameters: $rows [{id, name?, city?}].
UNWIND $rows AS row
MERGE (c:Customer {id: row.id})
SET c.name = row.name, c.city = row.city
