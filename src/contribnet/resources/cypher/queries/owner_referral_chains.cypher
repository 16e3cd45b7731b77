// Question: Which owners referred friends who referred friends in turn? Chains of owner referrals
//   (customer to customer, non-voided) of at least $min_depth steps, from an owner nobody referred
//   to a friend who referred nobody. Chains longer than 10 steps are not followed.
// Parameters:
//   $min_depth :: INTEGER = 2  the fewest referral steps in a chain
// Returns: root, chain, depth, converted, deals
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {}
//   root | chain | depth | converted | deals
//   c-0000007 | c-0000007,c-0000135,c-0000305,c-0000559,c-0000737 | 4 | 4 | d-0000135,d-0000305,d-0000559,d-0000737
//   c-0000000 | c-0000000,c-0000242,c-0000522,c-0000983 | 3 | 3 | d-0000242,d-0000522,d-0000983
//   c-0000007 | c-0000007,c-0000135,c-0000323,c-0000771 | 3 | 3 | d-0000135,d-0000323,d-0000771
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
