// Record a dispute's resolution; the uniqueness constraint on DisputeResolution.dispute makes
// a second one fail (a ConstraintError), even between concurrent writers. The line's
// OpenDispute marker goes with it, so the line may be disputed again.
// Parameters: $dispute (its id), $record (JSON). Returns how many were written (0: no dispute).
MATCH (d:Dispute {id: $dispute})
CREATE (:DisputeResolution {dispute: $dispute, record: $record})
WITH d
OPTIONAL MATCH (open:OpenDispute {dispute: d.id})
DELETE open
RETURN count(d) AS written
