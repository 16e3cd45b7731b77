// An activity (a nurturing action that earns points): (:Staff)-[:PERFORMED]->(:Activity), and
// (:Activity)-[:WITH]->(:Customer) when it names a customer. Its evidence stays in its log entry.
// Parameters: $rows [{id, at, staff, customer?, action, voided}].
UNWIND $rows AS row
MATCH (s:Staff {id: row.staff})
CREATE (a:Activity {id: row.id, at: row.at, staff: row.staff, customer: row.customer,
                    action: row.action, voided: row.voided})
CREATE (s)-[:PERFORMED]->(a)
WITH a, row
WHERE row.customer IS NOT NULL
MATCH (c:Customer {id: row.customer})
CREATE (a)-[:WITH]->(c)
