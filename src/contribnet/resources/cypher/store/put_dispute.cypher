// Record a new dispute (its resolution is a node of its own, written once).
// Parameters: $id, $staff, $deal, $closed_at, $opened_at (DateTime), $record (JSON).
CREATE (:Dispute {id: $id, staff: $staff, deal: $deal, closed_at: $closed_at,
                  opened_at: $opened_at, record: $record})
