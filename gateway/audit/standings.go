package audit

// EscalationStandings says in words why a required notice's escalation
// went to its sender without the recipient's duty role being told here,
// or why the recipient's acknowledgement is not to be expected, by the
// recipient_standing its notice_escalate entry records
// (TrackedNotice.escalation_recipient_standing, the sender's
// Escalation.recipient_standing). The command's and the console's
// listings of required notices give it in these words; a value not here
// is named as it is, never guessed at.
var EscalationStandings = map[string]string{
	"offboarded":         "the recipient, or the peer gateway it is behind, was offboarded here: it will not be acknowledged here",
	"unregistered":       "the recipient is no longer registered here: it will not be acknowledged here",
	"untracked":          "the peer gateway delivered it without tracking it: nobody there escalates it or forwards an acknowledgement",
	"offboarded_at_peer": "the peer gateway says it has offboarded this gateway (the peer's word, not checked here): it forwards no acknowledgement here",
	"unknown_at_peer":    "the peer gateway says it no longer lists this gateway (the peer's word, not checked here): it forwards no acknowledgement here",
}

// SenderStandings says in words why the copy of a required notice's
// escalation meant for its sender went nowhere, so that the sender was
// not told of the escalation here, by the sender_standing its
// notice_escalate entry records (TrackedNotice.escalation_sender_standing).
// The command's and the console's listings of required notices give it
// in these words; a value not here is named as it is, never guessed at.
var SenderStandings = map[string]string{
	"offboarded":   "the sender was offboarded here: its copy of the escalation went nowhere, it was not told",
	"unregistered": "the sender is no longer registered here: its copy of the escalation went nowhere, it was not told",
}

// ForwardWaits says in words why an acknowledgement made here waits to be
// forwarded to the peer gateway the notice came from, by its
// forward_pending_reason (TrackedNotice, ListedNotice). The command's and
// the console's listings give it in these words; a code not here is
// named as it is, never guessed at.
var ForwardWaits = map[string]string{
	"PEER_OFFBOARDED":           "offboarded here, held until the registry takes it back",
	"PEER_NOT_REGISTERED":       "no longer a registered peer here, held until the registry lists it again",
	"PEER_UNAVAILABLE":          "not taken yet, tried again",
	"UNKNOWN_AT_PEER":           "the peer gateway says it no longer lists this gateway (the peer's word, not checked here), tried again",
	"OFFBOARDED_AT_PEER":        "the peer gateway says it has offboarded this gateway (the peer's word, not checked here), tried again",
	"AGENCY_UNKNOWN_AT_PEER":    "the peer gateway says it does not list the agency that acknowledged (the peer's word, not checked here), tried again",
	"AGENCY_OFFBOARDED_AT_PEER": "the peer gateway says it has offboarded the agency that acknowledged (the peer's word, not checked here), tried again",
}
