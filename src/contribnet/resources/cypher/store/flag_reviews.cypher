// Reviews of flags: of the flags $flags, or every one ($flags null), in the order recorded.
// Parameters: $flags (a list of flag ids, or null). Returns flag, record (JSON).
MATCH (r:FlagReview)
WHERE $flags IS NULL OR r.flag IN $flags
RETURN r.flag AS flag, r.record AS record
ORDER BY r.reviewed_at, r.flag
