// Append accepted events to the log. Parameters: $rows [{key, type, hash, payload, target?}].
UNWIND $rows AS row
CREATE (e:Event)
SET e = row
