// A kept tally of the learned models' training paths (services/credit.py): its mark (a
// store/commit_batch number) and text. Parameters: $key. Returns: mark, tally (none if not kept).
MATCH (t:PathTally {key: $key})
RETURN t.mark AS mark, t.tally AS tally
