// Everything recorded about one customer: touches with their fields, and the ids (and voided
// flags) of the rest (lead assignments among them), whose events the store then reads from the log. Parameters: $customer.
OPTIONAL MATCH (c:Customer {id: $customer})
CALL (c) {
  MATCH (s:Staff)-[t:TOUCHED]->(c)
  RETURN collect(t {.*, staff: s.id, customer: c.id}) AS touches,
         collect(DISTINCT t.joint_event) AS joint_event_ids
}
CALL (c) {
  MATCH ()-[r:REFERRED]->(c)
  RETURN collect({id: r.id, voided: coalesce(r.voided, false)}) AS referrals
}
CALL (c) {
  MATCH (h:Handover)-[:INCLUDES]->(c)
  RETURN collect({id: h.id, voided: coalesce(h.voided, false)}) AS handovers
}
CALL (c) {
  MATCH (c)-[:PLACED]->(d:Deal)
  RETURN collect({id: d.id, voided: coalesce(d.voided, false)}) AS deals
}
CALL (c) {
  MATCH (a:LeadAssignment)-[:OF_LEAD]->(c)
  RETURN collect({id: a.id, voided: coalesce(a.voided, false)}) AS lead_assignments
}
CALL (joint_event_ids) {
  UNWIND joint_event_ids AS joint_event_id
  MATCH (j:JointEvent {id: joint_event_id})
  RETURN collect({id: j.id, voided: coalesce(j.voided, false)}) AS joint_events
}
RETURN c IS NOT NULL AS known, touches, referrals, handovers, joint_events, deals,
       lead_assignments
