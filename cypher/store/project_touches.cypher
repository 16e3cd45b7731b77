// Staff touched customer. A touch's log entry is its relationship (touches are most of the
// stream; a separate (:Event) per touch would double the writes): it carries the event's hash,
// and the touch's fields, from which its canonical JSON is rebuilt.
// Staff and customer nodes exist already (merge_nodes).
// Parameters: $rows [{id, hash, at, customer, staff, store, stage, channel?, joint_event?,
// evidence? (JSON text), voided}].
UNWIND $rows AS row
MATCH (s:Staff {id: row.staff})
MATCH (c:Customer {id: row.customer})
CREATE (s)-[:TOUCHED {id: row.id, hash: row.hash, at: row.at, store: row.store,
                      stage: row.stage, channel: row.channel, joint_event: row.joint_event,
                      evidence: row.evidence, voided: row.voided}]->(c)
