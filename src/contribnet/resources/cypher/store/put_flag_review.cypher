// Record a leader's review of a flag (the caller has checked that it has none; the uniqueness
// constraint on the flag's id is the last word between concurrent writers).
// Parameters: $flag, $decision, $reviewed_at (DateTime), $record (JSON).
CREATE (:FlagReview {flag: $flag, decision: $decision, reviewed_at: $reviewed_at,
                     record: $record})
