package policies

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Obligations a [Retention] can give.
const (
	ObligationErase  = "erase"
	ObligationRetain = "retain"
)

// Retention is the policy's answer to what a recipient may keep once the
// legal basis it received data under has ended (data.liaison.retention):
// erase it, or keep it under the named rule until Rule.RetainUntil.
type Retention struct {
	Obligation string         `json:"obligation"`
	Rule       *RetentionRule `json:"rule,omitempty"`
	Reasons    []Reason       `json:"reasons"`
}

// RetentionRule is the rule under which a recipient keeps data after the
// basis ended.
type RetentionRule struct {
	ID          string `json:"id"`
	Citation    string `json:"citation"`
	RetainUntil string `json:"retain_until"` // YYYY-MM-DD
	Assumption  string `json:"assumption,omitempty"`
}

// Retention evaluates data.liaison.retention for in, the input of a
// release with Time the first day its basis no longer covers, written as
// its midnight UTC (retain_days count whole days from that day). A tree that does not define it, or an answer that breaks the
// contract, is an error; callers SHOULD then oblige the recipient to
// erase (the answer that keeps least).
func (e *Engine) Retention(ctx context.Context, in Input) (Retention, error) {
	v, err := e.retention.eval(ctx, in.value())
	if err != nil {
		return Retention{}, err
	}
	var r Retention
	if err := decodeValue(v, &r); err != nil {
		return Retention{}, err
	}
	if err := r.validate(); err != nil {
		return Retention{}, err
	}
	return r, nil
}

func (r *Retention) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: retention: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	switch r.Obligation {
	case ObligationErase:
		if r.Rule != nil {
			return bad("obligation erase with a rule")
		}
	case ObligationRetain:
		if r.Rule == nil || r.Rule.ID == "" || r.Rule.Citation == "" {
			return bad("obligation retain needs a rule with an id and a citation")
		}
		if _, err := time.Parse(time.DateOnly, r.Rule.RetainUntil); err != nil {
			return bad("rule.retain_until %q is not a date YYYY-MM-DD", r.Rule.RetainUntil)
		}
	default:
		return bad("unknown obligation %q", r.Obligation)
	}
	if len(r.Reasons) == 0 {
		return errors.Join(ErrMalformed, errors.New("policies: retention: no reasons"))
	}
	for _, x := range r.Reasons {
		if !codeRE.MatchString(x.Code) || x.Message == "" {
			return bad("reason %+v needs an UPPER_SNAKE code and a message", x)
		}
	}
	return nil
}
