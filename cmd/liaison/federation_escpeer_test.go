package main

import (
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
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
		{"Moved", func(t *testing.T, r *gateway.RegistryFile) {
			_, vkey, err := audit.LoadOrCreateSignerKey(filepath.Join(t.TempDir(), "dk2.key"), "dk2.liaison.test")
			if err != nil {
				t.Fatal(err)
			}
			var second gateway.AgencyFile
			for i, a := range r.Agencies {
				switch a.ID {
				case "dk-gateway":
					second = a
				case "dk-prison-east":
					r.Agencies[i].Via = "dk-gateway-2"
				}
			}
			second.ID, second.Issuer, second.CertificateIdentity = "dk-gateway-2", second.Issuer+"/2", "spiffe://dk2.liaison.test/gateway"
			second.Provider, second.CheckpointKey = freePort(t), vkey // nothing listens there
			r.Agencies = append(r.Agencies, second)
		}},
		{"Unlisted", func(t *testing.T, r *gateway.RegistryFile) {
			r.Agencies = slices.DeleteFunc(r.Agencies, func(a gateway.AgencyFile) bool { return a.ID == "dk-prison-east" })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ahead atomic.Int64
			clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
			var logs lockedBuffer
			f := startFederationWith(t, fedConfig{now: clock, logs: map[string]io.Writer{"NL": &logs}})
			d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
			resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
				EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
				Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
				Justification: "The person will live in Rotterdam after release.",
			})
			if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetNoticeId() == "" {
				t.Fatalf("Notify through both gateways = %v, %v; want a required notice to nl-police-rotterdam", resp, err)
			}
			id := resp.GetResults()[0].GetNoticeId()
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
