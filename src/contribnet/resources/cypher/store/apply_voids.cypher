// Flag the targets of voids as voided (a target that has not arrived yet is flagged when it does).
// Parameters: $targets (event ids). Relationship lookups force index seeks (see stored_hashes).
UNWIND $targets AS id
CALL (id) {
  MATCH ()-[t:TOUCHED {id: id}]->() USING INDEX SEEK t:TOUCHED(id) SET t.voided = true
}
CALL (id) {
  MATCH ()-[r:REFERRED {id: id}]->() USING INDEX SEEK r:REFERRED(id) SET r.voided = true
}
CALL (id) {
  MATCH (d:Deal {id: id}) SET d.voided = true
}
CALL (id) {
  MATCH (h:Handover {id: id}) SET h.voided = true
}
CALL (id) {
  MATCH (j:JointEvent {id: id}) SET j.voided = true
}
CALL (id) {
  MATCH (a:Activity {id: id}) SET a.voided = true
}
CALL (id) {
  MATCH (a:LeadAssignment {id: id}) SET a.voided = true
}
