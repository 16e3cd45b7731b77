// Per customer, as bare values: their live contribution items in time order -- touches by
// stage, staff referrals as 'referral', owner referrals as 'owner_referral' (a customer's
// referral of themselves left out), handovers that include them as 'handover'; at one instant a
// touch, then a referral, then a handover, then by id -- and the closes of their live deals.
// Every customer with an item or a live deal. What store/contribution_paths.cypher returns,
// with instants as whole microseconds since 1970-01-01 UTC and items as two lists: integers
// and short strings are all the driver decodes (no temporal values, no pairs).
// Training data of the learned credit models (credit/context.py, encode_training_rows).
// Returns: customer, at [int], stages [stage], closes [int].
// Example: {customer: 'c-1', at: [1735776000000000, 1735873200000000],
//   stages: ['owner_referral', 'event'], closes: [1736467200000000]}
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
       RETURN [at.epochSeconds * 1000000 + at.microsecond, stage]
     } AS items,
     COLLECT {
       MATCH (c)-[:PLACED]->(d:Deal)
       WHERE NOT coalesce(d.voided, false)
       RETURN d.closed_at.epochSeconds * 1000000 + d.closed_at.microsecond
     } AS closes
WHERE size(items) > 0 OR size(closes) > 0
RETURN c.id AS customer, [i IN items | i[0]] AS at, [i IN items | i[1]] AS stages, closes
