// The last statement of a write transaction of events (store/neo4j.py, _append) that changed
// the learned models' inputs (a touch, referral, handover or deal, or a void): number it and
// record what it changed, for Store.contribution_changes.
// The number comes from one counter, whose lock the transaction holds from here until it has
// committed: numbers follow commit order, and a reader that takes the same lock
// (store/last_commit.cypher) knows every transaction numbered up to what it reads is wholly
// visible. Taking the lock last keeps what writers wait for to their commits alone.
// Parameters: $batch (the transaction's log entries carry it), $events (how many it recorded),
// $customers (those whose touches, referrals, handovers or deals it recorded), $targets (what
// its voids target: their customers are found here, the targets recorded earlier or in this
// transaction).
// Returns: seq.
CALL () {
  UNWIND $targets AS id
  CALL (id) {
    MATCH ()-[t:TOUCHED {id: id}]->(c:Customer)
      USING INDEX SEEK t:TOUCHED(id)
    RETURN c.id AS customer
    UNION
    MATCH ()-[r:REFERRED {id: id}]->(c:Customer)
      USING INDEX SEEK r:REFERRED(id)
    RETURN c.id AS customer
    UNION
    MATCH (:Handover {id: id})-[:INCLUDES]->(c:Customer)
    RETURN c.id AS customer
    UNION
    MATCH (c:Customer)-[:PLACED]->(:Deal {id: id})
    RETURN c.id AS customer
  }
  RETURN collect(DISTINCT customer) AS voided
}
MERGE (s:Sequence {name: 'commits'})
SET s.last = coalesce(s.last, 0) + 1
CREATE (:Commit {seq: s.last, batch: $batch, events: $events,
                 customers: $customers + [c IN voided WHERE NOT c IN $customers]})
RETURN s.last AS seq
