// Parameters: $rows [{id, name, brand, city, region, mall?}].
UNWIND $rows AS row
MERGE (s:Store {id: row.id})
SET s.name = row.name, s.brand = row.brand, s.city = row.city, s.region = row.region,
    s.mall = row.mall
MERGE (b:Brand {id: row.brand})
MERGE (s)-[:OF_BRAND]->(b)
MERGE (r:Region {name: row.region})
MERGE (c:City {name: row.city})
MERGE (c)-[:IN_REGION]->(r)
MERGE (s)-[:IN_CITY]->(c)
