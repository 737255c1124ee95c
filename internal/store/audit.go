package store

import (
	"encoding/json"
	"time"
)

// AuditKind is one kind of audit event. The list is closed: AddAudit refuses any other, so that
// the audit trail can be read without guessing (spec/reliability.md A8; vxsuite's log event IDs).
// Adding a kind is adding a constant here and to AuditKinds.
type AuditKind string

// Written by Append, one per NewEntry, in the entry's transaction.
const (
	AuditReportAccepted AuditKind = "report_accepted"  // a report appended and counted as accepted
	AuditReportFlagged  AuditKind = "report_flagged"   // a report appended and counted, under review
	AuditReportConflict AuditKind = "report_conflict"  // a second report for a precinct: kept, not counted
	AuditReportDup      AuditKind = "report_duplicate" // the same report again; nothing stored
	AuditReportIDReused AuditKind = "report_id_reused" // same report_id, different body; body kept here
	AuditCorrection     AuditKind = "correction"       // a staff correction appended
	AuditReview         AuditKind = "review"           // a review decision appended
	AuditEntryInvalid   AuditKind = "entry_invalid"    // refused by Append (a caller's bug)
	AuditRLAEntry       AuditKind = "audit_entry"      // a risk-limiting audit's entry appended
	AuditCertification  AuditKind = "certification"    // a certification or its withdrawal appended
)

// Written by the store's other writes, in their transaction.
const (
	AuditCredentialIssued AuditKind = "credential_issued" // PutPrecinctCredentials, one per precinct
)

// Written by callers through AddAudit.
const (
	AuditReportRejected AuditKind = "report_rejected" // hard errors (422): nothing stored in the log
	AuditLoginOK        AuditKind = "login_ok"
	AuditLoginFailed    AuditKind = "login_failed"
	AuditLoginThrottled AuditKind = "login_throttled" // refused without checking: key locked
	AuditLogout         AuditKind = "logout"
	AuditSessionRevoked AuditKind = "session_revoked" // admin kill, account disabled
	AuditThrottleReset  AuditKind = "throttle_reset"  // operator unlock (hotline step-up)
	AuditForbidden      AuditKind = "forbidden"       // a failed authorization (ASVS 16.3.2)
	AuditElectionInit   AuditKind = "election_init"
	AuditLogKeyCreated  AuditKind = "log_key_created" // the log's signing key (never its bytes)
	// AuditStaffAction is one state-changing request of a staff member, allowed or refused:
	// who, the route, the outcome (its HTTP status) and from where. Written once per request
	// by the server's staff wrapper, whatever else the action writes.
	AuditStaffAction AuditKind = "staff_action"
)

// Written by AddCallback and PutPhoto, in their transaction.
const (
	AuditCallbackRequested AuditKind = "callback_requested" // a chair asked to be called back
	AuditPhotoStored       AuditKind = "photo_stored"       // a worksheet photo stored (first time)
)

// AuditStaffAccount is a change to a staff account (created, disabled, credentials reset): who
// made it and from where, whose account, what changed and how many sessions ended; never a
// password, hash or TOTP secret. Written by the auth store's account writes, in their
// transaction.
const AuditStaffAccount AuditKind = "staff_account"

// AuditRecanvassRequested is a campaign's request to recanvass a list of precincts, as an admin
// recorded it (detail: requested_by, precincts, reason, log_size): the request is tracked to
// completion by the recanvass entries of the log from log_size on. Written through AddAudit.
const AuditRecanvassRequested AuditKind = "recanvass_requested"

// Written by the hotline's writes (copies, settled rounds, claims, outcomes), in their
// transaction.
const (
	AuditHotlineCopy     AuditKind = "hotline_copy"     // one operator's copy of a worksheet, with its numbers
	AuditHotlineSettled  AuditKind = "hotline_settled"  // a precinct's round of copies closed
	AuditCallbackClaimed AuditKind = "callback_claimed" // an operator took a call-back request
	AuditCallbackOutcome AuditKind = "callback_outcome" // what came of the call
)

// AuditKinds is the closed list, in the order above.
var AuditKinds = []AuditKind{
	AuditReportAccepted, AuditReportFlagged, AuditReportConflict, AuditReportDup,
	AuditReportIDReused, AuditCorrection, AuditReview, AuditEntryInvalid, AuditRLAEntry, AuditCertification,
	AuditCredentialIssued,
	AuditReportRejected, AuditLoginOK, AuditLoginFailed, AuditLoginThrottled, AuditLogout,
	AuditSessionRevoked, AuditThrottleReset, AuditForbidden, AuditElectionInit, AuditLogKeyCreated,
	AuditStaffAction,
	AuditCallbackRequested, AuditPhotoStored,
	AuditStaffAccount,
	AuditHotlineCopy, AuditHotlineSettled, AuditCallbackClaimed, AuditCallbackOutcome,
	AuditRecanvassRequested,
}

// Valid reports whether k is in the closed list.
func (k AuditKind) Valid() bool {
	for _, v := range AuditKinds {
		if k == v {
			return true
		}
	}
	return false
}

// NewAudit is an audit row to add.
type NewAudit struct {
	Actor      string // who: a username, a precinct ID, "addr:…" for the anonymous, "system"
	Kind       AuditKind
	PrecinctID string          // empty when not about one precinct
	Detail     json.RawMessage // a JSON object; nil means {}. Never secrets.
}

// AuditRecord is a stored audit row.
type AuditRecord struct {
	ID         int64 // 1, 2, 3 … in commit order
	At         time.Time
	Actor      string
	Kind       AuditKind
	PrecinctID string
	Detail     json.RawMessage
}
