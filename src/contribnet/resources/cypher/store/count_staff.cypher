// How many staff members have an employment spell. Returns total.
MATCH (p:Staff) WHERE EXISTS { (p)-[:EMPLOYED_AT]->() }
RETURN count(p) AS total
