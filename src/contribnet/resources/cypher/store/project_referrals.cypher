// A staff member or an owner (customer) referred a customer to a store.
// Parameters: $rows [{id, at (ISO 8601 text), customer, to_store, referrer_staff?,
// referrer_customer?, voided}].
// Instants arrive as ISO 8601 text and become DateTimes here: the Python driver packs a DateTime
// parameter in ~60 us of client CPU (0.6 s per 10,000-row batch), text in next to none.
UNWIND $rows AS row
MATCH (c:Customer {id: row.customer})
CALL (row) {
  OPTIONAL MATCH (s:Staff {id: row.referrer_staff})
  OPTIONAL MATCH (o:Customer {id: row.referrer_customer})
  RETURN coalesce(s, o) AS referrer
}
CREATE (referrer)-[:REFERRED {id: row.id, at: datetime(row.at), to_store: row.to_store,
                              voided: row.voided}]->(c)
