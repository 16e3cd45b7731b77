// contribnet schema: constraints and indexes, applied idempotently at start-up.
// Every statement is IF NOT EXISTS (the last one only waits), so running this file again changes nothing.

// The append-only event log: one (:Event) per accepted event, keyed by its event key; a touch's
// log entry is its [:TOUCHED] relationship (unique id, with the event's hash).
CREATE CONSTRAINT event_key IF NOT EXISTS FOR (e:Event) REQUIRE e.key IS UNIQUE;
CREATE INDEX event_target IF NOT EXISTS FOR (e:Event) ON (e.target);
CREATE INDEX event_type IF NOT EXISTS FOR (e:Event) ON (e.type, e.key);

// The graph projected from the log.
CREATE CONSTRAINT brand_id IF NOT EXISTS FOR (b:Brand) REQUIRE b.id IS UNIQUE;
CREATE CONSTRAINT store_id IF NOT EXISTS FOR (s:Store) REQUIRE s.id IS UNIQUE;
CREATE CONSTRAINT city_name IF NOT EXISTS FOR (c:City) REQUIRE c.name IS UNIQUE;
CREATE CONSTRAINT region_name IF NOT EXISTS FOR (r:Region) REQUIRE r.name IS UNIQUE;
CREATE CONSTRAINT staff_id IF NOT EXISTS FOR (s:Staff) REQUIRE s.id IS UNIQUE;
CREATE CONSTRAINT customer_id IF NOT EXISTS FOR (c:Customer) REQUIRE c.id IS UNIQUE;
CREATE CONSTRAINT deal_id IF NOT EXISTS FOR (d:Deal) REQUIRE d.id IS UNIQUE;
CREATE CONSTRAINT handover_id IF NOT EXISTS FOR (h:Handover) REQUIRE h.id IS UNIQUE;
CREATE CONSTRAINT joint_event_id IF NOT EXISTS FOR (j:JointEvent) REQUIRE j.id IS UNIQUE;
CREATE CONSTRAINT activity_id IF NOT EXISTS FOR (a:Activity) REQUIRE a.id IS UNIQUE;
CREATE CONSTRAINT lead_assignment_id IF NOT EXISTS FOR (a:LeadAssignment) REQUIRE a.id IS UNIQUE;
CREATE INDEX lead_assignment_at IF NOT EXISTS FOR (a:LeadAssignment) ON (a.at);
CREATE CONSTRAINT touched_id IF NOT EXISTS FOR ()-[t:TOUCHED]-() REQUIRE t.id IS UNIQUE;
CREATE CONSTRAINT referred_id IF NOT EXISTS FOR ()-[r:REFERRED]-() REQUIRE r.id IS UNIQUE;
CREATE INDEX deal_closed_at IF NOT EXISTS FOR (d:Deal) ON (d.closed_at);

// What changed since a mark, for the learned models' kept tally of training paths
// (Store.contribution_changes): every write transaction of events ends by numbering itself from
// one counter, whose lock it holds until it commits, so the numbers follow commit order; its
// (:Commit) lists the customers whose contributions it changed, and each log entry it wrote
// (an (:Event) or a [:TOUCHED]) names it by `batch`. Kept tallies are (:PathTally) by key.
CREATE CONSTRAINT sequence_name IF NOT EXISTS FOR (s:Sequence) REQUIRE s.name IS UNIQUE;
CREATE CONSTRAINT commit_seq IF NOT EXISTS FOR (k:Commit) REQUIRE k.seq IS UNIQUE;
CREATE CONSTRAINT commit_batch IF NOT EXISTS FOR (k:Commit) REQUIRE k.batch IS UNIQUE;
CREATE CONSTRAINT path_tally_key IF NOT EXISTS FOR (t:PathTally) REQUIRE t.key IS UNIQUE;

// API keys, by the digest of their secret (a peppered HMAC: services/keys.py); `hash` is the
// unpeppered key of records from before, kept until they are re-sealed.
CREATE CONSTRAINT api_key_hash IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.hash IS UNIQUE;
CREATE CONSTRAINT api_key_digest IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.digest IS UNIQUE;

// The credit ledger: policy versions, settlements (one chain per deal: `slot` is deal#seq, so two
// settlements can never supersede the same one) and adjustments.
CREATE CONSTRAINT policy_id IF NOT EXISTS FOR (p:Policy) REQUIRE p.id IS UNIQUE;
CREATE CONSTRAINT settlement_id IF NOT EXISTS FOR (s:Settlement) REQUIRE s.id IS UNIQUE;
CREATE CONSTRAINT settlement_slot IF NOT EXISTS FOR (s:Settlement) REQUIRE s.slot IS UNIQUE;
CREATE INDEX settlement_deal IF NOT EXISTS FOR (s:Settlement) ON (s.deal);
CREATE CONSTRAINT adjustment_id IF NOT EXISTS FOR (a:Adjustment) REQUIRE a.id IS UNIQUE;
CREATE INDEX adjustment_closed_at IF NOT EXISTS FOR (a:Adjustment) ON (a.closed_at);

// The points ledger (domain/points.py): points policy versions, one lock node per account
// (staff or owner), redemptions and their reversals (at most one per redemption).
CREATE CONSTRAINT points_policy_id IF NOT EXISTS FOR (p:PointsPolicy) REQUIRE p.id IS UNIQUE;
CREATE CONSTRAINT points_account_key IF NOT EXISTS FOR (a:PointsAccount) REQUIRE a.key IS UNIQUE;
CREATE CONSTRAINT redemption_id IF NOT EXISTS FOR (r:Redemption) REQUIRE r.id IS UNIQUE;
CREATE CONSTRAINT reversal_redemption IF NOT EXISTS FOR (v:RedemptionReversal) REQUIRE v.redemption IS UNIQUE;
CREATE INDEX redemption_account IF NOT EXISTS FOR (r:Redemption) ON (r.account);
CREATE INDEX reversal_account IF NOT EXISTS FOR (v:RedemptionReversal) ON (v.account);

// Reviews of fraud flags: one per flag.
CREATE CONSTRAINT flag_review_flag IF NOT EXISTS FOR (r:FlagReview) REQUIRE r.flag IS UNIQUE;

// Joint-event reach: touches at a joint event, found without scanning every touch.
CREATE INDEX touched_joint_event IF NOT EXISTS FOR ()-[t:TOUCHED]-() ON (t.joint_event);

// Advisor profiles: a period's touches and activities, found without scanning them all.
CREATE INDEX touched_at IF NOT EXISTS FOR ()-[t:TOUCHED]-() ON (t.at);
CREATE INDEX activity_at IF NOT EXISTS FOR (a:Activity) ON (a.at);

// The audit trail (append-only): entries, and one target node per id an entry touches.
CREATE CONSTRAINT audit_entry_id IF NOT EXISTS FOR (e:AuditEntry) REQUIRE e.id IS UNIQUE;
CREATE INDEX audit_target IF NOT EXISTS FOR (t:AuditTarget) ON (t.target);

// Disputes, and their resolutions: at most one per dispute.
CREATE CONSTRAINT dispute_id IF NOT EXISTS FOR (d:Dispute) REQUIRE d.id IS UNIQUE;
CREATE INDEX dispute_staff IF NOT EXISTS FOR (d:Dispute) ON (d.staff);
CREATE CONSTRAINT dispute_resolution IF NOT EXISTS FOR (r:DisputeResolution) REQUIRE r.dispute IS UNIQUE;
// At most one open dispute per statement line (deal, staff): a marker deleted on resolution.
CREATE CONSTRAINT open_dispute_line IF NOT EXISTS FOR (o:OpenDispute) REQUIRE (o.deal, o.staff) IS UNIQUE;
CREATE CONSTRAINT open_dispute_id IF NOT EXISTS FOR (o:OpenDispute) REQUIRE o.dispute IS UNIQUE;

// Last: wait until every index is online. Plain indexes populate in the background after
// CREATE INDEX returns; the store's queries name them in hints, and a query planned while one
// was still populating would scan instead.
CALL db.awaitIndexes(300);
