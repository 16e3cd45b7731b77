// Record a redemption (the caller has checked, with the account locked, that its id is new and
// the balance covers it): (:PointsAccount)-[:REDEEMED]->(:Redemption), and
// (:Staff|:Customer)-[:REDEEMED]->(:Redemption) for the analysts.
// Parameters: $id, $account (kind:holder), $kind (staff or owner), $holder, $points,
//   $created_at, $record (JSON).
MATCH (a:PointsAccount {key: $account})
CREATE (r:Redemption {id: $id, account: $account, kind: $kind, holder: $holder,
                      points: $points, created_at: $created_at, record: $record})
CREATE (a)-[:REDEEMED]->(r)
WITH r
CALL (r) {
  WITH r WHERE r.kind = 'staff'
  MERGE (s:Staff {id: r.holder})
  CREATE (s)-[:REDEEMED]->(r)
}
CALL (r) {
  WITH r WHERE r.kind = 'owner'
  MERGE (o:Customer {id: r.holder})
  CREATE (o)-[:REDEEMED]->(r)
}
