package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// The legal officer's pages: the playground (one input, decided by the
// gateway's active policy and explained), the impact of a candidate
// policy over a period of the log (decided here, on the entries the
// officer may read), and the readiness report per jurisdiction.

// An example is a playground input to start from.
type example struct {
	Name, Title string
	input       func(now time.Time) policies.Input
}

func party(agency, kind, jurisdiction string) policies.Party {
	return policies.Party{Agency: agency, Kind: kind, Jurisdiction: jurisdiction}
}

func requester(p policies.Party, officer, clearance string) policies.Requester {
	return policies.Requester{Agency: p.Agency, Kind: p.Kind, Jurisdiction: p.Jurisdiction,
		Officer: policies.Officer{ID: officer, Roles: []string{"case_officer"}, Clearance: clearance}}
}

var (
	dkPrison   = party("dk-prison-east", "prison", "DK")
	dkPolice   = party("dk-police-aarhus", "police", "DK")
	nlProb     = party("nl-probation", "probation", "NL")
	nlPolice   = party("nl-police-rotterdam", "police", "NL")
	nlNGO      = party("nl-ngo-exit", "ngo", "NL")
	safetyCase = &policies.Case{ID: "NL-ZVH-RTM-0042", Members: []string{"nl-police-rotterdam", "nl-probation", "nl-municipality-rotterdam"}, Lead: "nl-municipality-rotterdam"}
)

func dkRelease(purpose string) func(time.Time) policies.Input {
	return func(now time.Time) policies.Input {
		return policies.Input{Action: "disclose", Time: now.UTC().Format(time.RFC3339), Requester: requester(dkPrison, "kf.release.coordinator", "confidential"),
			Holder: dkPrison, Recipient: dkPolice,
			Subject:    policies.Subject{Category: "convicted", InCustody: true, ReleaseDate: now.AddDate(0, 0, 20).Format(time.DateOnly), Municipality: "Aarhus"},
			RecordType: "release_notice", Purpose: purpose, Justification: "Release scheduled; local police to plan the first weeks."}
	}
}

func nlRequest(from policies.Party, purpose string, c *policies.Case) func(time.Time) policies.Input {
	return func(now time.Time) policies.Input {
		return policies.Input{Action: "request", Time: now.UTC().Format(time.RFC3339), Requester: requester(from, "officer-4", "confidential"),
			Holder: nlProb, Recipient: from,
			Subject: policies.Subject{Category: "convicted", ReleaseDate: now.AddDate(0, 0, -60).Format(time.DateOnly),
				ProbationUntil: now.AddDate(0, 0, 700).Format(time.DateOnly), Municipality: "Rotterdam"},
			RecordType: "risk_assessment", Purpose: purpose, Case: c, Justification: "Risk review after release."}
	}
}

var examples = []example{
	{"dk-release", "Denmark: the prison service tells local police of a release", dkRelease("risk_management")},
	{"dk-investigation", "Denmark: the same release notice, for a criminal investigation", dkRelease("criminal_investigation")},
	{"nl-police", "Netherlands: police ask probation for a risk assessment, outside a case", nlRequest(nlPolice, "risk_management", nil)},
	{"nl-case", "Netherlands: the same, within a Safety House case", nlRequest(nlPolice, "maw_case_management", safetyCase)},
	{"nl-ngo", "Netherlands: an exit-programme NGO asks for the risk assessment", nlRequest(nlNGO, "risk_management", nil)},
}

type playgroundData struct {
	Input    string
	Example  string
	Examples []example
	Result   *decision
	Error    string
}

// A decision is the gateway's answer to Simulate, as the page shows it.
type decision struct {
	policies.Decision
	Explanation []string
	Stage       string
	Assumptions []string
	Revision    string
	// PlannedFields are the record type's fields the decision lets
	// through, with how (gateway.PlanFields).
	PlannedFields []string
}

func (s *Server) playground(w http.ResponseWriter, r *http.Request, ss *session) {
	name := r.URL.Query().Get("example")
	ex := examples[0]
	for _, e := range examples {
		if e.Name == name {
			ex = e
		}
	}
	d := playgroundData{Input: inputJSON(ex.input(s.cfg.Now())), Example: ex.Name, Examples: examples}
	d.Result, d.Error = s.simulate(r.Context(), d.Input)
	s.render(w, r, ss, http.StatusOK, "playground", "Policy playground", d)
}

func (s *Server) playgroundForm(w http.ResponseWriter, r *http.Request, ss *session) {
	d := playgroundData{Input: r.PostFormValue("input"), Examples: examples}
	d.Result, d.Error = s.simulate(r.Context(), d.Input)
	code := http.StatusOK
	if d.Error != "" {
		code = http.StatusUnprocessableEntity
	}
	s.render(w, r, ss, code, "playground", "Policy playground", d)
}

// simulate asks the gateway's active policy to decide input and explain
// why. The error is for the page.
func (s *Server) simulate(ctx context.Context, input string) (*decision, string) {
	st := &structpb.Struct{}
	if err := protojson.Unmarshal([]byte(input), st); err != nil {
		return nil, "The input is not a JSON object: " + err.Error()
	}
	resp, err := s.cfg.Policy.Simulate(ctx, &liaisonv1.SimulateRequest{Input: st})
	if err != nil {
		return nil, describeError(err)
	}
	b, err := protojson.Marshal(resp.GetDecision())
	if err != nil {
		return nil, err.Error()
	}
	d := &decision{Explanation: resp.GetExplanation(), Stage: resp.GetStage(), Assumptions: resp.GetAssumptions(), Revision: resp.GetRevision()}
	if err := json.Unmarshal(b, &d.Decision); err != nil {
		return nil, "The gateway's decision is not one this console understands: " + err.Error()
	}
	var in policies.Input
	if json.Unmarshal([]byte(input), &in) == nil {
		d.PlannedFields = gateway.PlanFields(in.RecordType, d.Decision)
	}
	return d, ""
}

type impactData struct {
	Candidate string
	Key       string
	KeyID     string
	From, To  string
	// Start is the entry index the replay reads from (0: the period's
	// first): a report that stopped at the console's limit replays on
	// from the entry after the last it read (impact.Next).
	Start  int64
	Report *impact
	Error  string
}

// An impact is what a candidate policy would have changed over a period.
type impact struct {
	Candidate string
	Source    string
	Read      int
	Truncated bool
	Next      int64 // with Truncated, the index after the last entry read
	Replayed  int
	Unchanged int
	Flips     int
	FieldOnly int
	// ConditionsOnly counts the changes of handling conditions alone.
	ConditionsOnly int
	Skipped        []count
	Groups         []impactGroup
}

type count struct {
	Label string
	N     int
}

// An impactGroup is the changes for one agency pair and legal basis.
type impactGroup struct {
	Holder, Recipient, Basis string
	Flips                    []count
	FieldChanges             int
	NewlyDisclosed           []string
	Withdrawn                []string
	// PlanChecks counts the changes whose candidate decision the gateway's
	// check of the field plan refuses (deny, POLICY_ERROR), by what it
	// found (policies.Change.PlanCheck): all of the group's, not only its
	// examples'.
	PlanChecks []count
	Changes    int
	Examples   []policies.Change
}

// maxExamples is how many changed entries a group shows.
const maxExamples = 3

func (s *Server) impact(w http.ResponseWriter, r *http.Request, ss *session) {
	today := s.cfg.Now().In(s.cfg.Location)
	s.render(w, r, ss, http.StatusOK, "impact", "Impact of a candidate", impactData{
		KeyID: "liaison", From: today.AddDate(0, 0, -29).Format(time.DateOnly), To: today.Format(time.DateOnly)})
}

func (s *Server) impactForm(w http.ResponseWriter, r *http.Request, ss *session) {
	d := impactData{
		Candidate: strings.TrimSpace(r.PostFormValue("candidate")), Key: strings.TrimSpace(r.PostFormValue("key")),
		KeyID: cmpOr(strings.TrimSpace(r.PostFormValue("key_id")), "liaison"),
		From:  strings.TrimSpace(r.PostFormValue("from")), To: strings.TrimSpace(r.PostFormValue("to")),
	}
	fail := func(code int, msg string) {
		d.Error = msg
		s.render(w, r, ss, code, "impact", "Impact of a candidate", d)
	}
	f := filter{From: d.From, To: d.To}
	from, to, err := s.period(&f)
	d.From, d.To = f.From, f.To
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	if v := strings.TrimSpace(r.PostFormValue("start")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			fail(http.StatusBadRequest, fmt.Sprintf("Where to replay on from (start) must be an entry's index, a whole number from 0; the form says %q.", v))
			return
		}
		d.Start = n
	}
	if d.Candidate == "" {
		fail(http.StatusBadRequest, "Name the candidate: a policy directory, or a signed bundle (.tar.gz) with its verification key.")
		return
	}
	src, err := candidateSource(d.Candidate, d.Key, d.KeyID)
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	cand, err := policies.LoadSource(ctx, src)
	if err != nil {
		fail(http.StatusUnprocessableEntity, "The candidate does not load as the gateway would load it (strict compile, its own tests, the samples): "+err.Error())
		return
	}
	rep, err := s.replay(ctx, cand, from, to, d.Start)
	if err != nil {
		fail(http.StatusBadGateway, describeError(err))
		return
	}
	rep.Source = src.String()
	d.Report = rep
	s.render(w, r, ss, http.StatusOK, "impact", "Impact of a candidate", d)
}

// candidateSource returns the policy source a path names: a directory, or
// a signed bundle with the key that verifies it.
func candidateSource(path, key, keyID string) (policies.Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return policies.Source{}, fmt.Errorf("The candidate %q cannot be read: %v", path, errors.Unwrap(err))
	}
	if fi.IsDir() {
		return policies.DirSource(path), nil
	}
	if key == "" {
		return policies.Source{}, errors.New("The candidate is a bundle: give the public key file (PEM) its signature must verify with. Liaison loads signed bundles only.")
	}
	b, err := os.ReadFile(key)
	if err != nil {
		return policies.Source{}, fmt.Errorf("The verification key %q cannot be read: %v", key, errors.Unwrap(err))
	}
	k, err := policies.ParsePublicKey(keyID, b)
	if err != nil {
		return policies.Source{}, fmt.Errorf("The verification key: %v", err)
	}
	return policies.BundleSource(path, k), nil
}

// replay re-decides the exchanges of [from, to) under cand, as `liaison
// policy replay` does, reading the log with the officer's own rights from
// the entry index start, up to MaxEntries entries.
func (s *Server) replay(ctx context.Context, cand *policies.Engine, from, to time.Time, start int64) (*impact, error) {
	rp := gateway.NewReplayer(cand, nil)
	rep := &impact{Candidate: cand.Revision()}
	// The entries are decided a page at a time, on all cores.
	var page []policies.Recorded
	var addErr error
	flush := func() {
		if addErr == nil {
			addErr = rp.AddAll(ctx, page)
		}
		page = page[:0]
	}
	var last int64
	truncated, _, err := s.readEntries(ctx, &liaisonv1.QueryRequest{From: timestamppb.New(from), To: timestamppb.New(to), Start: start}, nil, func(index int64, e *audit.Entry) {
		rep.Read++
		last = index
		if rec, skip := gateway.RecordedFromEntry(index, e); skip != "" {
			rp.Skip(skip)
		} else if page = append(page, rec); len(page) == queryPage {
			flush()
		}
	})
	if err != nil {
		return nil, err
	}
	if flush(); addErr != nil {
		return nil, addErr
	}
	rep.Truncated = truncated
	if truncated {
		rep.Next = last + 1
	}
	rr := rp.Report()
	rep.Replayed, rep.Unchanged, rep.Flips = rr.Replayed, rr.Unchanged, rr.Flips()
	rep.ConditionsOnly = rr.ConditionsOnly()
	rep.FieldOnly = len(rr.Changes) - rep.Flips - rep.ConditionsOnly
	for _, k := range slices.Sorted(maps.Keys(rr.Skipped)) {
		rep.Skipped = append(rep.Skipped, count{k, rr.Skipped[k]})
	}
	groups := map[[3]string]*impactGroup{}
	var keys [][3]string
	for _, c := range rr.Changes {
		basis := cmpOr(c.AfterBasis, cmpOr(c.BeforeBasis, "(no legal basis)"))
		k := [3]string{c.Holder.Agency, c.Recipient.Agency, basis}
		g := groups[k]
		if g == nil {
			g = &impactGroup{Holder: k[0], Recipient: k[1], Basis: k[2]}
			groups[k] = g
			keys = append(keys, k)
		}
		g.Changes++
		if c.Flipped {
			flip := c.Before + " → " + c.After
			i := slices.IndexFunc(g.Flips, func(x count) bool { return x.Label == flip })
			if i < 0 {
				g.Flips = append(g.Flips, count{flip, 0})
				i = len(g.Flips) - 1
			}
			g.Flips[i].N++
		} else {
			g.FieldChanges++
		}
		g.NewlyDisclosed = union(g.NewlyDisclosed, c.NewlyDisclosed)
		g.Withdrawn = union(g.Withdrawn, c.Withdrawn)
		if c.PlanCheck != "" {
			i := slices.IndexFunc(g.PlanChecks, func(x count) bool { return x.Label == c.PlanCheck })
			if i < 0 {
				g.PlanChecks = append(g.PlanChecks, count{c.PlanCheck, 0})
				i = len(g.PlanChecks) - 1
			}
			g.PlanChecks[i].N++
		}
		if len(g.Examples) < maxExamples {
			g.Examples = append(g.Examples, c)
		}
	}
	slices.SortFunc(keys, func(a, b [3]string) int {
		return strings.Compare(strings.Join(a[:], "\x00"), strings.Join(b[:], "\x00"))
	})
	for _, k := range keys {
		rep.Groups = append(rep.Groups, *groups[k])
	}
	return rep, nil
}

func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	slices.Sort(a)
	return a
}

type readinessData struct {
	Jurisdictions []string
	Jurisdiction  string
	Report        *policies.Readiness
	Revision      string
	Error         string
}

func (s *Server) readinessForm(w http.ResponseWriter, r *http.Request, ss *session) {
	http.Redirect(w, r, "/readiness?"+url.Values{"jurisdiction": {r.PostFormValue("jurisdiction")}}.Encode(), http.StatusSeeOther)
}

func (s *Server) readiness(w http.ResponseWriter, r *http.Request, ss *session) {
	ctx := r.Context()
	d := readinessData{Jurisdiction: r.URL.Query().Get("jurisdiction")}
	st, err := s.cfg.Policy.GetStatus(ctx, &liaisonv1.GetStatusRequest{})
	if err != nil {
		s.gatewayError(w, r, ss, "The policy status could not be read", err)
		return
	}
	d.Jurisdictions, d.Revision = st.GetJurisdictions(), st.GetRevision()
	if d.Jurisdiction == "" {
		s.render(w, r, ss, http.StatusOK, "readiness", "Readiness", d)
		return
	}
	resp, err := s.cfg.Policy.GetReadiness(ctx, &liaisonv1.GetReadinessRequest{Jurisdiction: d.Jurisdiction})
	if err != nil {
		d.Error = describeError(err)
		s.render(w, r, ss, failedStatus(err), "readiness", "Readiness", d)
		return
	}
	b, err := protojson.Marshal(resp.GetReport())
	if err == nil {
		d.Report = &policies.Readiness{}
		err = json.Unmarshal(b, d.Report)
	}
	if err != nil {
		d.Report, d.Error = nil, "The gateway's readiness report is not one this console understands: "+err.Error()
	}
	d.Revision = resp.GetRevision()
	s.render(w, r, ss, http.StatusOK, "readiness", "Readiness: "+d.Jurisdiction, d)
}

// inputJSON renders a policy input for a form.
func inputJSON(in policies.Input) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(in)
	return strings.TrimSpace(b.String())
}
