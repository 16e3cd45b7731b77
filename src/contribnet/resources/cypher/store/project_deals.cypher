// (customer)-[:PLACED]->(deal)-[:AT]->(store), (closer:Staff)-[:CLOSED]->(deal).
// Parameters: $rows [{id, customer, store, staff, closed_at, amount, reward_pool, points_pool?,
// voided}]; closed_at is ISO 8601 text.
// Instants arrive as ISO 8601 text and become DateTimes here: the Python driver packs a DateTime
// parameter in ~60 us of client CPU (0.6 s per 10,000-row batch), text in next to none.
UNWIND $rows AS row
MATCH (c:Customer {id: row.customer})
MATCH (p:Staff {id: row.staff})
MERGE (s:Store {id: row.store})
CREATE (d:Deal {id: row.id, closed_at: datetime(row.closed_at), amount: row.amount,
                reward_pool: row.reward_pool, points_pool: row.points_pool,
                voided: row.voided})
CREATE (c)-[:PLACED]->(d)-[:AT]->(s)
CREATE (p)-[:CLOSED]->(d)
