// Question: Which owners referred friends who referred friends in turn? Chains of owner referrals
//   (customer to customer, non-voided) of at least $min_depth steps, from an owner nobody referred
//   to a friend who referred nobody. Chains longer than 10 steps are not followed.
// Parameters:
//   $min_depth :: INTEGER = 2  the fewest referral steps in a chain
// Returns: root, chain, depth, converted, deals
// Example (the tests' data: scenario 6, whose friend refers a friend who refers another):
//   root      | chain                                            | depth | converted | deals
//   c-s6-tang | ["c-s6-tang", "c-s6-feng", "c-x-gu", "c-x-bai"] | 3     | 2         | ["d-s6-1", "d-x-gu"]
MATCH p = (root:Customer)
          (()-[r:REFERRED WHERE NOT coalesce(r.voided, false)]->(:Customer)){1,10}
          (leaf:Customer)
WHERE length(p) >= $min_depth
  AND NOT EXISTS {
    MATCH (:Customer)-[x:REFERRED]->(root) WHERE NOT coalesce(x.voided, false)
  }
  AND NOT EXISTS {
    MATCH (leaf)-[y:REFERRED]->(:Customer) WHERE NOT coalesce(y.voided, false)
  }
WITH root, p, [n IN nodes(p) | n.id] AS chain
CALL (p) {
  UNWIND tail(nodes(p)) AS friend
  MATCH (friend)-[:PLACED]->(d:Deal)
  WHERE NOT coalesce(d.voided, false)
  WITH friend, d ORDER BY d.closed_at, d.id
  RETURN count(DISTINCT friend) AS converted, collect(d.id) AS deals
}
RETURN root.id AS root, chain, length(p) AS depth, converted, deals
ORDER BY depth DESC, root, chain
