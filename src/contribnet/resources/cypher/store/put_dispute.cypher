// Record a new dispute (its resolution is a node of its own, written once), with the marker of
// its open line: the uniqueness constraint on (OpenDispute.deal, OpenDispute.staff) makes a
// second open dispute on the line fail (a ConstraintError), even between concurrent writers;
// the marker is deleted with the resolution (put_dispute_resolution).
// Parameters: $id, $staff, $deal, $closed_at, $opened_at (DateTime), $record (JSON).
CREATE (:OpenDispute {deal: $deal, staff: $staff, dispute: $id})
CREATE (:Dispute {id: $id, staff: $staff, deal: $deal, closed_at: $closed_at,
                  opened_at: $opened_at, record: $record})
