// Question: How many customers did each joint event reach, and how many of them converted? Reach
//   counts the customers with a non-voided touch at the event; a reached customer converted when
//   they placed a non-voided deal after that touch (at any store; at an organising store counted
//   apart).
// Parameters:
//   $from :: DATETIME = null  only events at or after this instant (null: no lower bound)
//   $to :: DATETIME = null    only events before this instant (null: no upper bound)
// Returns: joint_event, name, at, organisers, reached, converted, converted_at_organisers, conversion
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {}
//   joint_event | name | at | organisers | reached | converted | converted_at_organisers | conversion
//   je-cq-1 | NIO x ONVO Owner Day · Chongqing Raffles City | 2024-11-09T02:00:00Z | st-cq-nio-1,st-cq-onvo-1 | 0 | 0 | 0 | 
//   je-qd-1 | NIO x ONVO Family Test-Drive Weekend · Qingdao MixC | 2024-11-09T02:00:00Z | st-qd-nio-1,st-qd-onvo-1 | 0 | 0 | 0 | 
//   je-sh-1 | NIO x ONVO Family Test-Drive Weekend · Jing'an Kerry Centre | 2024-11-09T02:30:00Z | st-sh-nio-1,st-sh-onvo-1 | 0 | 0 | 0 | 
MATCH (j:JointEvent)
WHERE NOT coalesce(j.voided, false)
  AND ($from IS NULL OR j.at >= $from)
  AND ($to IS NULL OR j.at < $to)
CALL (j) {
  MATCH (organiser:Store)-[:ORGANISED]->(j)
  WITH organiser ORDER BY organiser.id
  RETURN collect(organiser.id) AS organisers
}
CALL (j, organisers) {
  MATCH (:Staff)-[t:TOUCHED {joint_event: j.id}]->(c:Customer)
  WHERE NOT coalesce(t.voided, false)
  WITH c, min(t.at) AS met
  CALL (c, met, organisers) {
    MATCH (c)-[:PLACED]->(d:Deal)-[:AT]->(st:Store)
    WHERE NOT coalesce(d.voided, false) AND d.closed_at >= met
    RETURN count(d) > 0 AS converted, count(CASE WHEN st.id IN organisers THEN 1 END) > 0 AS at_organiser
  }
  RETURN count(c) AS reached, count(CASE WHEN converted THEN 1 END) AS converted,
         count(CASE WHEN at_organiser THEN 1 END) AS converted_at_organisers
}
RETURN j.id AS joint_event, j.name AS name, j.at AS at, organisers, reached, converted,
       converted_at_organisers,
       CASE WHEN reached > 0 THEN round(toFloat(converted) / reached, 3) END AS conversion
ORDER BY at, joint_event
