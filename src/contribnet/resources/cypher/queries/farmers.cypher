// Question: Which advisors' early-stage work is most often closed by others ("farmers")? For each
//   staff member: the customers they touched at an early stage (non-voided), and of those who then
//   placed a deal (their first non-voided deal after that staff member's first early touch) how
//   many were closed by someone else.
// Parameters:
//   $early_stages :: LIST<STRING> = lead,reception,consultation,test_drive,event  the stages that count as early work
//   $min_converted :: INTEGER = 1  only staff with at least this many converted early customers
//   $limit :: INTEGER = 20         at most this many rows
// Returns: staff, name, store, early_customers, converted, closed_by_others, closed_by_self, share_closed_by_others
// Example (the six scenarios, default parameters; first rows):
//   staff            | name      | store          | early_customers | converted | closed_by_others | closed_by_self | share_closed_by_others
//   sf-nio-bj-li     | Li Na     | st-nio-bj-1    | 1               | 1         | 1                | 0              | 1.0
//   sf-nio-hz-x      | Zhou Xin  | st-nio-hz-a    | 1               | 1         | 1                | 0              | 1.0
//   sf-nio-sanya-lin | Lin Hai   | st-nio-sanya-1 | 1               | 1         | 1                | 0              | 1.0
MATCH (s:Staff)-[t:TOUCHED]->(c:Customer)
WHERE NOT coalesce(t.voided, false) AND t.stage IN $early_stages
WITH s, c, min(t.at) AS first_early
OPTIONAL CALL (c, first_early) {
  MATCH (closer:Staff)-[:CLOSED]->(d:Deal)<-[:PLACED]-(c)
  WHERE NOT coalesce(d.voided, false) AND d.closed_at >= first_early
  RETURN closer
  ORDER BY d.closed_at, d.id
  LIMIT 1
}
WITH s, count(c) AS early_customers, count(closer) AS converted,
     count(CASE WHEN closer <> s THEN 1 END) AS closed_by_others,
     count(CASE WHEN closer = s THEN 1 END) AS closed_by_self
WHERE converted >= $min_converted
RETURN s.id AS staff, s.name AS name, s.store AS store, early_customers, converted,
       closed_by_others, closed_by_self,
       round(toFloat(closed_by_others) / converted, 3) AS share_closed_by_others
ORDER BY closed_by_others DESC, share_closed_by_others DESC, staff
LIMIT $limit
