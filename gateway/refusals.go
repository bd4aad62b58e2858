package gateway

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
)

// refusalLimiter records refused authentications in the audit log: each
// one while a peer stays under a budget per window, then one summary entry
// per peer and window with the count by reason, so that a flood of
// refusals cannot fill the disk. A refusal is never dropped silently: it
// is either an entry of its own or counted in a summary.
type refusalLimiter struct {
	s      *Server
	budget int
	window time.Duration

	mu    sync.Mutex
	peers map[string]*refusalWindow
}

type refusalWindow struct {
	start      time.Time
	recorded   int
	suppressed map[string]int // reason -> count
	agency     string
}

// maxRefusalPeers bounds the peers tracked; more are pooled under "*".
const maxRefusalPeers = 10000

func newRefusalLimiter(s *Server, budget int, window time.Duration) *refusalLimiter {
	return &refusalLimiter{s: s, budget: budget, window: window, peers: map[string]*refusalWindow{}}
}

// refuse records one refused authentication by peer.
func (l *refusalLimiter) refuse(ctx context.Context, peer, method string, ae *authn.Error) {
	now := l.s.now()
	l.mu.Lock()
	w, ok := l.peers[peer]
	if !ok && len(l.peers) >= maxRefusalPeers {
		peer = "*"
		w, ok = l.peers[peer]
	}
	var summary *audit.Entry
	if ok && now.Sub(w.start) >= l.window {
		summary = l.summary(peer, w, now)
		ok = false
	}
	if !ok {
		w = &refusalWindow{start: now, suppressed: map[string]int{}, agency: ae.Agency}
		l.peers[peer] = w
	}
	record := w.recorded < l.budget
	if record {
		w.recorded++
	} else {
		w.suppressed[ae.Reason]++
	}
	l.mu.Unlock()

	if summary != nil {
		l.append(ctx, summary)
	}
	l.s.log.WarnContext(ctx, "authentication refused", "reason", ae.Reason, "claimed_agency", ae.Agency, "method", method, "recorded", record)
	if !record {
		return
	}
	e := &audit.Entry{
		Time: now, Action: audit.ActionAuthenticate, Outcome: audit.OutcomeRefused,
		Reasons: []string{ae.Reason}, Detail: map[string]string{"method": method, "peer": peer},
	}
	if ae.Agency != "" {
		e.Requester = &audit.Requester{Agency: ae.Agency}
	}
	if p, ok := peerFromContext(ctx); ok {
		// A call through a peer gateway, for that agency: the peer's
		// pending entry names the same assertion.
		e.Detail["via_peer"], e.Detail["assertion_sha256"] = p.peer.ID, p.assertion
	}
	l.append(ctx, e)
}

// summary builds the entry for a window's suppressed refusals, or nil.
func (l *refusalLimiter) summary(peer string, w *refusalWindow, now time.Time) *audit.Entry {
	if len(w.suppressed) == 0 {
		return nil
	}
	total := 0
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(w.suppressed)) {
		total += w.suppressed[r]
		parts = append(parts, fmt.Sprintf("%s=%d", r, w.suppressed[r]))
	}
	e := &audit.Entry{
		Time: now, Action: audit.ActionAuthenticate, Outcome: audit.OutcomeRefused,
		Reasons: slices.Sorted(maps.Keys(w.suppressed)),
		Detail: map[string]string{
			"peer": peer, "summary": "true", "suppressed": fmt.Sprint(total), "by_reason": strings.Join(parts, ","),
			"window_start": w.start.UTC().Format(time.RFC3339), "window_end": now.UTC().Format(time.RFC3339),
		},
	}
	if w.agency != "" {
		e.Requester = &audit.Requester{Agency: w.agency}
	}
	return e
}

// flush writes the summaries of windows that have ended; Run calls it.
func (l *refusalLimiter) flush(ctx context.Context, all bool) {
	now := l.s.now()
	var out []*audit.Entry
	l.mu.Lock()
	for peer, w := range l.peers {
		if all || now.Sub(w.start) >= l.window {
			if e := l.summary(peer, w, now); e != nil {
				out = append(out, e)
			}
			delete(l.peers, peer)
		}
	}
	l.mu.Unlock()
	for _, e := range out {
		l.append(ctx, e)
	}
}

func (l *refusalLimiter) append(ctx context.Context, e *audit.Entry) {
	if _, err := l.s.append(ctx, e); err != nil {
		l.s.log.ErrorContext(ctx, "audit of a refused authentication failed", "reasons", e.Reasons, "error", err)
	}
}

// FlushRefusals writes the summaries of every open window now, as on
// shutdown.
func (s *Server) FlushRefusals(ctx context.Context) { s.refusals.flush(ctx, true) }
