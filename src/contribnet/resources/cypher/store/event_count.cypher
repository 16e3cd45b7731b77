// How many events are recorded: the (:Event) log plus the [:TOUCHED] relationships (a touch's log
// entry). Both counts come from Neo4j's count store, so this is cheap at any size; it grows with
// every accepted event, which tells the services' caches when they are stale.
// Returns count.
CALL () {
  MATCH (e:Event)
  RETURN count(e) AS events
}
CALL () {
  MATCH ()-[t:TOUCHED]->()
  RETURN count(t) AS touches
}
RETURN events + touches AS count
