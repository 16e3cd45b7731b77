// Which holdings were followed up (lead pools): per window, a live touch of the customer by the
// holder, or a live activity of the holder naming the customer, in [start, end].
// Parameters: $windows [{assignment, customer, staff, start, end}] (start, end: datetimes).
// Returns assignment (one row per window followed up). Example: {assignment: 'la-1'}
UNWIND $windows AS w
MATCH (s:Staff {id: w.staff})
MATCH (c:Customer {id: w.customer})
WITH w, s, c
WHERE EXISTS {
        MATCH (s)-[t:TOUCHED]->(c)
        WHERE w.start <= t.at <= w.end AND NOT coalesce(t.voided, false)
      }
   OR EXISTS {
        MATCH (s)-[:PERFORMED]->(a:Activity)-[:WITH]->(c)
        WHERE w.start <= a.at <= w.end AND NOT coalesce(a.voided, false)
      }
RETURN DISTINCT w.assignment AS assignment
