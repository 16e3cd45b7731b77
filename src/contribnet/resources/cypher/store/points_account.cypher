// What one points account's ledger is computed from: the staff member's live (not voided)
// activities (canonical JSON from the log), the regions of the stores of their employment spells,
// the points of the current settlements crediting the owner, and the account's redemptions and
// reversals. Spells and policies are read by store/staff_spells and store/points_policies.
// Parameters: $staff (a staff id, or null for an owner), $owner (a customer id, or null), $key.
// Returns one row: activities [JSON], regions [{store, region}], credits [{deal, settlement,
//   closed_at, points}], redemptions [JSON], reversals [JSON].
CALL () {
  MATCH (:Staff {id: $staff})-[:PERFORMED]->(a:Activity)
  WHERE NOT a.voided
  MATCH (e:Event {key: a.id})
  RETURN collect(e.payload) AS activities
}
CALL () {
  MATCH (:Staff {id: $staff})-[:EMPLOYED_AT]->(s:Store)
  WHERE s.region IS NOT NULL
  WITH DISTINCT s
  RETURN collect({store: s.id, region: s.region}) AS regions
}
CALL () {
  MATCH (d:Deal)-[c:CREDITED]->(:Customer {id: $owner})
  WHERE c.points > 0
  RETURN collect({deal: d.id, settlement: c.settlement, closed_at: d.closed_at,
                  points: c.points}) AS credits
}
CALL () {
  MATCH (r:Redemption {account: $key})
  WITH r ORDER BY r.created_at, r.id
  RETURN collect(r.record) AS redemptions
}
CALL () {
  MATCH (v:RedemptionReversal {account: $key})
  WITH v ORDER BY v.created_at, v.redemption
  RETURN collect(v.record) AS reversals
}
RETURN activities, regions, credits, redemptions, reversals
