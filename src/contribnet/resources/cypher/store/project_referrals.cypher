// A staff member or an owner (customer) referred a customer to a store.
// Parameters: $rows [{id, at, customer, to_store, referrer_staff?, referrer_customer?, voided}].
UNWIND $rows AS row
MATCH (c:Customer {id: row.customer})
CALL (row) {
  OPTIONAL MATCH (s:Staff {id: row.referrer_staff})
  OPTIONAL MATCH (o:Customer {id: row.referrer_customer})
  RETURN coalesce(s, o) AS referrer
}
CREATE (referrer)-[:REFERRED {id: row.id, at: row.at, to_store: row.to_store,
                              voided: row.voided}]->(c)
