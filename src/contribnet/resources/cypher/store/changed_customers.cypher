// The customers whose contributions (touches, referrals, handovers, deals, or voids of them)
// the write transactions numbered after $after and up to $last changed
// (store/commit_batch.cypher), in id order.
// Parameters: $after, $last. Returns: customer.
// Example: {after: 40, last: 42} -> 'c-0000017', 'c-0000230'
MATCH (k:Commit)
  USING INDEX SEEK k:Commit(seq)
  WHERE $after < k.seq <= $last
UNWIND k.customers AS customer
RETURN DISTINCT customer
ORDER BY customer
