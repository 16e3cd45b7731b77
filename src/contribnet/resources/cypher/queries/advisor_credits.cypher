// Question: Which deals is a staff member credited on, with what share? Their credit on each
//   non-voided deal by the deal's current settlement, oldest deal first.
// Parameters:
//   $staff :: STRING          the staff member's id
//   $from :: DATETIME = null  only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null    only deals closed before this instant (null: no upper bound)
// Returns: deal, closed_at, store, customer, closed_by, share, amount, points, reward_pool, settlement, model, policy, policy_version
// Example ($staff = 'sf-nio-sh-ma', the six scenarios, with the settled credit of the tests' fixture):
//   deal   | closed_at                 | store       | customer  | closed_by    | share | amount | points | reward_pool | settlement | model | policy  | policy_version
//   d-s6-0 | 2024-11-16T04:00:00+00:00 | st-nio-sh-1 | c-s6-tang | sf-nio-sh-ma | 1.0   | 500000 | 0      | 500000      | set-d-s6-0 | rules | default | 1
//   d-s6-1 | 2025-03-09T06:30:00+00:00 | st-nio-sh-1 | c-s6-feng | sf-nio-sh-ma | 1.0   | 500000 | 0      | 500000      | set-d-s6-1 | rules | default | 1
//   d-s4-1 | 2025-03-22T06:15:00+00:00 | st-nio-sh-1 | c-s4-ma   | sf-nio-sh-ma | 0.75  | 375000 | 0      | 500000      | set-d-s4-1 | rules | default | 1
MATCH (d:Deal)-[cr:CREDITED]->(:Staff {id: $staff})
WHERE NOT coalesce(d.voided, false)
  AND ($from IS NULL OR d.closed_at >= $from)
  AND ($to IS NULL OR d.closed_at < $to)
OPTIONAL MATCH (c:Customer)-[:PLACED]->(d)
OPTIONAL MATCH (st:Store)<-[:AT]-(d)
OPTIONAL MATCH (closer:Staff)-[:CLOSED]->(d)
RETURN d.id AS deal, d.closed_at AS closed_at, st.id AS store, c.id AS customer,
       closer.id AS closed_by, cr.share AS share, cr.amount AS amount, cr.points AS points,
       d.reward_pool AS reward_pool, cr.settlement AS settlement, cr.model AS model,
       cr.policy AS policy, cr.policy_version AS policy_version
ORDER BY closed_at, deal
