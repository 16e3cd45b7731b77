// Append an adjustment (the caller has checked, with the deal locked, that its id is new and the
// ledger's rule holds): (:Adjustment)-[:ADJUSTS]->(:Deal).
// Parameters: $id, $deal, $closed_at (DATETIME), $from_staff, $to_staff, $amount, $created_at,
//   $record (JSON).
MATCH (d:Deal {id: $deal})
CREATE (a:Adjustment {id: $id, deal: $deal, closed_at: $closed_at, from_staff: $from_staff,
                      to_staff: $to_staff, amount: $amount, created_at: $created_at,
                      record: $record})
CREATE (a)-[:ADJUSTS]->(d)
