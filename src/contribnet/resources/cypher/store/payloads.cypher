// The recorded events (canonical JSON) of the given keys. Parameters: $keys. Returns key, type, payload.
UNWIND $keys AS key
MATCH (e:Event {key: key})
RETURN e.key AS key, e.type AS type, e.payload AS payload
