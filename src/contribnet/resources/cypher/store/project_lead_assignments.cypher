// A lead changing hands (lead pools): (:LeadAssignment)-[:OF_LEAD]->(:Customer), and
// (:LeadAssignment)-[:HOLDER]->(:Staff) for the staff it names (the new holder; for a reclaim, the
// holder it was taken from). Parameters: $rows [{id, at, lead, staff?, reason, voided}].
UNWIND $rows AS row
MATCH (c:Customer {id: row.lead})
CREATE (a:LeadAssignment {id: row.id, at: row.at, lead: row.lead, staff: row.staff,
                          reason: row.reason, voided: row.voided})
CREATE (a)-[:OF_LEAD]->(c)
WITH a, row
WHERE row.staff IS NOT NULL
MATCH (s:Staff {id: row.staff})
CREATE (a)-[:HOLDER]->(s)
