// How many events of each type are recorded (touches are their relationships).
// Returns type, count.
CALL () {
  MATCH (e:Event)
  RETURN e.type AS type, count(*) AS count
  UNION ALL
  MATCH ()-[t:TOUCHED]->()
  RETURN 'touch' AS type, count(t) AS count
}
WITH type, count WHERE count > 0
RETURN type, count
ORDER BY type
