// How many non-voided deals closed in [$start, $end) (with $unsettled: not settled yet).
// Parameters: $start, $end (DATETIME), $unsettled (BOOLEAN). Returns: total.
MATCH (d:Deal)
WHERE d.closed_at >= $start AND d.closed_at < $end
  AND NOT coalesce(d.voided, false)
  AND (NOT $unsettled OR d.settlement IS NULL)
RETURN count(d) AS total
