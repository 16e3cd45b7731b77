// The record of each given store that is recorded (lead pools read its region). Parameters: $ids.
// Returns id, payload (the store event's JSON, which names its region).
UNWIND $ids AS id
MATCH (e:Event {key: id})
WHERE e.type = 'store'
RETURN id, e.payload AS payload
