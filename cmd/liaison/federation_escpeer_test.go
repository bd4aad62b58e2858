package main

import (
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway"
)

// TestEscalationNamesTheGatewayThatDelivered: the Danish prison's
// required notice reaches the Rotterdam police through dk-gateway, which
// tracks it too and sends the prison its copy of the escalation. Then the
// Dutch registry lists the prison behind another Danish gateway
// (dk-gateway-2), or no longer lists it at all. When the Dutch timers
// escalate the notice, its entry still names dk-gateway as the gateway
// that sends the sender's copy (detail escalated_at_peer), and the
// sender's copy is still left to it: the registry says where the prison
// would be reached now, not who tracks this notice. The entry named
// dk-gateway-2; and with the prison no longer listed it named no peer and
// said the sender was unregistered, as if nobody would tell the prison.
func TestEscalationNamesTheGatewayThatDelivered(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, r *gateway.RegistryFile)
	}{
		{"Moved", movePrisonBehindASecondGateway},
		{"Unlisted", func(t *testing.T, r *gateway.RegistryFile) {
			r.Agencies = slices.DeleteFunc(r.Agencies, func(a gateway.AgencyFile) bool { return a.ID == "dk-prison-east" })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ahead atomic.Int64
			clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
			var logs lockedBuffer
			f := startFederationWith(t, fedConfig{now: clock, logs: map[string]io.Writer{"NL": &logs}})
			id := notifyRotterdamPolice(t, f)
			nl := f.nl.all(t, "notify", "kf.notice")
			esc, err := time.Parse(time.RFC3339, nl[len(nl)-1].Detail["escalate_at"])
			if err != nil || nl[len(nl)-1].Detail["via_peer"] != "dk-gateway" {
				t.Fatalf("the Dutch delivery entry %v: %v; want it delivered by dk-gateway", nl[len(nl)-1].Detail, err)
			}
			reloads := strings.Count(logs.String(), "trust files reloaded")
			f.nl.editFederationRegistry(t, func(r *gateway.RegistryFile) { tc.edit(t, r) })
			until(t, "the Dutch registry reloaded", func() bool { return strings.Count(logs.String(), "trust files reloaded") > reloads })
			// ListNotices names the gateway that delivered the notice and
			// tracks it, not the one the registry lists now (or none).
			if ns := f.nl.trackedNotices(t); len(ns) != 1 || ns[0].GetNoticeId() != id || ns[0].GetPeer() != "dk-gateway" {
				t.Errorf("the Dutch gateway's notices %v; want %s, tracked with dk-gateway, which delivered it", ns, id)
			}

			ahead.Store(int64(time.Until(esc) + time.Minute))
			if _, err := f.nl.gw.Server.RunTimers(t.Context()); err != nil {
				t.Fatalf("Dutch timers: %v", err)
			}
			es := f.nl.all(t, "notice_escalate", "")
			if len(es) != 1 || es[0].Detail["notice_id"] != id || es[0].Detail["escalated_at_peer"] != "dk-gateway" ||
				es[0].Detail["sender_standing"] != "" || strings.Contains(es[0].Detail["escalated_to"], "dk-prison-east") ||
				!strings.HasPrefix(es[0].Detail["escalated_to"], "nl-police-rotterdam") {
				t.Errorf("Dutch escalations %v; want one, to the police's duty role, the sender's copy left to dk-gateway", details(es))
			}
		})
	}
}
