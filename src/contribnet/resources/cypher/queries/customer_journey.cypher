// Question: What happened to one customer, in order? Every non-voided touch, referral (to them),
//   handover (of them) and deal, oldest first.
// Parameters:
//   $customer :: STRING  the customer's id
// Returns: at, kind, stage, who, store, detail
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {"customer": "c-0000007"}
//   at | kind | stage | who | store | detail
//   2024-11-01T06:16:06Z | touch | lead | sf-sh-nio-1-03 | st-sh-nio-1 | app
//   2024-11-06T05:28:59Z | touch | reception | sf-sh-nio-1-03 | st-sh-nio-1 | walk_in
//   2024-11-06T05:30:59Z | touch | reception | sf-sh-nio-1-03 | st-sh-nio-1 | walk_in
MATCH (c:Customer {id: $customer})
CALL (c) {
  MATCH (s:Staff)-[t:TOUCHED]->(c)
  WHERE NOT coalesce(t.voided, false)
  RETURN t.at AS at, 'touch' AS kind, t.stage AS stage, s.id AS who, t.store AS store,
         coalesce('joint event ' + t.joint_event, t.channel) AS detail, t.id AS id
  UNION ALL
  MATCH (referrer)-[r:REFERRED]->(c)
  WHERE NOT coalesce(r.voided, false)
  RETURN r.at AS at, 'referral' AS kind, null AS stage, referrer.id AS who, r.to_store AS store,
         CASE WHEN referrer:Customer THEN 'by owner' ELSE 'by staff' END AS detail, r.id AS id
  UNION ALL
  MATCH (from:Staff)-[:HANDED_OVER]->(h:Handover)-[:INCLUDES]->(c), (h)-[:TO]->(to:Staff)
  WHERE NOT coalesce(h.voided, false)
  RETURN h.at AS at, 'handover' AS kind, null AS stage, from.id AS who, to.store AS store,
         h.id + ' to ' + to.id AS detail, h.id AS id
  UNION ALL
  MATCH (c)-[:PLACED]->(d:Deal)-[:AT]->(st:Store), (closer:Staff)-[:CLOSED]->(d)
  WHERE NOT coalesce(d.voided, false)
  RETURN d.closed_at AS at, 'deal' AS kind, null AS stage, closer.id AS who, st.id AS store,
         d.id + ' amount ' + toString(d.amount) + ' fen' AS detail, d.id AS id
}
RETURN at, kind, stage, who, store, detail
ORDER BY at, id
