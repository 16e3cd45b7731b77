// Flag the targets of voids as voided (a target that has not arrived yet is flagged when it does).
// Parameters: $targets (event ids).
UNWIND $targets AS id
CALL {
  WITH id
  MATCH ()-[t:TOUCHED {id: id}]->() SET t.voided = true
}
CALL {
  WITH id
  MATCH ()-[r:REFERRED {id: id}]->() SET r.voided = true
}
CALL {
  WITH id
  MATCH (d:Deal {id: id}) SET d.voided = true
}
CALL {
  WITH id
  MATCH (h:Handover {id: id}) SET h.voided = true
}
CALL {
  WITH id
  MATCH (j:JointEvent {id: id}) SET j.voided = true
}
