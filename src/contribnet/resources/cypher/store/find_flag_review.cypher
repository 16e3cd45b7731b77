// The review of a flag, if any. Parameters: $flag (the flag's id). Returns record (JSON).
MATCH (r:FlagReview {flag: $flag})
RETURN r.record AS record
