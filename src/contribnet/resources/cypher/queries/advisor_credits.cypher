// Question: Which deals is a staff member credited on, with what share? Their credit on each
//   non-voided deal by the deal's current settlement, oldest deal first.
// Parameters:
//   $staff :: STRING          the staff member's id
//   $from :: DATETIME = null  only deals closed at or after this instant (null: no lower bound)
//   $to :: DATETIME = null    only deals closed before this instant (null: no upper bound)
// Returns: deal, closed_at, store, customer, closed_by, share, amount, points, reward_pool, settlement, model, policy, policy_version
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {"staff": "sf-sh-onvo-1-04", "from": "2025-01-01T00:00:00+08:00", "to": "2025-02-01T00:00:00+08:00"}
//   deal | closed_at | store | customer | closed_by | share | amount | points | reward_pool | settlement | model | policy | policy_version
//   d-0001287 | 2025-01-13T06:50:50Z | st-sh-nio-1 | c-0001287 | sf-sh-nio-1-04 | 0.25 | 87500 | 0 | 350000 | stl-50e83d060d6e9279d3443c1a | stage_weighted | default | 1
//   d-0001322 | 2025-01-16T09:15:04Z | st-sh-nio-1 | c-0001322 | sf-sh-nio-1-04 | 0.25 | 67500 | 0 | 270000 | stl-ae74254cc40092241c962ba7 | stage_weighted | default | 1
//   d-0001952 | 2025-01-17T04:14:52Z | st-sh-nio-1 | c-0001952 | sf-sh-nio-1-04 | 0.2643683347357543 | 103104 | 0 | 390000 | stl-ebec5dba253dfeb99a363693 | stage_weighted | default | 1
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
