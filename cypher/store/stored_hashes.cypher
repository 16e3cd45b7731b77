// The content hashes of the given event keys that are already recorded: in the (:Event) log, or
// on a [:TOUCHED] relationship (a touch's log entry).
// The index hints pin the plan: one seek per key in each index, whatever the statistics said
// when the plan was cached (a re-plan that scanned would cost a batch minutes).
// Parameters: $keys (list of event keys). Returns: key, hash.
UNWIND $keys AS key
OPTIONAL MATCH (e:Event {key: key})
  USING INDEX e:Event(key)
OPTIONAL MATCH ()-[t:TOUCHED {id: key}]->()
  USING INDEX t:TOUCHED(id)
WITH key, coalesce(e.hash, t.hash) AS hash
WHERE hash IS NOT NULL
RETURN key, hash
