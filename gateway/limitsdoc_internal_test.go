package gateway

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// protoFieldComment returns the comment above field in message of the
// proto file at path, its "//" markers dropped and its lines joined.
func protoFieldComment(t *testing.T, path, message, field string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(b), "\nmessage "+message+" {\n")
	if !ok {
		t.Fatalf("%s has no message %s", path, message)
	}
	body, _, _ = strings.Cut(body, "\n}\n")
	var comment []string
	for l := range strings.Lines(body) {
		l = strings.TrimSpace(l)
		if c, ok := strings.CutPrefix(l, "//"); ok {
			comment = append(comment, strings.TrimSpace(c))
			continue
		}
		if regexp.MustCompile(`^(repeated )?[\w.]+ ` + field + ` = \d+;$`).MatchString(l) {
			return strings.Join(comment, " ")
		}
		comment = nil
	}
	t.Fatalf("%s: message %s has no field %s", path, message, field)
	return ""
}

// TestRecipientLimitsAreDocumented: the limits on the recipients of one
// Disclose or Notify, which refuse the whole call (INVALID_ARGUMENT naming
// recipients or recipient_roles, nothing delivered), are stated in the
// comments of the fields they bound: at most maxRecipients by id, at most
// maxRoles roles and maxRecipients recipients in all for a Disclose, and
// at most maxNotifyTargets agencies reached by a Notify. Before, none of
// them was: an agency system learnt them from a refused call, and a
// Notify about a person known to more than 200 agencies was refused
// whole, which no comment said.
func TestRecipientLimitsAreDocumented(t *testing.T) {
	const exchange = "../proto/liaison/v1/exchange.proto"
	for _, c := range []struct {
		message, field string
		want           []string
	}{
		{"DiscloseRequest", "recipients", []string{"at most " + itoa(maxRecipients), "INVALID_ARGUMENT naming recipients"}},
		{"DiscloseRequest", "recipient_roles", []string{"At most " + itoa(maxRoles) + " roles", "at most " + itoa(maxRecipients) + " recipients in all",
			"INVALID_ARGUMENT naming recipient_roles"}},
		{"NotifyRequest", "recipients", []string{"at most " + itoa(maxRecipients), "at most " + itoa(maxNotifyTargets) + " agencies",
			"INVALID_ARGUMENT naming recipients"}},
		{"NotifyRequest", "recipient_roles", []string{"most " + itoa(maxRoles) + " roles", "INVALID_ARGUMENT naming recipient_roles"}},
		{"MatchRequest", "holders", []string{"at most " + itoa(matchMaxHolders)}},
	} {
		comment := protoFieldComment(t, exchange, c.message, c.field)
		for _, w := range c.want {
			if !strings.Contains(comment, w) {
				t.Errorf("%s.%s: its comment does not say %q:\n%s", c.message, c.field, w, comment)
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestFieldRefusalsAreDocumented: a refusal of a request field the code
// makes (INVALID_ARGUMENT naming it) is stated in that field's comment.
// Before, SubscribeRequest.after did not say that a negative cursor is
// refused naming after, and RequestRequest.match_reference listed only
// PERMISSION_DENIED refusals, while a reference cited for a holder behind
// a peer gateway is refused INVALID_ARGUMENT naming match_reference
// (Request, exchange.go) before the peer is called; nor did
// AcknowledgeNoticeRequest.notice_index and done,
// WithdrawRequest.reason and obligation,
// ListObligationNoticesRequest.kind or ListCasesRequest.status say what
// a value the gateway does not take gets.
func TestFieldRefusalsAreDocumented(t *testing.T) {
	const dir = "../proto/liaison/v1/"
	for _, c := range []struct{ file, message, field, want string }{
		{"exchange", "SubscribeRequest", "after", "INVALID_ARGUMENT naming after"},
		{"exchange", "SubscribeRequest", "limit", "INVALID_ARGUMENT naming limit"},
		{"exchange", "RequestRequest", "match_reference", "INVALID_ARGUMENT naming match_reference"},
		{"aftercare", "AcknowledgeNoticeRequest", "notice_index", "INVALID_ARGUMENT naming notice_index"},
		{"aftercare", "AcknowledgeNoticeRequest", "done", "INVALID_ARGUMENT naming done"},
		{"aftercare", "WithdrawRequest", "reason", "INVALID_ARGUMENT naming reason"},
		{"aftercare", "WithdrawRequest", "obligation", "INVALID_ARGUMENT naming obligation"},
		{"aftercare", "ListObligationNoticesRequest", "kind", "INVALID_ARGUMENT naming kind"},
		{"cases", "ListCasesRequest", "status", "INVALID_ARGUMENT naming status"},
	} {
		if comment := protoFieldComment(t, dir+c.file+".proto", c.message, c.field); !strings.Contains(comment, c.want) {
			t.Errorf("%s.%s: its comment does not say %q:\n%s", c.message, c.field, c.want, comment)
		}
	}
}
