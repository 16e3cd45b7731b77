// Which of the given event ids a recorded void already targets (voids may arrive first).
// Parameters: $ids. Returns: id.
UNWIND $ids AS id
MATCH (v:Event {target: id})
  USING INDEX SEEK v:Event(target)
RETURN DISTINCT id
