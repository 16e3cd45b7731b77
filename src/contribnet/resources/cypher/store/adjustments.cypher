// Adjustments of deals closed in [$start, $end), optionally of one deal or one staff member (either
// side), in the order recorded. Parameters: $start, $end (DATETIME), $deal, $staff (or null).
// Returns: record (JSON).
// The hint pins the range seek on closed_at, as in closed_deals.cypher.
MATCH (a:Adjustment)
USING INDEX SEEK a:Adjustment(closed_at)
WHERE a.closed_at >= $start AND a.closed_at < $end
  AND ($deal IS NULL OR a.deal = $deal)
  AND ($staff IS NULL OR a.from_staff = $staff OR a.to_staff = $staff)
RETURN a.record AS record
ORDER BY a.created_at, a.id
