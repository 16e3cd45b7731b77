// The fraud rules' deals and referrals: live deals closed, and live referrals made, in
// [$start, $end) (null: open), as their recorded events, with when the service received them.
// Parameters: $start, $end (DateTime or null). Returns payload (canonical JSON), recorded_at
// (ISO text or null).
// Example: {payload: '{"amount":22800000,...,"type":"deal"}', recorded_at: '2026-12-02T11:30Z'}
CALL () {
  MATCH (d:Deal)
  WHERE ($start IS NULL OR d.closed_at >= $start) AND ($end IS NULL OR d.closed_at < $end)
    AND NOT coalesce(d.voided, false)
  RETURN d.id AS id
  UNION ALL
  MATCH ()-[r:REFERRED]->(:Customer)
  WHERE ($start IS NULL OR r.at >= $start) AND ($end IS NULL OR r.at < $end)
    AND NOT coalesce(r.voided, false)
  RETURN r.id AS id
}
MATCH (e:Event {key: id})
RETURN e.payload AS payload, toString(e.recorded_at) AS recorded_at
