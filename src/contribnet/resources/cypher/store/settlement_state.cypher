// Before recording settlements: which of their ids are recorded already, and each deal's current
// settlement. Parameters: $ids (settlement ids), $deals (deal ids).
// Returns: existing [ids], current [[deal, settlement id or null]].
CALL () {
  UNWIND $ids AS id
  MATCH (s:Settlement {id: id})
  RETURN collect(s.id) AS existing
}
CALL () {
  UNWIND $deals AS deal_id
  MATCH (d:Deal {id: deal_id})
  RETURN collect([d.id, d.settlement]) AS current
}
RETURN existing, current
