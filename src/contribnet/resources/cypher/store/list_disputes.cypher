// Disputes, filtered (each filter null: none), in the order opened.
// Parameters: $status ("open", "resolved" or null), $staff, $deal, $start, $end (DateTime:
// the deal's close in [$start, $end)). Returns record (JSON), resolution (JSON or null).
MATCH (d:Dispute)
WHERE ($staff IS NULL OR d.staff = $staff) AND ($deal IS NULL OR d.deal = $deal)
  AND ($start IS NULL OR d.closed_at >= $start) AND ($end IS NULL OR d.closed_at < $end)
OPTIONAL MATCH (r:DisputeResolution {dispute: d.id})
WITH d, r
WHERE $status IS NULL OR ($status = "open" AND r IS NULL)
   OR ($status = "resolved" AND r IS NOT NULL)
RETURN d.record AS record, r.record AS resolution
ORDER BY d.opened_at, d.id
