// The type of the event recorded under each of the given ids: an (:Event) of the log, a touch
// (a [:TOUCHED] relationship), or a staff member (an employment spell's key is "id@from", so a
// staff id is found by its (:Staff) node with a spell). Ids with nothing recorded are left out.
// Parameters: $ids (list of ids). Returns: id, type.
UNWIND $ids AS id
OPTIONAL MATCH (e:Event {key: id})
  USING INDEX SEEK e:Event(key)
OPTIONAL MATCH ()-[t:TOUCHED {id: id}]->()
  USING INDEX SEEK t:TOUCHED(id)
WITH id, e, t, EXISTS { (:Staff {id: id})-[:EMPLOYED_AT]->() } AS staff
WITH id, CASE
  WHEN e IS NOT NULL THEN e.type
  WHEN t IS NOT NULL THEN 'touch'
  WHEN staff THEN 'staff'
END AS type
WHERE type IS NOT NULL
RETURN id, type
