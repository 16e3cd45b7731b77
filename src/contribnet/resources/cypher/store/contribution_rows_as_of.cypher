// store/contribution_rows of the customers $customers as they were when the write transaction
// numbered $mark committed (store/commit_batch.cypher): an item or deal counts if its log entry
// was written by a transaction numbered up to $mark (or before transactions were numbered) and
// no void written by then targets it. A log entry whose transaction is not wholly visible yet
// has no (:Commit) to be found: it does not count.
// Parameters: $customers, $mark. Returns: customer, at [int], stages [stage], closes [int].
// Example: {customers: ['c-1'], mark: 42} -> {customer: 'c-1',
//   at: [1735776000000000, 1735873200000000], stages: ['owner_referral', 'event'],
//   closes: [1736467200000000]}
UNWIND $customers AS customer_id
MATCH (c:Customer {id: customer_id})
WITH c,
     COLLECT {
       CALL (c) {
         MATCH (:Staff)-[t:TOUCHED]->(c)
         RETURN t.at AS at, 0 AS rank, t.id AS id, t.stage AS stage, t.batch AS batch
         UNION ALL
         MATCH (referrer)-[r:REFERRED]->(c)
         WHERE referrer <> c
         MATCH (e:Event {key: r.id})
         RETURN r.at AS at, 1 AS rank, r.id AS id,
                CASE WHEN referrer:Staff THEN 'referral' ELSE 'owner_referral' END AS stage,
                e.batch AS batch
         UNION ALL
         MATCH (h:Handover)-[:INCLUDES]->(c)
         MATCH (e:Event {key: h.id})
         RETURN h.at AS at, 2 AS rank, h.id AS id, 'handover' AS stage, e.batch AS batch
       }
       WITH at, rank, id, stage, batch
       WHERE (batch IS NULL OR EXISTS { MATCH (k:Commit {batch: batch}) WHERE k.seq <= $mark })
         AND NOT EXISTS {
           MATCH (v:Event {target: id})
           WHERE v.batch IS NULL OR EXISTS { MATCH (k:Commit {batch: v.batch}) WHERE k.seq <= $mark }
         }
       WITH at, rank, id, stage ORDER BY at, rank, id
       RETURN [at.epochSeconds * 1000000 + at.microsecond, stage]
     } AS items,
     COLLECT {
       MATCH (c)-[:PLACED]->(d:Deal)
       MATCH (e:Event {key: d.id})
       WHERE (e.batch IS NULL OR EXISTS { MATCH (k:Commit {batch: e.batch}) WHERE k.seq <= $mark })
         AND NOT EXISTS {
           MATCH (v:Event {target: d.id})
           WHERE v.batch IS NULL OR EXISTS { MATCH (k:Commit {batch: v.batch}) WHERE k.seq <= $mark }
         }
       RETURN d.closed_at.epochSeconds * 1000000 + d.closed_at.microsecond
     } AS closes
WHERE size(items) > 0 OR size(closes) > 0
RETURN c.id AS customer, [i IN items | i[0]] AS at, [i IN items | i[1]] AS stages, closes
