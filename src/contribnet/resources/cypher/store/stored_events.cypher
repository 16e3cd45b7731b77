// Events as they are stored now, to check them against the content hash taken when they were
// accepted (re-derivation of settlements, services/verify.py): per recorded key, its hash, its
// logged payload or, for a touch (whose log entry is its [:TOUCHED] relationship), the
// relationship's properties with staff and customer, and when the service received it.
// The hints force one index seek per key, as in stored_hashes.
// Parameters: $keys (event keys). Returns: key, hash, payload (or null), touch (or null),
// recorded_at (DateTime or null).
// Example: {key: 't-3', hash: '5d1c...', payload: null, touch: {id: 't-3', stage: 'reception',
//   at: 2025-01-04T01:00:00Z, store: 'st-b', staff: 'sf-y', customer: 'c-1', ...},
//   recorded_at: 2026-12-02T11:30:00.25Z}
UNWIND $keys AS key
OPTIONAL MATCH (e:Event {key: key})
  USING INDEX SEEK e:Event(key)
OPTIONAL MATCH (s:Staff)-[t:TOUCHED {id: key}]->(c:Customer)
  USING INDEX SEEK t:TOUCHED(id)
WITH key, e, t, s, c
WHERE e IS NOT NULL OR t IS NOT NULL
RETURN key, coalesce(e.hash, t.hash) AS hash, e.payload AS payload,
       CASE WHEN t IS NULL THEN null ELSE t {.*, staff: s.id, customer: c.id} END AS touch,
       coalesce(e.recorded_at, t.recorded_at) AS recorded_at
