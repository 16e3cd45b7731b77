// Everything recorded about one customer, in one read: the customer's event, the touches with
// their fields, and the referrals, handovers, deals, lead assignments and joint events (those
// the touches name) with their recorded events (canonical JSON) and voided flags. Instants come
// back as ISO text, which the driver reads far faster than temporal values; received times are
// null for events stored before they were kept. Parameters: $customer.
// Returns known (whether any event names the customer), customer {payload, recorded_at} or null,
//   touches [{id, at, staff, store, stage, ..., voided, recorded_at}], and per other kind
//   [{payload, voided, recorded_at}].
OPTIONAL MATCH (c:Customer {id: $customer})
OPTIONAL MATCH (ce:Event {key: $customer})
CALL (c) {
  MATCH (s:Staff)-[t:TOUCHED]->(c)
  RETURN collect(t {.*, staff: s.id, customer: c.id, at: toString(t.at),
                    recorded_at: toString(t.recorded_at)}) AS touches,
         collect(DISTINCT t.joint_event) AS joint_event_ids
}
CALL (c) {
  MATCH ()-[r:REFERRED]->(c)
  MATCH (e:Event {key: r.id})
  RETURN collect({payload: e.payload, voided: coalesce(r.voided, false),
                  recorded_at: toString(e.recorded_at)}) AS referrals
}
CALL (c) {
  MATCH (h:Handover)-[:INCLUDES]->(c)
  MATCH (e:Event {key: h.id})
  RETURN collect({payload: e.payload, voided: coalesce(h.voided, false),
                  recorded_at: toString(e.recorded_at)}) AS handovers
}
CALL (c) {
  MATCH (c)-[:PLACED]->(d:Deal)
  MATCH (e:Event {key: d.id})
  RETURN collect({payload: e.payload, voided: coalesce(d.voided, false),
                  recorded_at: toString(e.recorded_at)}) AS deals
}
CALL (c) {
  MATCH (a:LeadAssignment)-[:OF_LEAD]->(c)
  MATCH (e:Event {key: a.id})
  RETURN collect({payload: e.payload, voided: coalesce(a.voided, false),
                  recorded_at: toString(e.recorded_at)}) AS lead_assignments
}
CALL (joint_event_ids) {
  UNWIND joint_event_ids AS joint_event_id
  MATCH (j:JointEvent {id: joint_event_id})
  MATCH (e:Event {key: j.id})
  RETURN collect({payload: e.payload, voided: coalesce(j.voided, false),
                  recorded_at: toString(e.recorded_at)}) AS joint_events
}
RETURN c IS NOT NULL AS known,
       CASE WHEN ce.type = 'customer'
         THEN {payload: ce.payload, recorded_at: toString(ce.recorded_at)} END AS customer,
       touches, referrals, handovers, joint_events, deals, lead_assignments
