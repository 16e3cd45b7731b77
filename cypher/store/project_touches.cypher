// Staff touched customer. Staff and customer nodes exist already (merge_nodes).
// Parameters: $rows [{id, at, customer, staff, store, stage, channel?, joint_event?, evidence?,
// voided}].
UNWIND $rows AS row
MATCH (s:Staff {id: row.staff})
MATCH (c:Customer {id: row.customer})
CREATE (s)-[:TOUCHED {id: row.id, at: row.at, store: row.store, stage: row.stage,
                      channel: row.channel, joint_event: row.joint_event,
                      evidence: row.evidence, voided: row.voided}]->(c)
