// The ids (and voided flags) of everything recorded about one customer; the store then reads
// each item's event from the log. Parameters: $customer. Returns one row.
OPTIONAL MATCH (c:Customer {id: $customer})
CALL {
  WITH c
  MATCH ()-[t:TOUCHED]->(c)
  RETURN collect({id: t.id, voided: coalesce(t.voided, false)}) AS touches,
         collect(DISTINCT t.joint_event) AS joint_event_ids
}
CALL {
  WITH c
  MATCH ()-[r:REFERRED]->(c)
  RETURN collect({id: r.id, voided: coalesce(r.voided, false)}) AS referrals
}
CALL {
  WITH c
  MATCH (h:Handover)-[:INCLUDES]->(c)
  RETURN collect({id: h.id, voided: coalesce(h.voided, false)}) AS handovers
}
CALL {
  WITH c
  MATCH (c)-[:PLACED]->(d:Deal)
  RETURN collect({id: d.id, voided: coalesce(d.voided, false)}) AS deals
}
CALL {
  WITH joint_event_ids
  UNWIND joint_event_ids AS joint_event_id
  MATCH (j:JointEvent {id: joint_event_id})
  RETURN collect({id: j.id, voided: coalesce(j.voided, false)}) AS joint_events
}
RETURN c IS NOT NULL AS known,
       touches, referrals, handovers, joint_events, deals
