package policies

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// genInputs returns n policy inputs drawn deterministically from seed:
// every action, jurisdiction pair, agency kind, record type, purpose and
// claimed basis, subjects with dates around the edges of the release
// windows and probation, custody and categories, cases with and without
// the parties as members, officers of every clearance, times of day and
// zones, and some invalid values of each. About half aim at a legal basis
// or fallback rule of a pack (genScopes) and then change one or two
// things, so that allowed exchanges and near misses are as common as
// plain refusals. About one in ten is an action on a multi-agency case
// (caseAction), and a notify or disclose mostly carries a subject event
// and the route by which its recipient was found (eventRoute), now and
// then malformed or where none belongs.
//
// The same seed and n always give the same inputs: the equivalence log in
// testdata/equivalence records them, and TestEquivalenceLogIsGenerated
// checks that the generator still produces it.
func genInputs(seed uint64, n int) []Input {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	out := make([]Input, n)
	for i := range out {
		out[i] = g.input()
	}
	return out
}

type gen struct{ r *rand.Rand }

var (
	genJurisdictions = []string{"DK", "NL", "BE", "FR", "DE-BY", "DE-NI"}
	genActions       = []string{"disclose", "request", "notify", "match", "translate", "reidentify"}
	genKinds         = []string{"police", "probation", "prison", "social_services", "local_authority", "intelligence", "ngo"}
	genRecordTypes   = []string{"release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "family_contact", "case_plan", "police_observation"}
	genPurposes      = []string{"risk_management", "resocialisation", "maw_case_management", "family_support", "criminal_investigation", "statistics"}
	genCategories    = []string{"convicted", "suspect", "victim", "other", ""}
	genClearances    = []string{"none", "restricted", "confidential", "secret", "top_secret", ""}
	genRoles         = []string{"case_officer", "legal_officer", "release_officer", "analyst"}
	// Days from "now" to a release or probation end: the edges of every
	// window of the packs (90, 180 and 3650 days before a release, 365
	// after) and of probation, each side of them, and some ordinary ones.
	genDayOffsets = []int{
		-3651, -3650, -3649, -400, -366, -365, -364, -200, -181, -180, -179,
		-91, -90, -89, -30, -2, -1, 0, 1, 2, 30, 89, 90, 91, 179, 180, 181,
		364, 365, 366, 400, 3649, 3650, 3651, 5000,
	}
	genBadJurisdictions = []string{"SE", "XX", "", "dk", "DE", "EU"}
	genBadWords         = []string{"", "delete", "Police", "dossier", "curiosity", "risk management"}
	genBadDates         = []string{"2026-02-30", "2026-13-01", "26-11-2026", "2026-11-26T10:00:00Z", "tomorrow", "1899-12-31"}
	genBadTimes         = []string{"", "yesterday", "2026-11-26", "2026-02-30T10:00:00Z", "2026-11-26 10:00:00", "2026-11-26T25:00:00Z"}
)

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// chance is true with probability p.
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// word is a word of vocab, or with probability bad an invalid one.
func (g *gen) word(vocab []string, bad float64) string {
	if g.chance(bad) {
		return g.pick(genBadWords)
	}
	return g.pick(vocab)
}

// agency names an agency of kind in jurisdiction j; two of each exist.
func (g *gen) agency(j, kind string) Party {
	return Party{
		Agency:       fmt.Sprintf("%s-%s-%d", strings.ToLower(cmpOr(j, "xx")), strings.ReplaceAll(cmpOr(kind, "unknown"), "_", "-"), 1+g.r.IntN(2)),
		Kind:         kind,
		Jurisdiction: j,
	}
}

func cmpOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// other returns a jurisdiction other than j: mostly a listed one, now and
// then an unknown one.
func (g *gen) other(j string) string {
	if g.chance(0.04) {
		return g.pick(genBadJurisdictions)
	}
	for {
		if o := g.pick(genJurisdictions); o != j {
			return o
		}
	}
}

func (g *gen) input() Input {
	if g.chance(0.1) {
		return g.caseAction()
	}
	var in Input
	aimed := g.chance(0.5)
	if aimed {
		in = g.aimed()
	} else {
		in = g.random()
	}
	in.Time = g.time()
	in.Subject = g.subject(in, aimed)
	in.Requester.Officer = g.officer()
	in.Justification = g.pick([]string{"", "Release scheduled.", "Case review.", "Imminent risk."})
	if in.Case == nil && g.chance(0.35) {
		in.Case = g.caseFor(in, g.chance(0.6))
	}
	g.eventRoute(&in)
	if g.chance(0.25) {
		in.Provenance = g.provenance(in)
	}
	g.breakSomething(&in)
	return in
}

// genConditions are the handling conditions a record can come with: the
// shared ones, every pack's own (onward in each pack), and some no rule
// defines or that are not codes.
var genConditions = []string{
	"NO_ONWARD_DISCLOSURE", "NO_ONWARD_DISCLOSURE", "CASE_PURPOSE_ONLY", "CASE_PURPOSE_ONLY",
	"STATISTICS_ONLY", "LED_ART7_ASSESSMENT_NOT_FACT", "LED_ART15_RESTRICTED",
	"BE_ART458TER_CONSULTATION_SECRECY", "BE_COMMON_DATABASE_NEED_TO_KNOW", "DE_BY_FAMILY_WORK_ONLY",
	"DE_NI_INDIVIDUAL_MEASURE_PLAN", "DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION",
	"FR_INTELLIGENCE_PURPOSES_ONLY", "FR_REINTEGRATION_PROGRAMME_ONLY", "FR_SHARED_PROFESSIONAL_SECRECY",
	"NO_REIDENTIFICATION_WITHOUT_CASE", "ZZ_UNKNOWN_CONDITION",
}

// provenance is the release the record of in was received under: mostly
// from an agency the record may go back to or inside in's case, under a
// basis still in force or ended around the request's day, with some of
// the conditions, now and then not valid.
func (g *gen) provenance(in Input) *Provenance {
	p := &Provenance{
		AuditIndex: int64(1 + g.r.IntN(100000)),
		Recipient:  in.Holder,
		LegalBasis: g.claim(in.Holder.Jurisdiction),
		Purpose:    g.pick(append([]string{"", in.Purpose}, genPurposes...)),
	}
	switch x := g.r.Float64(); {
	case x < 0.35:
		p.Holder = in.Recipient // back to where it came from
	case x < 0.7 && in.Case != nil && len(in.Case.Members) > 0:
		p.Holder = g.agency(in.Holder.Jurisdiction, g.pick(genKinds))
		p.Holder.Agency = g.pick(in.Case.Members)
	default:
		j := in.Holder.Jurisdiction
		if g.chance(0.2) {
			j = g.other(j)
		}
		p.Holder = g.agency(j, g.pick(genKinds))
	}
	if in.Case != nil && g.chance(0.6) {
		p.CaseID = in.Case.ID
	} else if g.chance(0.2) {
		p.CaseID = fmt.Sprintf("%s-CASE-%04d", cmpOr(in.Holder.Jurisdiction, "XX"), g.r.IntN(10000))
	}
	now, err := time.Parse(time.RFC3339, in.Time)
	if err != nil {
		now = genBase.AddDate(1, 0, 0)
	}
	p.ValidUntil = g.date(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC))
	p.Conditions = []string{}
	for range g.r.IntN(4) {
		p.Conditions = append(p.Conditions, g.pick(genConditions))
	}
	switch x := g.r.Float64(); {
	case x < 0.02:
		p.Conditions = nil
	case x < 0.04:
		p.Conditions = append(p.Conditions, "not a code")
	case x < 0.05:
		p.AuditIndex = -1
	case x < 0.06:
		p.Holder.Kind = g.pick(genBadWords)
	case x < 0.07:
		p.Purpose = g.pick(genBadWords)
	}
	return p
}

// genCaseKinds are the kinds of multi-agency case of the packs, by
// jurisdiction (cases.rego of each pack).
var genCaseKinds = map[string][]string{
	"BE":    {"be.livcr"},
	"DE-BY": {"de_by.netzwerk"},
	"DE-NI": {"de_ni.fallkonferenz"},
	"DK":    {"dk.ksp", "dk.ssp"},
	"FR":    {"fr.cpraf", "fr.ged"},
	"NL":    {"nl.zvh"},
}

// caseAction draws an action on a multi-agency case: the requester acts
// for its agency (as holder), on another agency (the recipient) when it
// invites, removes or hands over; the case with its kind, jurisdiction,
// members, invited agencies and the requester's standing, each now and
// then missing, of another pack or not valid.
func (g *gen) caseAction() Input {
	in := Input{Action: g.word(CaseActions, 0.02), Time: g.time()}
	j := g.pick(genJurisdictions)
	if g.chance(0.03) {
		j = g.pick(genBadJurisdictions)
	}
	me := g.agency(j, g.word(genKinds, 0.02))
	other := g.agency(j, g.pick(genKinds))
	if g.chance(0.15) {
		other = g.agency(g.other(j), g.pick(genKinds))
	}
	in.Holder, in.Recipient = me, me
	if in.Action == "case_invite" || in.Action == "case_remove" || in.Action == "case_handover" || g.chance(0.05) {
		in.Recipient = other
	}
	in.Requester = Requester{Agency: me.Agency, Kind: me.Kind, Jurisdiction: me.Jurisdiction, Officer: g.officer()}
	if g.chance(0.03) {
		in.Requester.Agency = g.agency(j, g.pick(genKinds)).Agency
	}
	in.Purpose = g.pick([]string{"", "", g.pick(genPurposes)})
	in.Subject = g.subject(in, false)
	c := &Case{ID: fmt.Sprintf("%s-CASE-%04d", cmpOr(j, "XX"), g.r.IntN(10000))}
	kinds := genCaseKinds[j]
	switch x := g.r.Float64(); {
	case x < 0.8 && len(kinds) > 0:
		c.Kind = g.pick(kinds)
	case x < 0.9:
		c.Kind = g.pick(genCaseKinds[g.pick(genJurisdictions)])
	case x < 0.95:
		c.Kind = ""
	default:
		c.Kind = g.pick([]string{"zz.unknown", "nl.zvh.x", "KSP"})
	}
	switch x := g.r.Float64(); {
	case x < 0.5:
	case x < 0.85:
		c.Jurisdiction = j
	case x < 0.95:
		c.Jurisdiction = g.other(j)
	default:
		c.Jurisdiction = g.pick(genBadJurisdictions)
	}
	// Who is in the case before the action: the requester as lead,
	// member, invited or stranger; the other agency likewise.
	lead := g.agency(j, g.pick(genKinds)).Agency
	standing := g.pick([]string{"lead", "member", "invited", "none"})
	if g.chance(0.7) { // mostly the standing the action needs
		switch in.Action {
		case "case_open":
			standing = "none"
		case "case_invite", "case_remove", "case_handover", "case_close":
			standing = "lead"
		case "case_accept", "case_decline":
			standing = "invited"
		case "case_leave":
			standing = "member"
		}
	}
	switch standing {
	case "lead":
		lead = me.Agency
		c.Members = append(c.Members, me.Agency)
	case "member":
		c.Members = append(c.Members, me.Agency)
	case "invited":
		c.Invited = append(c.Invited, me.Agency)
	}
	switch g.r.IntN(4) {
	case 0:
		c.Members = append(c.Members, other.Agency)
	case 1:
		c.Invited = append(c.Invited, other.Agency)
	case 2:
		if g.chance(0.5) {
			lead = other.Agency
		}
	}
	if !slices.Contains(c.Members, lead) && g.chance(0.9) {
		c.Members = append(c.Members, lead)
	}
	for range g.r.IntN(3) {
		c.Members = append(c.Members, g.agency(j, g.pick(genKinds)).Agency)
	}
	slices.Sort(c.Members)
	c.Members = slices.Compact(c.Members)
	c.Lead = lead
	if g.chance(0.3) {
		c.RequesterStatus = standing
		if g.chance(0.1) {
			c.RequesterStatus = g.pick([]string{"", "owner", "Lead"})
		}
	}
	switch x := g.r.Float64(); {
	case x < 0.02:
		c.ID = ""
	case x < 0.04:
		c.Members = nil
	case x < 0.05:
		c.Lead = ""
	}
	if !g.chance(0.02) {
		in.Case = c
	}
	g.breakSomething(&in)
	return in
}

// genRoutes are the routes by which a gateway finds a recipient, with
// the area or case some of them need now and then left out.
var genRoutes = []string{"named", "competent", "case_member", "earlier_recipient"}

// eventRoute gives a notify its subject event and a disclose or notify
// the route to its recipient, mostly valid; now and then an event or a
// route where none belongs, or one not known.
func (g *gen) eventRoute(in *Input) {
	pushed := in.Action == "disclose" || in.Action == "notify"
	switch {
	case in.Action == "notify" && g.chance(0.85), g.chance(0.03):
		ev := &Event{Type: g.pick(EventTypes)}
		if g.chance(0.04) {
			ev.Type = g.pick([]string{"", "escaped", "Released"})
		}
		in.Event = ev
	}
	if (pushed && g.chance(0.6)) || g.chance(0.03) {
		r := &Route{Role: g.pick(genRoutes)}
		switch {
		case g.chance(0.04):
			r.Role = g.pick([]string{"", "guessed", "Named"})
		case r.Role == "competent" && !g.chance(0.05):
			r.Area = g.pick([]string{"Aarhus", "Rotterdam", "Molenbeek", "München"})
		case r.Role == "case_member" && !g.chance(0.05):
			r.Case = fmt.Sprintf("%s-CASE-%04d", cmpOr(in.Holder.Jurisdiction, "XX"), g.r.IntN(10000))
		}
		if r.Role == "earlier_recipient" && g.chance(0.7) {
			r.Basis = in.ClaimedLegalBasis
		}
		in.Route = r
	}
}

// random draws every part independently.
func (g *gen) random() Input {
	in := Input{
		Action:     g.word(genActions, 0.02),
		RecordType: g.word(genRecordTypes, 0.02),
		Purpose:    g.word(genPurposes, 0.02),
	}
	hj := g.pick(genJurisdictions)
	if g.chance(0.03) {
		hj = g.pick(genBadJurisdictions)
	}
	rj := hj
	if g.chance(0.35) {
		rj = g.other(hj)
	}
	holder := g.agency(hj, g.word(genKinds, 0.02))
	recipient := g.agency(rj, g.word(genKinds, 0.02))
	if in.Action == "translate" || in.Action == "reidentify" {
		if g.chance(0.8) {
			in.RecordType = ""
		}
		if g.chance(0.85) {
			recipient = holder
		}
	}
	in.Holder, in.Recipient = holder, recipient
	in.Requester = g.requesterFor(in.Action, holder, recipient)
	in.ClaimedLegalBasis = g.claim(hj)
	return in
}

// aimed draws an exchange a legal basis or fallback rule covers.
func (g *gen) aimed() Input {
	s := genScopes[g.r.IntN(len(genScopes))]
	hj := scopeJurisdiction(s.ID)
	in := Input{Action: g.pick(s.Actions), Purpose: g.pick(s.Purposes)}
	rj := hj
	switch {
	case len(s.RecipientJurisdictions) > 0 && g.chance(0.7):
		rj = g.pick(s.RecipientJurisdictions)
	case g.chance(0.25):
		rj = g.other(hj)
	}
	if len(s.RequesterKinds) > 0 {
		p := g.agency(hj, g.pick(s.RequesterKinds))
		in.Holder, in.Recipient = p, p
	} else {
		in.RecordType = g.pick(s.RecordTypes)
		in.Holder = g.agency(hj, g.pick(s.HolderKinds))
		in.Recipient = g.agency(rj, g.pick(s.RecipientKinds))
	}
	in.Requester = g.requesterFor(in.Action, in.Holder, in.Recipient)
	switch {
	case g.chance(0.4) && !strings.Contains(s.ID, " "):
		in.ClaimedLegalBasis = s.ID
	default:
		in.ClaimedLegalBasis = g.claim(hj)
	}
	if s.RequiresCase || g.chance(0.3) {
		in.Case = g.caseFor(in, g.chance(0.85))
	}
	return in
}

// scopeJurisdiction is the jurisdiction of a scope: "DK fallback 0" or a
// basis id "de_by.pag.laender".
func scopeJurisdiction(id string) string {
	if j, _, ok := strings.Cut(id, " "); ok {
		return j
	}
	key, _, _ := strings.Cut(id, ".")
	return strings.ToUpper(strings.ReplaceAll(key, "_", "-"))
}

// requesterFor is the party that fits action (holder for a push, recipient
// for a pull), or now and then another agency.
func (g *gen) requesterFor(action string, holder, recipient Party) Requester {
	p := recipient
	if action == "disclose" || action == "notify" {
		p = holder
	}
	switch {
	case g.chance(0.04):
		p = g.agency(p.Jurisdiction, g.pick(genKinds))
	case g.chance(0.02):
		p.Jurisdiction = g.other(p.Jurisdiction)
	}
	return Requester{Agency: p.Agency, Kind: p.Kind, Jurisdiction: p.Jurisdiction}
}

// claim is a claimed basis: mostly none, else one of the holder's pack,
// of another pack, or an unknown id.
func (g *gen) claim(j string) string {
	switch x := g.r.Float64(); {
	case x < 0.6:
		return ""
	case x < 0.9:
		var ids []string
		for _, s := range genScopes {
			if !strings.Contains(s.ID, " ") && scopeJurisdiction(s.ID) == j {
				ids = append(ids, s.ID)
			}
		}
		if len(ids) > 0 {
			return g.pick(ids)
		}
		return "zz.unknown"
	case x < 0.96:
		s := genScopes[g.r.IntN(len(genScopes))]
		if strings.Contains(s.ID, " ") {
			return ""
		}
		return s.ID
	default:
		return g.pick([]string{"dk.rpl.115", "nl.zvh", "gdpr.art6", "anything"})
	}
}

// genBase is the first day requests are drawn from: 2025-01-01.
var genBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// time is the time of a request between 2025 and 2028: any second of the
// day, the first or last second of a day, in UTC or another zone, with or
// without a fraction, and now and then not a valid time.
func (g *gen) time() string {
	day := genBase.AddDate(0, 0, g.r.IntN(4*365))
	t := day.Add(time.Duration(g.r.IntN(24*3600)) * time.Second)
	switch x := g.r.Float64(); {
	case x < 0.03:
		return g.pick(genBadTimes)
	case x < 0.10:
		// An edge of the day in UTC.
		t = day.Add(g.pick2(0, 24*time.Hour-time.Second))
		return t.Format(time.RFC3339)
	case x < 0.16:
		return t.In(time.FixedZone("", 3600*(g.r.IntN(5)-2))).Format(time.RFC3339)
	case x < 0.20:
		return t.Add(time.Duration(g.r.IntN(1e9))).Format(time.RFC3339Nano)
	}
	return t.Format(time.RFC3339)
}

func (g *gen) pick2(a, b time.Duration) time.Duration {
	if g.chance(0.5) {
		return a
	}
	return b
}

// subject draws the person's attributes, with dates near the edges of the
// windows counted from the request's day; for an aimed input mostly a
// convicted person, whom most bases cover. translate and reidentify
// usually carry none (the gateway does not know them).
func (g *gen) subject(in Input, aimed bool) Subject {
	if (in.Action == "translate" || in.Action == "reidentify") && g.chance(0.85) {
		return Subject{}
	}
	s := Subject{
		Category:     g.pick(genCategories),
		InCustody:    g.chance(0.4),
		Municipality: g.pick([]string{"", "Aarhus", "Rotterdam", "München"}),
	}
	switch {
	case aimed && g.chance(0.6):
		s.Category = "convicted"
	case g.chance(0.02):
		s.Category = g.pick([]string{"offender", "Convicted"})
	}
	now, err := time.Parse(time.RFC3339, in.Time)
	if err != nil {
		now = genBase.AddDate(1, 0, 0)
	}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	s.ReleaseDate = g.date(day)
	s.ProbationUntil = g.date(day)
	return s
}

func (g *gen) date(day time.Time) string {
	switch x := g.r.Float64(); {
	case x < 0.25:
		return ""
	case x < 0.27:
		return g.pick(genBadDates)
	case x < 0.85:
		return day.AddDate(0, 0, genDayOffsets[g.r.IntN(len(genDayOffsets))]).Format(time.DateOnly)
	default:
		return day.AddDate(0, 0, g.r.IntN(4000)-2000).Format(time.DateOnly)
	}
}

func (g *gen) officer() Officer {
	o := Officer{ID: fmt.Sprintf("officer-%d", g.r.IntN(50)), Clearance: g.pick(genClearances)}
	if g.chance(0.02) {
		o.Clearance = g.pick([]string{"Secret", "cosmic", "unknown"})
	}
	switch n := g.r.IntN(4); n {
	case 0:
	default:
		for range n {
			o.Roles = append(o.Roles, g.pick(genRoles))
		}
	}
	return o
}

// caseFor is a case around in's parties: with all of them as members if
// all is true, else with some left out or strangers added.
func (g *gen) caseFor(in Input, all bool) *Case {
	members := []string{in.Holder.Agency, in.Recipient.Agency, in.Requester.Agency}
	if !all {
		members = slices.DeleteFunc(members, func(string) bool { return g.chance(0.5) })
	}
	for range g.r.IntN(3) {
		members = append(members, g.agency(in.Holder.Jurisdiction, g.pick(genKinds)).Agency)
	}
	if !g.chance(0.02) { // duplicates make a case invalid
		slices.Sort(members)
		members = slices.Compact(members)
		g.r.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	}
	c := &Case{ID: fmt.Sprintf("%s-CASE-%04d", cmpOr(in.Holder.Jurisdiction, "XX"), g.r.IntN(10000)), Members: members}
	if len(members) > 0 {
		c.Lead = g.pick(members)
	}
	switch x := g.r.Float64(); {
	case x < 0.02:
		c.ID = ""
	case x < 0.04:
		c.Lead = "someone-else"
	case x < 0.05:
		c.Members = nil
	case x < 0.06:
		c.Members = []string{}
	case x < 0.07:
		c.Members = append(c.Members, "")
	}
	return c
}

// breakSomething now and then makes one part of in invalid or missing, so
// that every validation reason comes up.
func (g *gen) breakSomething(in *Input) {
	if !g.chance(0.06) {
		return
	}
	switch g.r.IntN(9) {
	case 0:
		in.Action = g.pick(genBadWords)
	case 1:
		in.RecordType = g.pick(genBadWords)
	case 2:
		in.Purpose = g.pick(genBadWords)
	case 3:
		in.Holder.Agency = ""
	case 4:
		in.Recipient.Kind = g.pick(genBadWords)
	case 5:
		in.Recipient.Jurisdiction = g.pick(genBadJurisdictions)
	case 6:
		in.Requester.Kind = g.pick(genBadWords)
	case 7:
		in.Subject.ReleaseDate = g.pick(genBadDates)
	case 8:
		in.Holder.Jurisdiction = g.pick(genBadJurisdictions)
	}
}
