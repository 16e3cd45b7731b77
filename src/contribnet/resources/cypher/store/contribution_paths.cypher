// Per customer: their live contribution items in time order -- touches by stage, staff referrals
// as 'referral', owner referrals as 'owner_referral' (a customer's referral of themselves left
// out), handovers that include them as 'handover'; at one instant a touch, then a referral, then a
// handover, then by id -- and the close instants of their live deals, in order. Every customer
// with an item or a live deal. Training data of the learned credit models (credit/learned.py).
// Instants come back as ISO text, which the driver reads far faster than temporal values.
// Returns: items [[at, stage]], closes [at].
// Example: {items: [['2025-01-02T00:00Z', 'owner_referral'], ['2025-01-03T03:00Z', 'event']],
//   closes: ['2025-01-10T00:00Z']}
MATCH (c:Customer)
WITH c,
     COLLECT {
       CALL (c) {
         MATCH (:Staff)-[t:TOUCHED]->(c)
         WHERE NOT coalesce(t.voided, false)
         RETURN t.at AS at, 0 AS rank, t.id AS id, t.stage AS stage
         UNION ALL
         MATCH (referrer)-[r:REFERRED]->(c)
         WHERE NOT coalesce(r.voided, false) AND referrer <> c
         RETURN r.at AS at, 1 AS rank, r.id AS id,
                CASE WHEN referrer:Staff THEN 'referral' ELSE 'owner_referral' END AS stage
         UNION ALL
         MATCH (h:Handover)-[:INCLUDES]->(c)
         WHERE NOT coalesce(h.voided, false)
         RETURN h.at AS at, 2 AS rank, h.id AS id, 'handover' AS stage
       }
       WITH at, rank, id, stage ORDER BY at, rank, id
       RETURN [toString(at), stage]
     } AS items,
     COLLECT {
       MATCH (c)-[:PLACED]->(d:Deal)
       WHERE NOT coalesce(d.voided, false)
       WITH d ORDER BY d.closed_at
       RETURN toString(d.closed_at)
     } AS closes
WHERE size(items) > 0 OR size(closes) > 0
RETURN items, closes
