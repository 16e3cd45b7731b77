// The credit engine's inputs for many deals in one read: each non-voided deal's event, its
// customer's record, and the customer's non-voided touches (fields), referrals, handovers and the
// joint events their touches name (recorded events). The store then adds the staff's employment
// spells and the stores involved. Instants are returned as ISO text, which the driver reads far
// faster than temporal values.
// Parameters: $ids (deal ids).
// Returns: id, deal (JSON), customer (JSON or null), touches [{id, at, staff, store, stage, ...}],
//   referrals, handovers, joint_events (lists of {payload, voided}).
// Example: {id: 'd-1', deal: '{"id":"d-1",...}', customer: '{"id":"c-1",...}',
//   touches: [{id: 't-1', at: '2025-01-03T03:00:00Z', staff: 'sf-x', ...}], referrals: [...], ...}
UNWIND $ids AS id
MATCH (d:Deal {id: id})
WHERE NOT coalesce(d.voided, false)
MATCH (e:Event {key: id})
MATCH (c:Customer)-[:PLACED]->(d)
CALL (c) {
  OPTIONAL MATCH (ce:Event {key: c.id})
  RETURN CASE WHEN ce.type = 'customer' THEN ce.payload END AS customer
}
CALL (c) {
  MATCH (s:Staff)-[t:TOUCHED]->(c)
  RETURN collect(t {.*, at: toString(t.at), staff: s.id, customer: c.id}) AS touches
}
CALL (c) {
  MATCH ()-[r:REFERRED]->(c)
  MATCH (re:Event {key: r.id})
  RETURN collect({payload: re.payload, voided: coalesce(r.voided, false)}) AS referrals
}
CALL (c) {
  MATCH (h:Handover)-[:INCLUDES]->(c)
  MATCH (he:Event {key: h.id})
  RETURN collect({payload: he.payload, voided: coalesce(h.voided, false)}) AS handovers
}
CALL (touches) {
  UNWIND touches AS t
  WITH DISTINCT t.joint_event AS joint_event_id
  WHERE joint_event_id IS NOT NULL
  MATCH (j:JointEvent {id: joint_event_id})
  MATCH (je:Event {key: j.id})
  RETURN collect({payload: je.payload, voided: coalesce(j.voided, false)}) AS joint_events
}
RETURN id, e.payload AS deal, customer, touches, referrals, handovers, joint_events
