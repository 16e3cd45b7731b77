// The recorded events (canonical JSON) of the given keys, and when the service received them
// (ISO text; null for events stored before that was kept). Parameters: $keys.
// Returns key, type, payload, recorded_at.
UNWIND $keys AS key
MATCH (e:Event {key: key})
RETURN e.key AS key, e.type AS type, e.payload AS payload, toString(e.recorded_at) AS recorded_at
