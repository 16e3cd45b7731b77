// The advisor profiles' touches of some staff members: the live touches by $staff that happened
// in [$start, $end), as much of each as a profile counts. Starts from the staff nodes (the
// staff_id constraint's index) and follows their [:TOUCHED] relationships, so that one profile
// reads its region's advisors' touches, not the whole network's period.
// Parameters: $staff (list of staff ids), $start, $end (DateTime). Returns id, staff, customer,
// stage, at (ISO text in UTC), in no set order.
// Example: {id: 't-42', staff: 'sf-sh-nio-1-01', customer: 'c-0000007', stage: 'test_drive',
//   at: '2025-01-05T02:00:00Z'}
UNWIND $staff AS staff_id
MATCH (s:Staff {id: staff_id})-[t:TOUCHED]->(c:Customer)
// The hint: on a small graph the planner may start from the touched_at range instead.
USING INDEX s:Staff(id)
WHERE t.at >= $start AND t.at < $end
  AND NOT coalesce(t.voided, false)
// toString: the driver's DateTime values cost four times the time of the rest of the read.
RETURN t.id AS id, s.id AS staff, c.id AS customer, t.stage AS stage, toString(t.at) AS at
