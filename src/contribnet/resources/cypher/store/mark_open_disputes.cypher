// Give each open dispute recorded before OpenDispute markers existed the marker of its line
// (one per line: the first opened keeps it). Run when the store opens; idempotent.
// Parameters: none. Returns how many markers were written.
MATCH (d:Dispute)
WHERE NOT EXISTS { MATCH (:DisputeResolution {dispute: d.id}) }
  AND NOT EXISTS { MATCH (:OpenDispute {deal: d.deal, staff: d.staff}) }
WITH d ORDER BY d.opened_at, d.id
WITH d.deal AS deal, d.staff AS staff, collect(d.id)[0] AS dispute
MERGE (open:OpenDispute {deal: deal, staff: staff})
  ON CREATE SET open.dispute = dispute
RETURN count(open) AS written
