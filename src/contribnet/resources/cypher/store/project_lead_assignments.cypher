// A lead changing hands (lead pools): (:LeadAssignment)-[:OF_LEAD]->(:Customer), and
// (:LeadAssignment)-[:HOLDER]->(:Staff) for the staff it names (the new holder; for a reclaim, the
// holder it was taken from). Parameters: $rows [{id, at (ISO 8601 text), lead, staff?, reason,
// voided}].
// Instants arrive as ISO 8601 text and become DateTimes here: the Python driver packs a DateTime
// parameter in ~60 us of client CPU (0.6 s per 10,000-row batch), text in next to none.
UNWIND $rows AS row
MATCH (c:Customer {id: row.lead})
CREATE (a:LeadAssignment {id: row.id, at: datetime(row.at), lead: row.lead, staff: row.staff,
                          reason: row.reason, voided: row.voided})
CREATE (a)-[:OF_LEAD]->(c)
WITH a, row
WHERE row.staff IS NOT NULL
MATCH (s:Staff {id: row.staff})
CREATE (a)-[:HOLDER]->(s)
