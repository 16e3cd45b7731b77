// Record new settlements, each becoming its deal's current one: the (:Settlement) record (with its
// full JSON in `record`), (:Settlement)-[:SETTLES]->(:Deal), -[:SUPERSEDES]->(the previous one),
// `d.settlement` pointing at it, and the projection analysts query: the deal's [:CREDITED]
// relationships are replaced by one per contributor of this settlement,
// (:Deal)-[:CREDITED {settlement, amount, share, points, model, policy, policy_version}]->
// (:Staff|:Customer). The superseded settlement stays readable.
// Parameters: $rows [{id, deal, seq, slot, closed_at (ISO text), model, policy, policy_name,
//   policy_version, input_hash, requested_by, created_at (ISO text), supersedes, reason, pool, record,
//   staff: [{id, amount, share, points}], owners: [{id, amount, share, points}]}].
UNWIND $rows AS row
MATCH (d:Deal {id: row.deal})
CREATE (s:Settlement {id: row.id, deal: row.deal, seq: row.seq, slot: row.slot,
                      closed_at: datetime(row.closed_at), model: row.model, policy: row.policy,
                      policy_name: row.policy_name, policy_version: row.policy_version,
                      input_hash: row.input_hash, requested_by: row.requested_by,
                      created_at: datetime(row.created_at), supersedes: row.supersedes,
                      reason: row.reason, pool: row.pool, record: row.record})
CREATE (s)-[:SETTLES]->(d)
SET d.settlement = row.id
WITH d, s, row
CALL (s, row) {
  MATCH (previous:Settlement {id: row.supersedes})
  CREATE (s)-[:SUPERSEDES]->(previous)
}
CALL (d) {
  MATCH (d)-[old:CREDITED]->()
  DELETE old
}
CALL (d, row) {
  UNWIND row.staff AS credit
  MERGE (p:Staff {id: credit.id})
  CREATE (d)-[:CREDITED {settlement: row.id, amount: credit.amount, share: credit.share,
                         points: credit.points, model: row.model, policy: row.policy_name,
                         policy_version: row.policy_version}]->(p)
}
CALL (d, row) {
  UNWIND row.owners AS credit
  MERGE (o:Customer {id: credit.id})
  CREATE (d)-[:CREDITED {settlement: row.id, amount: credit.amount, share: credit.share,
                         points: credit.points, model: row.model, policy: row.policy_name,
                         policy_version: row.policy_version}]->(o)
}
