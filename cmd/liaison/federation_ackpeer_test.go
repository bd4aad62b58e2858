package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// editFederationRegistry rewrites a country's registry file as edit
// changes it, in one step (a file of its own renamed over it), after
// checking that the result loads; the gateway picks it up within seconds.
func (c *country) editFederationRegistry(t *testing.T, edit func(*gateway.RegistryFile)) {
	t.Helper()
	b, err := os.ReadFile(c.Registry)
	if err != nil {
		t.Fatal(err)
	}
	var f gateway.RegistryFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatal(err)
	}
	edit(&f)
	out, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	tmp := c.Registry + ".new"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.LoadRegistry(tmp); err != nil {
		t.Fatalf("the edited registry does not load: %v", err)
	}
	if err := os.Rename(tmp, c.Registry); err != nil {
		t.Fatal(err)
	}
}

// TestRequiredNoticeAckGoesToTheGatewayThatDelivered: the Danish prison's
// required notice reaches the Rotterdam police through the Danish gateway
// (dk-gateway); then the Dutch registry lists the prison behind another
// Danish gateway (dk-gateway-2, which does not answer), as an operator
// moving Danish agencies to a new gateway would. The notice is tracked at
// dk-gateway, which delivered it: the police's acknowledgement is
// forwarded there, and both logs close it. It used to go to the gateway
// the registry lists now, which knows nothing of it (here: does not
// answer, so the forward was deferred, to be made to it again and again).
func TestRequiredNoticeAckGoesToTheGatewayThatDelivered(t *testing.T) {
	f := startFederation(t, nil, nil)
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
	var cursor int64
	for _, m := range f.nl.inbox(t, "nl-police-rotterdam") {
		if m.GetNotice().GetNoticeId() == id {
			cursor = m.GetCursor()
		}
	}
	if cursor == 0 {
		t.Fatalf("the notice %s is not in the Rotterdam police's inbox", id)
	}

	_, vkey, err := audit.LoadOrCreateSignerKey(filepath.Join(t.TempDir(), "dk2.key"), "dk2.liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	f.nl.editFederationRegistry(t, func(r *gateway.RegistryFile) {
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
	})
	until(t, "the Dutch registry reloaded", func() bool {
		ns := f.nl.trackedNotices(t)
		return len(ns) == 1 && ns[0].GetPeer() == "dk-gateway-2"
	})

	ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
	if err != nil || len(ack.GetDeferredNoticeIds()) != 0 {
		t.Fatalf("Acknowledge = %v, %v; want the acknowledgement forwarded to dk-gateway, which delivered the notice, nothing deferred", ack, err)
	}
	nl := f.nl.all(t, "notice_acknowledge", "insp.de.vries")
	if len(nl) != 2 || nl[1].Outcome != audit.OutcomeOK || nl[1].Detail["peer_index"] == "" || nl[1].Detail["peer_outcome"] != "" {
		t.Errorf("Dutch acknowledgements %v %v; want pending and ok, with dk-gateway's receipt", outcomes(nl), details(nl))
	}
	if i := slices.IndexFunc(f.dk.trackedNotices(t), func(n *liaisonv1.TrackedNotice) bool { return n.GetNoticeId() == id }); i < 0 ||
		f.dk.trackedNotices(t)[i].GetAcknowledged() == "" {
		t.Errorf("the Danish gateway's notice %s is not acknowledged; want it closed by the forward", id)
	}
}
