// Staff touched customer. A touch's log entry is its relationship (touches are most of the
// stream; a separate (:Event) per touch would double the writes): it carries the event's hash,
// and the touch's fields, from which its canonical JSON is rebuilt.
// Staff and customer nodes exist already (merge_nodes).
// Parameters: $rows, one list per touch (lists cost the server less to read than maps):
//   [0 id, 1 hash, 2 at, 3 customer, 4 staff, 5 store, 6 stage, 7 channel?, 8 joint_event?,
//    9 evidence? (JSON text), 10 voided, 11 recorded_at (when the service received it)]; at and
//    recorded_at are ISO 8601 text, stored as DateTimes; $batch, the transaction's (:Commit)
//    (store/commit_batch.cypher).
// Instants arrive as ISO 8601 text and become DateTimes here: the Python driver packs a DateTime
// parameter in ~60 us of client CPU (0.6 s per 10,000-row batch), text in next to none.
UNWIND $rows AS row
MATCH (s:Staff {id: row[4]})
  USING INDEX SEEK s:Staff(id)
MATCH (c:Customer {id: row[3]})
  USING INDEX SEEK c:Customer(id)
CREATE (s)-[:TOUCHED {id: row[0], hash: row[1], at: datetime(row[2]), store: row[5],
                      stage: row[6], channel: row[7], joint_event: row[8], evidence: row[9],
                      voided: row[10], recorded_at: datetime(row[11]), batch: $batch}]->(c)
