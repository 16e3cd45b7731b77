// A (bulk) handover: (from:Staff)-[:HANDED_OVER]->(:Handover)-[:TO]->(to:Staff), and
// (:Handover)-[:INCLUDES]->(:Customer) for each customer handed.
// Parameters: $rows [{id, at (ISO 8601 text), from_staff, to_staff, customers, voided}].
// Instants arrive as ISO 8601 text and become DateTimes here: the Python driver packs a DateTime
// parameter in ~60 us of client CPU (0.6 s per 10,000-row batch), text in next to none.
UNWIND $rows AS row
MATCH (f:Staff {id: row.from_staff})
MATCH (t:Staff {id: row.to_staff})
CREATE (h:Handover {id: row.id, at: datetime(row.at), voided: row.voided})
CREATE (f)-[:HANDED_OVER]->(h)-[:TO]->(t)
WITH h, row
UNWIND row.customers AS customer_id
MATCH (c:Customer {id: customer_id})
MERGE (h)-[:INCLUDES]->(c)
