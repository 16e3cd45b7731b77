// The content hashes of the given event keys that are already recorded: in the (:Event) log, or
// on a [:TOUCHED] relationship (a touch's log entry).
// Parameters: $keys (list of event keys). Returns: key, hash.
UNWIND $keys AS key
OPTIONAL MATCH (e:Event {key: key})
OPTIONAL MATCH ()-[t:TOUCHED {id: key}]->()
WITH key, coalesce(e.hash, t.hash) AS hash
WHERE hash IS NOT NULL
RETURN key, hash
