// A (bulk) handover: (from:Staff)-[:HANDED_OVER]->(:Handover)-[:TO]->(to:Staff), and
// (:Handover)-[:INCLUDES]->(:Customer) for each customer handed.
// Parameters: $rows [{id, at, from_staff, to_staff, customers, voided}].
UNWIND $rows AS row
MATCH (f:Staff {id: row.from_staff})
MATCH (t:Staff {id: row.to_staff})
CREATE (h:Handover {id: row.id, at: row.at, voided: row.voided})
CREATE (f)-[:HANDED_OVER]->(h)-[:TO]->(t)
WITH h, row
UNWIND row.customers AS customer_id
MATCH (c:Customer {id: customer_id})
MERGE (h)-[:INCLUDES]->(c)
