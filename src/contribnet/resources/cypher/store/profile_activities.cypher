// The advisor profiles' activities: the live activities performed in [$start, $end), the fields
// that price them. Seeks the activity_at index (an open side is passed as the first or last
// instant Neo4j holds, so that the range always seeks).
// Parameters: $start, $end (DateTime). Returns id, at (ISO text in UTC), staff, customer (or
// null), action, in no set order.
// Example: {id: 'act-1', at: '2025-01-06T02:00:00Z', staff: 'sf-sh-nio-1-01',
//   customer: 'c-0000007', action: 'wechat_add'}
MATCH (a:Activity)
// The hint: on a small graph the planner may scan instead of seeking the range.
USING INDEX a:Activity(at)
WHERE a.at >= $start AND a.at < $end
  AND NOT a.voided
// toString: the driver's DateTime values cost four times the time of the rest of the read.
RETURN a.id AS id, toString(a.at) AS at, a.staff AS staff, a.customer AS customer,
       a.action AS action
