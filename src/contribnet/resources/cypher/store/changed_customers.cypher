// What the write transactions numbered after $after and up to $last changed
// (store/commit_batch.cypher): the customers whose contributions (touches, referrals,
// handovers, deals, or voids of them) they changed, in id order, and how many events they
// recorded.
// Parameters: $after, $last. Returns: customers [id], events.
// Example: {after: 40, last: 42} -> {customers: ['c-0000017', 'c-0000230'], events: 31}
MATCH (k:Commit)
  USING INDEX SEEK k:Commit(seq)
  WHERE $after < k.seq <= $last
WITH collect(k) AS commits
CALL (commits) {
  UNWIND commits AS k
  UNWIND k.customers AS customer
  WITH DISTINCT customer ORDER BY customer
  RETURN collect(customer) AS customers
}
RETURN customers, reduce(n = 0, k IN commits | n + coalesce(k.events, 0)) AS events
