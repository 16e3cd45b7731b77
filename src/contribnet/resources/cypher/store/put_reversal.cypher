// Record the reversal of a redemption (the caller has checked that it has none):
// (:RedemptionReversal)-[:REVERSES]->(:Redemption).
// Parameters: $redemption, $account, $points, $created_at, $record (JSON).
MATCH (r:Redemption {id: $redemption})
CREATE (v:RedemptionReversal {redemption: $redemption, account: $account, points: $points,
                              created_at: $created_at, record: $record})
CREATE (v)-[:REVERSES]->(r)
