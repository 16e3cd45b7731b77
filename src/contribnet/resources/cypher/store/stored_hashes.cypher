// The content hashes of the given event keys that are already recorded: in the (:Event) log, or
// on a [:TOUCHED] relationship (a touch's log entry).
// The hints force one index *seek* per key: planned on an empty graph (just after a wipe or on
// a new database), Neo4j may otherwise cache a plan that scans the whole index and filters by
// key, which it keeps for minutes while the graph grows: 10,000 keys x every touch.
// Parameters: $keys (list of event keys). Returns: key, hash.
UNWIND $keys AS key
OPTIONAL MATCH (e:Event {key: key})
  USING INDEX SEEK e:Event(key)
OPTIONAL MATCH ()-[t:TOUCHED {id: key}]->()
  USING INDEX SEEK t:TOUCHED(id)
WITH key, coalesce(e.hash, t.hash) AS hash
WHERE hash IS NOT NULL
RETURN key, hash
