// Append accepted events to the log. Parameters: $rows [{key, type, hash, payload, recorded_at,
// target?}]; recorded_at (a DateTime) is when the service received the event, no part of its hash.
UNWIND $rows AS row
CREATE (e:Event)
SET e = row
