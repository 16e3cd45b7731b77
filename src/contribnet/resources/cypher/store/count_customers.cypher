// How many customers the graph holds (from Neo4j's count store: cheap at any size).
// Returns total.
MATCH (c:Customer)
RETURN count(c) AS total
