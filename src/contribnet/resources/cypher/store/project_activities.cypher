// An activity (a nurturing action that earns points): (:Staff)-[:PERFORMED]->(:Activity), and
// (:Activity)-[:WITH]->(:Customer) when it names a customer. Its evidence stays in its log entry.
// Parameters: $rows [{id, at (ISO 8601 text), staff, customer?, action, voided}].
// Instants arrive as ISO 8601 text and become DateTimes here: the Python driver packs a DateTime
// parameter in ~60 us of client CPU (0.6 s per 10,000-row batch), text in next to none.
UNWIND $rows AS row
MATCH (s:Staff {id: row.staff})
CREATE (a:Activity {id: row.id, at: datetime(row.at), staff: row.staff, customer: row.customer,
                    action: row.action, voided: row.voided})
CREATE (s)-[:PERFORMED]->(a)
WITH a, row
WHERE row.customer IS NOT NULL
MATCH (c:Customer {id: row.customer})
CREATE (a)-[:WITH]->(c)
