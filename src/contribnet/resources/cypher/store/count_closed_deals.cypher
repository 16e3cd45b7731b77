// How many non-voided deals closed in [$start, $end) (with $unsettled: not settled yet).
// Parameters: $start, $end (DATETIME), $unsettled (BOOLEAN). Returns: total.
// The hint pins the range seek, as in closed_deals.cypher.
MATCH (d:Deal)
USING INDEX SEEK d:Deal(closed_at)
WHERE d.closed_at >= $start AND d.closed_at < $end
  AND NOT coalesce(d.voided, false)
  AND (NOT $unsettled OR d.settlement IS NULL)
RETURN count(d) AS total
