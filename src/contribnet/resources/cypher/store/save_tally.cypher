// Keep a tally of the learned models' training paths under $key, in place of the one kept.
// Parameters: $key, $mark, $tally.
MERGE (t:PathTally {key: $key})
SET t.mark = $mark, t.tally = $tally
