package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"
	"time"
)

// The console's sessions. The officer's credentials stay in the process
// (the gRPC connection carries the token); the browser holds only a
// session cookie, which it gets by opening a one-time login link that the
// console prints on its terminal. The cookie is HttpOnly and
// SameSite=Strict, so no other site can make the browser send it; but a
// page on another port of this computer is the same site, so the console
// also refuses what another origin asks for (Server.auth, and
// http.CrossOriginProtection for forms). The link is useless once opened. One session at a time: opening a new link
// ends the previous session.

// loginTTL is how long an unused login link stays valid.
const loginTTL = 15 * time.Minute

// maxHandles bounds the saved filters (subject identifiers) of a session.
const maxHandles = 64

// A session is one browser's login.
type session struct {
	id       [32]byte // sha256 of the cookie value
	csrf     string
	lastSeen time.Time
	// handles keep form values that must not travel in a URL (a subject's
	// identifier), by an opaque random name that the URL carries instead.
	handles map[string]string
	order   []string
}

// save keeps v under a new opaque handle and returns it.
func (ss *session) save(v string) string {
	h := rand.Text()
	if ss.handles == nil {
		ss.handles = map[string]string{}
	}
	ss.handles[h] = v
	ss.order = append(ss.order, h)
	if len(ss.order) > maxHandles {
		delete(ss.handles, ss.order[0])
		ss.order = ss.order[1:]
	}
	return h
}

// sessions holds the login links not yet used and the current session.
type sessions struct {
	mu      sync.Mutex
	logins  map[[32]byte]time.Time // sha256 of a login code -> when it expires
	current *session
	idle    time.Duration
	now     func() time.Time
}

func newSessions(idle time.Duration, now func() time.Time) *sessions {
	return &sessions{logins: map[[32]byte]time.Time{}, idle: idle, now: now}
}

// newLogin returns a new one-time login code.
func (s *sessions) newLogin() string {
	code := rand.Text() + rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, exp := range s.logins {
		if now.After(exp) {
			delete(s.logins, k)
		}
	}
	s.logins[sha256.Sum256([]byte(code))] = now.Add(loginTTL)
	return code
}

// login spends a login code and, if it was valid, starts a session that
// replaces the current one; it returns the cookie value.
func (s *sessions) login(code string) (cookie string, ok bool) {
	k := sha256.Sum256([]byte(code))
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, found := s.logins[k]
	if !found || code == "" {
		return "", false
	}
	delete(s.logins, k)
	if s.now().After(exp) {
		return "", false
	}
	cookie = rand.Text() + rand.Text()
	s.current = &session{id: sha256.Sum256([]byte(cookie)), csrf: rand.Text(), lastSeen: s.now()}
	return cookie, true
}

// lookup returns the session the cookie value names, if it is current and
// not idle for too long.
func (s *sessions) lookup(cookie string) (*session, bool) {
	if cookie == "" {
		return nil, false
	}
	k := sha256.Sum256([]byte(cookie))
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.current
	if c == nil || subtle.ConstantTimeCompare(c.id[:], k[:]) != 1 {
		return nil, false
	}
	now := s.now()
	if now.Sub(c.lastSeen) > s.idle {
		s.current = nil
		return nil, false
	}
	c.lastSeen = now
	return c, true
}

// end ends the session ss if it is current.
func (s *sessions) end(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == ss {
		s.current = nil
	}
}

// handle returns the value saved under h in ss.
func (s *sessions) handle(ss *session, h string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := ss.handles[h]
	return v, ok
}

// saveHandle keeps v in ss under a new handle.
func (s *sessions) saveHandle(ss *session, v string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ss.save(v)
}

// validCSRF reports whether the request's form carries the session's
// token.
func validCSRF(ss *session, r *http.Request) bool {
	got := r.PostFormValue(csrfField)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) == 1
}

// csrfField is the name of the hidden form field that carries the token.
const csrfField = "csrf"
