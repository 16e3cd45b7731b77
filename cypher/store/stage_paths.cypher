// Per customer: the stages of their non-voided touches in time order, and whether they have a
// non-voided deal. Training data for the data-driven credit models.
MATCH (c:Customer)<-[t:TOUCHED]-()
WHERE NOT coalesce(t.voided, false)
WITH c, t ORDER BY c.id, t.at, t.id
WITH c, collect(t.stage) AS stages
RETURN stages,
       EXISTS { MATCH (c)-[:PLACED]->(d:Deal) WHERE NOT coalesce(d.voided, false) } AS converted
