// Record a dispute's resolution; the uniqueness constraint on DisputeResolution.dispute makes
// a second one fail (a ConstraintError), even between concurrent writers.
// Parameters: $dispute (its id), $record (JSON). Returns how many were written (0: no dispute).
MATCH (d:Dispute {id: $dispute})
CREATE (:DisputeResolution {dispute: $dispute, record: $record})
RETURN count(*) AS written
