package policies

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The days of a law. A legal basis's valid_until, the last day it covers,
// is a day of the law that sets the basis: it ends at midnight at the end
// of that day in the time zone the basis's pack names (time_zone, an IANA
// name; UTC for a pack that names none), as the policy reads it
// (vocabulary.rego, basis_time_zone and wall_clock_ns). The pack is the
// one whose key is the first part of the basis's id ("dk" of
// dk.rpl.115.stk1.nr3), which is the holder's pack whose law governs the
// release. The gateway reads the days of a basis through the engine that
// decides (BasisEnded), so that the policy and the gateway never disagree
// on whether a basis has ended.

// loadZones reads the time zone of each of the tree's packs, by key. A
// pack that names one that does not load, or one that is not a string, is
// an error: the policy would fail on every decision about its dated bases.
func loadZones(ctx context.Context, packs *query) (map[string]*time.Location, error) {
	v, err := packs.eval(ctx, nil)
	if errors.Is(err, ErrUndefined) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("policies: load: packs: %w", err)
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return nil, nil
	}
	zones := map[string]*time.Location{}
	var errs []error
	obj.Foreach(func(k, p *ast.Term) {
		key, ok := k.Value.(ast.String)
		po, isObj := p.Value.(ast.Object)
		if !ok || !isObj {
			return
		}
		loc := time.UTC
		if tz := po.Get(ast.StringTerm("time_zone")); tz != nil {
			name, isStr := tz.Value.(ast.String)
			if !isStr {
				errs = append(errs, fmt.Errorf("policies: load: pack %s: time_zone is not a string", string(key)))
				return
			}
			if loc, err = time.LoadLocation(string(name)); err != nil || name == "" || name == "Local" {
				errs = append(errs, fmt.Errorf("policies: load: pack %s: time_zone %q is not an IANA time zone", string(key), string(name)))
				return
			}
		}
		zones[string(key)] = loc
	})
	return zones, errors.Join(errs...)
}

// BasisTimeZone is the time zone of the days of the law of legal basis
// id: the time_zone of the pack whose key is the first part of id, UTC if
// the policy has no such pack (or e is nil).
func (e *Engine) BasisTimeZone(id string) *time.Location {
	if e != nil {
		key, _, _ := strings.Cut(id, ".")
		if loc, ok := e.zones[key]; ok {
			return loc
		}
	}
	return time.UTC
}

// BasisDay is the day (YYYY-MM-DD) that t falls on where the law of legal
// basis id is (BasisTimeZone).
func (e *Engine) BasisDay(id string, t time.Time) string {
	return t.In(e.BasisTimeZone(id)).Format(time.DateOnly)
}

// BasisEnded reports whether legal basis id, valid until validUntil (its
// last day, YYYY-MM-DD; "" if it has no end), has ended at t: whether t
// falls after that day where the basis's law is. A basis valid until
// 2027-03-01 under Danish law has ended from 2027-03-01T23:00:00Z.
func (e *Engine) BasisEnded(id, validUntil string, t time.Time) bool {
	return validUntil != "" && validUntil < e.BasisDay(id, t)
}

// LatestDay is the latest day that t falls on in UTC or in the time zone
// of any of the policy's packs: no basis has ended at t whose last day is
// not before it.
func (e *Engine) LatestDay(t time.Time) string {
	day := t.UTC().Format(time.DateOnly)
	if e == nil {
		return day
	}
	for _, loc := range e.zones {
		day = max(day, t.In(loc).Format(time.DateOnly))
	}
	return day
}
