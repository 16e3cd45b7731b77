// Test fixture: settled credit in the shape the settlement service writes, until that service
// exists. One (:Deal)-[:CREDITED]->(:Staff|:Customer) per contributor of the deal's current
// settlement. Parameters: $rows [{deal, staff?, customer?, settlement, amount, share, points}].
UNWIND $rows AS row
MATCH (d:Deal {id: row.deal})
CALL (row) {
  OPTIONAL MATCH (s:Staff {id: row.staff})
  OPTIONAL MATCH (c:Customer {id: row.customer})
  RETURN coalesce(s, c) AS contributor
}
CREATE (d)-[:CREDITED {settlement: row.settlement, amount: row.amount, share: row.share,
                       points: row.points, model: 'rules', policy: 'default',
                       policy_version: 1}]->(contributor)
