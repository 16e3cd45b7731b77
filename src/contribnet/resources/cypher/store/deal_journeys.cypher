// The credit engine's inputs for many deals in one read, as one row. Per non-voided deal: its
// event, its customer's record, the customer's other live deals, the customer's touches (fields),
// referrals, handovers, lead assignments and the joint events their touches name (recorded
// events, with voided flags); once for all the deals: the employment spells of every staff member involved and the
// records of every store involved (deals of one read share most of them). Instants come back as
// ISO text, which the driver reads far faster than temporal values.
// Parameters: $ids (deal ids).
// Returns: journeys [{id, deal (JSON), customer (JSON or null), deals [{id, closed_at (text)}],
//   touches [{id, at (text), staff, store, stage, ..., voided}], referrals, handovers,
//   joint_events [{payload, voided}]}], spells [{staff, from, payload}], stores [payload].
// Example: {journeys: [{id: 'd-0000001', deal: '{"id":"d-0000001",...}', customer: '{...}',
//   deals: [], touches: [{id: 't-0000001-1', at: '2024-01-03T03:00:00Z', staff: 'sf-sh-nio-1-01',
//   ...}], referrals: [], handovers: [], joint_events: []}], spells: [{staff: 'sf-sh-nio-1-01',
//   from: '2024-01-01', payload: '{...}'}], stores: ['{"id":"st-sh-nio-1",...}', ...]}
UNWIND $ids AS id
MATCH (d:Deal {id: id})
WHERE NOT coalesce(d.voided, false)
MATCH (e:Event {key: id})
MATCH (c:Customer)-[:PLACED]->(d)
MATCH (closer:Staff)-[:CLOSED]->(d)
MATCH (d)-[:AT]->(at:Store)
CALL (c) {
  OPTIONAL MATCH (ce:Event {key: c.id})
  RETURN CASE WHEN ce.type = 'customer' THEN ce.payload END AS customer
}
CALL (c, d) {
  MATCH (c)-[:PLACED]->(other:Deal)
  WHERE other <> d AND NOT coalesce(other.voided, false)
  RETURN collect({id: other.id, closed_at: toString(other.closed_at)}) AS deals
}
CALL (c) {
  MATCH (s:Staff)-[t:TOUCHED]->(c)
  RETURN collect(t {.*, hash: null, recorded_at: null, at: toString(t.at), staff: s.id,
                    customer: c.id}) AS touches
}
CALL (c) {
  MATCH (referrer)-[r:REFERRED]->(c)
  MATCH (re:Event {key: r.id})
  RETURN collect({payload: re.payload, voided: coalesce(r.voided, false)}) AS referrals,
         collect(DISTINCT r.to_store) AS referral_stores,
         collect(DISTINCT CASE WHEN referrer:Staff THEN referrer.id END) AS referrers
}
CALL (c) {
  MATCH (from:Staff)-[:HANDED_OVER]->(h:Handover)-[:INCLUDES]->(c)
  MATCH (h)-[:TO]->(to:Staff)
  MATCH (he:Event {key: h.id})
  RETURN collect({payload: he.payload, voided: coalesce(h.voided, false)}) AS handovers,
         collect(DISTINCT from.id) + collect(DISTINCT to.id) AS handover_staff
}
CALL (c) {
  MATCH (a:LeadAssignment)-[:OF_LEAD]->(c)
  MATCH (ae:Event {key: a.id})
  RETURN collect({payload: ae.payload, voided: coalesce(a.voided, false)}) AS lead_assignments,
         collect(DISTINCT a.staff) AS holders
}
CALL (touches) {
  UNWIND touches AS t
  WITH DISTINCT t.joint_event AS joint_event_id
  WHERE joint_event_id IS NOT NULL
  MATCH (j:JointEvent {id: joint_event_id})
  MATCH (je:Event {key: j.id})
  OPTIONAL MATCH (organiser:Store)-[:ORGANISED]->(j)
  WITH j, je, collect(organiser.id) AS organisers
  RETURN collect({payload: je.payload, voided: coalesce(j.voided, false)}) AS joint_events,
         reduce(acc = [], o IN collect(organisers) | acc + o) AS organiser_stores
}
WITH collect({id: id, deal: e.payload, customer: customer, deals: deals, touches: touches,
              referrals: referrals, handovers: handovers, joint_events: joint_events,
              lead_assignments: lead_assignments})
       AS journeys,
     collect([closer.id] + [t IN touches | t.staff] + referrers + handover_staff + holders)
       AS staff_lists,
     collect([at.id] + [t IN touches | t.store] + referral_stores + organiser_stores)
       AS store_lists
CALL (staff_lists) {
  UNWIND staff_lists AS staff_ids
  UNWIND staff_ids AS staff_id
  WITH DISTINCT staff_id
  MATCH (:Staff {id: staff_id})-[spell:EMPLOYED_AT]->(workplace:Store)
  MATCH (se:Event {key: spell.key})
  RETURN collect({staff: staff_id, from: toString(spell.from), payload: se.payload}) AS spells,
         collect(workplace.id) AS workplaces
}
CALL (store_lists, workplaces) {
  UNWIND store_lists + [workplaces] AS store_ids
  UNWIND store_ids AS store_id
  WITH DISTINCT store_id
  MATCH (se:Event {key: store_id})
  WHERE se.type = 'store'
  RETURN collect(se.payload) AS stores
}
RETURN journeys, spells, stores
