// The content hashes of the given event keys that are already recorded.
// Parameters: $keys (list of event keys). Returns: key, hash.
UNWIND $keys AS key
MATCH (e:Event {key: key})
RETURN e.key AS key, e.hash AS hash
