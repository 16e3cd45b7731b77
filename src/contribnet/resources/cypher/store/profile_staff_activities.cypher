// The advisor profiles' activities of some staff members: the live activities $staff performed
// in [$start, $end), the fields that price them. Starts from the staff nodes (the staff_id
// constraint's index) and follows their [:PERFORMED] relationships, so that one profile reads
// its region's advisors' activities, not the whole network's period.
// Parameters: $staff (list of staff ids), $start, $end (DateTime). Returns id, at (ISO text in
// UTC), staff, customer (or null), action, in no set order.
// Example: {id: 'act-1', at: '2025-01-06T02:00:00Z', staff: 'sf-sh-nio-1-01',
//   customer: 'c-0000007', action: 'wechat_add'}
UNWIND $staff AS staff_id
MATCH (s:Staff {id: staff_id})-[:PERFORMED]->(a:Activity)
// The hint: on a small graph the planner may start from the activity_at range instead.
USING INDEX s:Staff(id)
WHERE a.at >= $start AND a.at < $end
  AND NOT a.voided
// toString: the driver's DateTime values cost four times the time of the rest of the read.
RETURN a.id AS id, toString(a.at) AS at, a.staff AS staff, a.customer AS customer,
       a.action AS action
