package policies

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// An Activation records one attempt to make a policy tree active: what was
// loaded, from where, when, and why it failed if it did. The gateway
// records one audit entry per Activation.
type Activation struct {
	// Revision is the candidate's revision ([Engine.Revision]). On success
	// it is now active; on failure it is empty (the tree did not load) and
	// the previous revision stays active.
	Revision string `json:"revision,omitempty"`
	// Digest identifies the candidate: for a bundle the SHA-256 of its
	// bytes, otherwise its revision. On failure it is the same, if the
	// files could be read: the bundle's digest, or the revision the tree's
	// modules would have (computed from their bytes as [Engine.Revision]
	// is, also when they do not parse), so that a refused candidate and
	// the same modules activated later have one identifier.
	Digest string `json:"digest,omitempty"`
	// Source is where the candidate came from ([Source.String]).
	Source string `json:"source"`
	// Time is when the attempt ended.
	Time time.Time `json:"time"`
	// Err is why the candidate was not activated, or nil.
	Err error `json:"-"`
}

// OK reports whether the activation succeeded.
func (a Activation) OK() bool { return a.Err == nil }

// Status is what the Policy status RPC reports.
type Status struct {
	// Active is the activation that made the current engine active.
	Active Activation
	// Last is the latest attempt, successful or not. When Last.Err is set,
	// Active is still in force and Last says why the candidate was refused.
	Last Activation
}

// Active holds the policy engine the gateway decides with and swaps it
// atomically. Requests call Current once and decide with that engine, so
// an activation never fails or changes a request in flight: the old engine
// stays usable until nobody holds it. A candidate is activated only after
// it loaded completely (parsed, compiled in strict mode, its own tests
// passed, the built-in samples decided; for a bundle, its signature
// verified first); on any failure the previous engine stays active and
// the failure is recorded in Status. Methods are safe for concurrent use;
// activations are serialised.
type Active struct {
	// Now returns the current time, for Activation.Time. If nil, time.Now.
	// Set it before the first activation.
	Now func() time.Time

	mu    sync.Mutex // serialises activations
	state atomic.Pointer[activeState]
}

// activeState is the engine and the Status that says how it became
// active, stored together so that a reader never pairs one activation's
// engine with another's Status.
type activeState struct {
	engine *Engine
	status Status
}

// NewActive returns an Active holding e, an engine already loaded (with
// [LoadSource], [Load] or [LoadBundle]), active since time.Now(). It
// panics if e is nil. See [NewActiveAt].
func NewActive(e *Engine) *Active { return NewActiveAt(e, nil) }

// NewActiveAt is [NewActive] on the clock now (nil means time.Now): it
// sets Now, and e's activation, which Status reports, is at now().
func NewActiveAt(e *Engine, now func() time.Time) *Active {
	if e == nil {
		panic("policies: NewActive(nil)")
	}
	a := &Active{Now: now}
	first := Activation{Revision: e.Revision(), Digest: e.Digest(), Source: e.Source(), Time: a.now()}
	a.state.Store(&activeState{engine: e, status: Status{Active: first, Last: first}})
	return a
}

// Current returns the active engine. Callers should call it once per
// request and use that engine for the whole request.
func (a *Active) Current() *Engine {
	e, _ := a.Snapshot()
	return e
}

// Status returns the active activation and the latest attempt.
func (a *Active) Status() Status {
	_, st := a.Snapshot()
	return st
}

// Snapshot returns the active engine and the Status of the same moment:
// Status().Active is the activation that made that engine active. Calling
// Current and Status one after the other may straddle an activation.
func (a *Active) Snapshot() (*Engine, Status) {
	st := a.state.Load()
	if st == nil { // the zero Active: nothing active yet
		return nil, Status{}
	}
	return st.engine, st.status
}

// Activate loads the candidate from src and, if it loads, makes it active.
// It returns the Activation; its Err (also returned) says why the
// candidate was refused, in which case the previous engine stays active.
// Activating a candidate identical to the active engine succeeds and
// changes nothing but Status.
func (a *Active) Activate(ctx context.Context, src Source) (Activation, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.activate(ctx, src)
}

// activate is Activate with a.mu held.
func (a *Active) activate(ctx context.Context, src Source) (Activation, error) {
	e, err := LoadSource(ctx, src)
	act := Activation{Source: src.String()}
	if err != nil {
		act.Err = err
		act.Digest, _ = candidateDigest(src) // best effort: say which candidate failed
	} else {
		act.Revision, act.Digest = e.Revision(), e.Digest()
	}
	return a.record(act, e), act.Err
}

// record stamps act, stores it in Status, and swaps e in if act succeeded.
func (a *Active) record(act Activation, e *Engine) Activation {
	act.Time = a.now()
	var next activeState
	if cur := a.state.Load(); cur != nil {
		next = *cur
	}
	next.status.Last = act
	if act.Err == nil {
		next.engine, next.status.Active = e, act
	}
	a.state.Store(&next)
	return act
}

func (a *Active) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Watch polls src (a directory or a bundle file) every interval and
// activates it when its contents change, until ctx is done. For a
// directory the contents are every .rego file the loader reads, tests
// included; for a bundle, its bytes. A change is activated once it has
// been stable for one interval, so that a tree being copied or edited
// file by file is not loaded half-written. Watch starts from the tree the
// active engine was loaded from if it came from src (so a change made
// after that load, before Watch first looks, is activated); otherwise it
// starts from what src holds when Watch starts, and does not activate
// that: activate it first with Activate. A change that another caller
// has activated from src meanwhile (the Policy service's Reload) is not
// activated again. onChange,
// if not nil, is called with every activation Watch attempts, successful
// or not, also one that ends as ctx does (a candidate swapped in then is
// active, and one refused then is Status's last attempt), and with a
// failed Activation when src cannot be read (once per change of state);
// the gateway audits these. Watch returns ctx's error.
func (a *Active) Watch(ctx context.Context, src Source, interval time.Duration, onChange func(Activation)) error {
	if interval <= 0 {
		return errors.New("policies: Watch: interval must be positive")
	}
	seen, seenErr := a.watchBaseline(src) // the state Watch starts from
	pending := ""                         // a new state waiting to settle
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		fp, err := fingerprint(src)
		if err != nil {
			if seenErr == nil || seenErr.Error() != err.Error() {
				seenErr, seen, pending = err, "", ""
				act := a.recordFailure(Activation{Source: src.String(), Err: err})
				if onChange != nil {
					onChange(act)
				}
			}
			continue
		}
		if seenErr == nil && fp == seen {
			pending = ""
			continue
		}
		if fp != pending {
			// Changed: wait a whole interval for it to settle, counted
			// from now. Without the reset, a tick that came due while
			// this loop was busy (an activation running its tests, a
			// loaded machine) made this look at once, and the next tick
			// could come a moment later and find a half-written tree
			// "stable".
			pending = fp
			t.Reset(interval)
			continue
		}
		fresh := seenErr == nil
		seen, seenErr, pending = fp, nil, ""
		act, changed := a.activateChanged(ctx, src, fp, fresh)
		if !changed {
			continue
		}
		// Reported also when ctx ended meanwhile: a candidate swapped in
		// as the watch ends decides the requests still in flight, and
		// one refused because ctx ended is in Status all the same.
		if onChange != nil {
			onChange(act)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// watchBaseline is the fingerprint Watch compares src with first: that
// of the bytes the active engine was loaded from if it came from src,
// else what src holds now.
func (a *Active) watchBaseline(src Source) (string, error) {
	if e := a.Current(); e.Source() == src.String() && e.loaded != "" {
		return e.loaded, nil
	}
	return fingerprint(src)
}

// activateChanged is Watch's Activate of src, whose contents it saw with
// fingerprint fp. If fresh (Watch saw src read well before) and the
// active engine was loaded from src with those contents, another caller
// (the Policy service's Reload) activated them since Watch last looked:
// it activates nothing and reports false, since activating them again
// would record, and the gateway audit, a second activation of the same
// tree. The check and the activation hold a.mu, so a Reload running
// meanwhile is waited for.
func (a *Active) activateChanged(ctx context.Context, src Source, fp string, fresh bool) (Activation, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e := a.Current(); fresh && e.Source() == src.String() && e.loaded != "" && e.loaded == fp {
		return Activation{}, false
	}
	act, _ := a.activate(ctx, src)
	return act, true
}

// recordFailure records a failed attempt that loaded nothing.
func (a *Active) recordFailure(act Activation) Activation {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.record(act, nil)
}
