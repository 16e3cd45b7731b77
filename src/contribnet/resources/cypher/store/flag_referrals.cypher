// The fraud rules' referrals: the live referrals made in [$start, $end) (null: open), in one row
// (a few for each hundred deals), each a list [id, at, customer, to_store, referrer_staff,
// referrer_customer, recorded_at (ISO text or null)].
// Parameters: $start, $end (DateTime or null). Returns referrals.
// Example: {referrals: [['r-1', '2025-01-03T00:00Z', 'c-1', 'st-a', 'sf-z', null,
//   '2026-12-02T11:30:00.25Z']]}
MATCH (referrer)-[r:REFERRED]->(c:Customer)
WHERE ($start IS NULL OR r.at >= $start) AND ($end IS NULL OR r.at < $end)
  AND NOT coalesce(r.voided, false)
OPTIONAL MATCH (e:Event {key: r.id})
RETURN collect([r.id, toString(r.at), c.id, r.to_store,
                CASE WHEN referrer:Staff THEN referrer.id END,
                CASE WHEN referrer:Customer THEN referrer.id END,
                toString(e.recorded_at)]) AS referrals
