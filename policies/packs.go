package policies

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
)

// A Pack describes a jurisdiction pack of a loaded tree: what the status
// and readiness reports show of it. Deciding never needs it.
type Pack struct {
	// Code is the jurisdiction code, e.g. "DE-BY".
	Code string `json:"code"`
	// LawName is how reasons name the law, e.g. "Bavarian law".
	LawName string `json:"law_name"`
	// Assumption is the pack's own assumption (what a denial for want of a
	// basis may rest on), or empty.
	Assumption string `json:"assumption,omitempty"`
	// Bases are the pack's legal bases, by id.
	Bases []Provision `json:"bases"`
	// Receipt are the rules that let the pack's agencies receive from
	// other jurisdictions, by id.
	Receipt []Provision `json:"receipt,omitempty"`
	// Practice is how the work is organised, as the pack describes it.
	Practice Practice `json:"practice"`
	// CaseKinds are the kinds of multi-agency case the pack's law knows,
	// by id.
	CaseKinds []Provision `json:"case_kinds,omitempty"`
	// RequiredNotices are the rules that make notices required, by id.
	RequiredNotices []Provision `json:"required_notices,omitempty"`
}

// A Provision is a legal basis or receipt rule of a pack.
type Provision struct {
	ID         string `json:"id"`
	Title      string `json:"title,omitempty"`
	Citation   string `json:"citation"`
	Assumption string `json:"assumption,omitempty"`
}

// Practice is how multi-agency work is organised in a jurisdiction, as its
// pack describes it (the pack's "practice" rule). It is not law: it tells
// the readiness report whom to ask about, and it decides nothing. Agency
// kinds are the words of the vocabulary; empty means not described.
type Practice struct {
	// MAW names the multi-agency working group.
	MAW string `json:"maw"`
	// CaseLead is the kind of agency that usually leads a case.
	CaseLead string `json:"case_lead"`
	// RiskAssessors are the kinds of agency that assess risk before and
	// after release.
	RiskAssessors struct {
		BeforeRelease string `json:"before_release"`
		AfterRelease  string `json:"after_release"`
	} `json:"risk_assessors"`
	// ExitProgrammeKinds run exit (disengagement) programmes.
	ExitProgrammeKinds []string `json:"exit_programme_kinds"`
	// FamilyContactKinds are in contact with the family.
	FamilyContactKinds []string `json:"family_contact_kinds"`
	// Source says where the description comes from.
	Source string `json:"source"`
	// Assumption says what in it is unverified.
	Assumption string `json:"assumption"`
}

// Packs returns the jurisdiction packs of the tree, sorted by code. A tree
// without packs returns none.
func (e *Engine) Packs(ctx context.Context) ([]Pack, error) {
	v, err := e.packs.eval(ctx, nil)
	if errors.Is(err, ErrUndefined) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("policies: packs: %w", err)
	}
	x, err := ast.JSON(v)
	if err != nil {
		return nil, fmt.Errorf("policies: packs: %v", err)
	}
	b, err := json.Marshal(x)
	if err != nil {
		return nil, fmt.Errorf("policies: packs: %v", err)
	}
	var raw map[string]struct {
		Code       string                     `json:"code"`
		LawName    string                     `json:"law_name"`
		Assumption string                     `json:"assumption"`
		Bases      map[string]json.RawMessage `json:"bases"`
		Receipt    map[string]json.RawMessage `json:"receipt"`
		Practice   Practice                   `json:"practice"`
		CaseKinds  map[string]json.RawMessage `json:"case_kinds"`
		Notices    map[string]json.RawMessage `json:"required_notices"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("policies: packs: %v", err)
	}
	var packs []Pack
	for _, r := range raw {
		if r.Code == "" {
			continue
		}
		p := Pack{Code: r.Code, LawName: r.LawName, Assumption: r.Assumption, Practice: r.Practice}
		if p.Bases, err = provisions(r.Bases); err != nil {
			return nil, err
		}
		if p.Receipt, err = provisions(r.Receipt); err != nil {
			return nil, err
		}
		if p.CaseKinds, err = provisions(r.CaseKinds); err != nil {
			return nil, err
		}
		if p.RequiredNotices, err = provisions(r.Notices); err != nil {
			return nil, err
		}
		packs = append(packs, p)
	}
	slices.SortFunc(packs, func(a, b Pack) int { return cmp.Compare(a.Code, b.Code) })
	return packs, nil
}

// Pack returns the pack for jurisdiction code, and whether there is one.
func (e *Engine) Pack(ctx context.Context, code string) (Pack, bool, error) {
	packs, err := e.Packs(ctx)
	if err != nil {
		return Pack{}, false, err
	}
	for _, p := range packs {
		if p.Code == code {
			return p, true, nil
		}
	}
	return Pack{}, false, nil
}

func provisions(m map[string]json.RawMessage) ([]Provision, error) {
	var ps []Provision
	for id, raw := range m {
		var p Provision
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("policies: packs: %s: %v", id, err)
		}
		p.ID = id
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b Provision) int { return cmp.Compare(a.ID, b.ID) })
	return ps, nil
}
