// The number of the last write transaction of events to commit (store/commit_batch.cypher); 0
// before the first. Run in a write transaction that is rolled back: setting the counter takes
// its lock, so this waits for a writer that holds it to commit, and every transaction numbered
// up to the answer is then wholly visible (Neo4j reads are read-committed: a reader could see
// part of a transaction that is still being applied).
// Returns: last.
OPTIONAL MATCH (s:Sequence {name: 'commits'})
SET s.last = s.last
RETURN coalesce(s.last, 0) AS last
