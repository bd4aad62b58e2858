// Package console is Liaison's web console for auditors and legal
// officers: a client of the gateway's Audit, Policy, Notices and Aftercare
// services that an officer runs with their own credentials
// (`liaison console`) and opens in a browser.
//
// It holds no authority of its own: every page is answered with the
// officer's gRPC connection, so the gateway decides what they may read and
// records every read of the log as theirs. Proofs are checked here, by
// [audit.Client], against the checkpoint the officer trusted before, with
// the verifier key they were given out of band. The exercises page plays
// the worked exercise scenarios embedded in the binary on a gateway
// started for the exercise alone (package exercise), never on the gateway
// the officer's credentials reach.
//
// The pages are rendered on the server with html/template; the style sheet
// is embedded; there is no script at all, and charts are SVG drawn on the
// server. The browser holds a session cookie (HttpOnly, SameSite=Strict)
// that a one-time login link sets; every form carries a per-session token
// and cross-origin requests are refused (what a page of another site, or
// of another port of this computer, makes the browser ask for: a form, a
// link, an image); the Content-Security-Policy
// allows nothing but the console's own style sheet and images.
package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

//go:embed templates static
var assets embed.FS

// Config configures a Server. Audit, Policy, Verifier, State and Hosts are
// required.
type Config struct {
	// Audit and Policy are the gateway's services, reached with the
	// officer's client certificate and token.
	Audit  liaisonv1.AuditClient
	Policy liaisonv1.PolicyClient
	// Notices and Aftercare list the required notices and the
	// corrections, withdrawals and expiry notices not yet acknowledged,
	// on the same connection. If nil, or if the gateway answers
	// Unimplemented, the notices page says that part is unavailable.
	Notices   liaisonv1.NoticesClient
	Aftercare liaisonv1.AftercareClient
	// Verifier checks the log's checkpoints; VerifierKey is its text
	// (name+hash+base64), written into exports. The operator gives it to
	// auditors out of band: never take it from the gateway.
	Verifier    note.Verifier
	VerifierKey string
	// State is the file that keeps the last checkpoint the officer
	// trusted (the one `liaison audit verify -state` keeps); the console
	// keeps its history in State + ".history".
	State string
	// Hosts are the Host header values the console answers to (host:port);
	// any other is refused, against DNS rebinding.
	Hosts []string
	// Secure is set when the console is served over TLS: the cookie is
	// then Secure and __Host- prefixed, and HSTS is sent.
	Secure bool
	// Officer and Gateway describe, for the page header, who the console
	// acts as and for which gateway. Never a token.
	Officer string
	Gateway string
	// Location is the time zone the pages show times and days in, and
	// read a date of a form in (a period's From and To); the timeline
	// counts entries by its days. If nil, UTC.
	Location *time.Location
	// SessionIdle ends a session unused for this long. If zero, one hour.
	SessionIdle time.Duration
	// MaxEntries bounds how many log entries a timeline page or an
	// impact analysis reads, and how many notices of each list the
	// notices page reads (a page of at most 1000 a call), in one request:
	// each page then links to the next part, read on from the entry after
	// the last one read. If zero, 20000.
	MaxEntries int
	// Sample is how many random entries the overview proves included in
	// the latest checkpoint, besides the newest one. If zero, 8.
	Sample int
	// Now returns the current time. If nil, time.Now.
	Now func() time.Time
	// Logger receives operational logs. If nil, slog.Default().
	Logger *slog.Logger
}

// A Server is the console's HTTP handler and its state: the sessions and
// the officer's trusted checkpoint.
type Server struct {
	cfg      Config
	log      *slog.Logger
	sessions *sessions
	trust    *trustState
	pages    map[string]*template.Template
	static   http.Handler
	assets   fs.FS // what static serves

	// ex keeps the exercise reports played.
	ex exercises

	// verifyMu serialises the audit.Client's updates of the trusted state.
	verifyMu sync.Mutex
}

// New validates cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Audit == nil:
		return nil, errors.New("console: Config.Audit is required")
	case cfg.Policy == nil:
		return nil, errors.New("console: Config.Policy is required")
	case cfg.Verifier == nil:
		return nil, errors.New("console: Config.Verifier is required")
	case cfg.State == "":
		return nil, errors.New("console: Config.State is required")
	case len(cfg.Hosts) == 0:
		return nil, errors.New("console: Config.Hosts is required")
	}
	for i, h := range cfg.Hosts {
		cfg.Hosts[i] = strings.ToLower(h)
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = time.Hour
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = 20000
	}
	if cfg.Sample == 0 {
		cfg.Sample = 8
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	pages, err := parsePages(cfg.Location)
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg: cfg, log: cfg.Logger, pages: pages,
		sessions: newSessions(cfg.SessionIdle, cfg.Now),
		trust:    newTrustState(cfg.State, cfg.Verifier, cfg.Now),
		static:   http.StripPrefix("/static/", http.FileServerFS(static)),
		assets:   static,
	}, nil
}

// NewLogin returns the path and query of a new one-time login link
// ("/login?code=..."). Opening it starts a session in that browser and
// ends any other; the link then no longer works. An unused link expires
// after 15 minutes.
func (s *Server) NewLogin() string {
	return "/login?code=" + s.sessions.newLogin()
}

// contentSecurityPolicy allows the console's own style sheet and images
// and nothing else: no script, no frame, no form posted elsewhere.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Handler returns the console's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /static/", s.staticFile)
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("GET /{$}", s.auth(s.overview))
	mux.HandleFunc("GET /timeline", s.auth(s.timeline))
	mux.HandleFunc("POST /timeline", s.auth(s.timelineForm))
	mux.HandleFunc("GET /entry/{index}", s.auth(s.entry))
	mux.HandleFunc("GET /report", s.auth(s.report))
	mux.HandleFunc("POST /report", s.auth(s.reportForm))
	mux.HandleFunc("GET /export", s.auth(s.exportPage))
	mux.HandleFunc("POST /export", s.auth(s.exportDownload))
	mux.HandleFunc("GET /notices", s.auth(s.notices))
	mux.HandleFunc("POST /notices", s.auth(s.noticesForm))
	mux.HandleFunc("GET /playground", s.auth(s.playground))
	mux.HandleFunc("POST /playground", s.auth(s.playgroundForm))
	mux.HandleFunc("GET /impact", s.auth(s.impact))
	mux.HandleFunc("POST /impact", s.auth(s.impactForm))
	mux.HandleFunc("GET /readiness", s.auth(s.readiness))
	mux.HandleFunc("POST /readiness", s.auth(s.readinessForm))
	mux.HandleFunc("GET /exercises", s.auth(s.exercisesPage))
	mux.HandleFunc("GET /exercises/{name}", s.auth(s.exerciseReport))
	mux.HandleFunc("POST /exercises/{name}", s.auth(s.exerciseCompare))
	mux.HandleFunc("GET /exercises/{name}/{file}", s.auth(s.exerciseDownload))
	mux.HandleFunc("POST /logout", s.auth(s.logout))
	mux.HandleFunc("/", s.unknown(mux))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.refuse(w, r, http.StatusForbidden, "Cross-origin request refused", "The console accepts forms only from its own pages.")
	}))
	return s.headers(s.hosts(cop.Handler(mux)))
}

// staticFile serves a file of the style sheet's folder; any other name
// there (none, a folder) is the console's page for an unknown address.
func (s *Server) staticFile(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if fi, err := fs.Stat(s.assets, name); err != nil || fi.IsDir() {
		s.noPage(w, r, http.StatusNotFound, "No such page", noPageMessage)
		return
	}
	s.static.ServeHTTP(w, r)
}

// noPageMessage says that an address names no page of the console.
const noPageMessage = "The console has no page at this address. Check the address, or go on from the console's overview."

// unknown answers what no other pattern of mux matches: an address the
// console has no page at (404), or a known one asked with a method it
// does not take (405, naming those it takes in Allow). Both are the
// console's own pages, not Go's plain text: within the session for the
// signed-in officer's browser, with a link to the overview otherwise.
func (s *Server) unknown(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if m == r.Method {
				continue
			}
			other := r.Clone(r.Context())
			other.Method = m
			if _, pattern := mux.Handler(other); pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.noPage(w, r, http.StatusMethodNotAllowed, "Method not allowed",
				"The console takes only "+strings.Join(allow, ", ")+" requests at this address. Open it from the console's own links and forms.")
			return
		}
		s.noPage(w, r, http.StatusNotFound, "No such page", noPageMessage)
	}
}

// noPage renders a page that says an address is not one of the console's
// pages: with the session's sections and sign out if the officer's
// browser asks (a page of another site, or of another port of this
// computer, never gets them, as auth refuses it), else with a link to the
// overview. It reads nothing of the log.
func (s *Server) noPage(w http.ResponseWriter, r *http.Request, code int, title, msg string) {
	var ss *session
	if site := r.Header.Get("Sec-Fetch-Site"); site != "same-site" && site != "cross-site" {
		if c, err := r.Cookie(s.cookieName()); err == nil {
			ss, _ = s.sessions.lookup(c.Value)
		}
	}
	data := struct{ Heading, Message string }{title, msg}
	if ss != nil {
		s.render(w, r, ss, code, "message", title, data)
		return
	}
	s.renderPage(w, r, code, s.pages["message"], page{Title: title, Nav: "message", Home: true, Data: data})
}

// headers sets the security headers of every response.
func (s *Server) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
		// Pages show personal data and the log: keep them out of caches.
		hd.Set("Cache-Control", "no-store")
		if s.cfg.Secure {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}

// hosts refuses requests for any other host name than the console's, so
// that a page from elsewhere cannot reach it by rebinding a name to
// loopback. A browser leaves the scheme's default port (443, or 80 over
// plain HTTP) out of the Host header: such a host is the name with that
// port.
func (s *Server) hosts(h http.Handler) http.Handler {
	defaultPort := "80"
	if s.cfg.Secure {
		defaultPort = "443"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		if _, _, err := net.SplitHostPort(host); err != nil && host != "" {
			host = net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), defaultPort)
		}
		if !slices.Contains(s.cfg.Hosts, host) {
			http.Error(w, "unknown host", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// cookieName is the session cookie's name. Cookies do not keep ports
// apart, so the name carries the console's port: two consoles on one
// computer (two gateways, say) keep their sessions apart.
func (s *Server) cookieName() string {
	name := "liaison-console"
	if _, port, err := net.SplitHostPort(s.cfg.Hosts[0]); err == nil && port != "" {
		name += "-" + port
	}
	if s.cfg.Secure {
		return "__Host-" + name
	}
	return name
}

// login spends a one-time login code and sets the session cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	val, ok := s.sessions.login(r.URL.Query().Get("code"))
	if !ok {
		s.refuse(w, r, http.StatusUnauthorized, "This login link does not work",
			"A login link works once, for 15 minutes. Press Enter in the terminal where the console runs for a new one.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: val, Path: "/", HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode,
	})
	s.log.InfoContext(r.Context(), "console session started")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, ss *session) {
	s.sessions.end(ss)
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
	s.refuse(w, r, http.StatusOK, "Signed out", "The session has ended. Press Enter in the console's terminal for a new login link.")
}

// A pageHandler serves a request of a logged-in browser.
type pageHandler func(w http.ResponseWriter, r *http.Request, ss *session)

// auth admits only the current session's browser, and for forms only
// with the session's token. It refuses whatever a page of another site
// makes the browser ask for (a link, an image): a page on another port
// of this computer is the same site as the console, and SameSite=Strict
// lets the browser send it the session cookie, so it could otherwise
// have the gateway record reads of the log the officer did not make.
func (s *Server) auth(h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if site := r.Header.Get("Sec-Fetch-Site"); site == "same-site" || site == "cross-site" {
			// A link to the overview from this page is the console's own.
			const title = "Request from another site refused"
			s.renderPage(w, r, http.StatusForbidden, s.pages["message"], page{Title: title, Nav: "message", Home: true,
				Data: struct{ Heading, Message string }{title, "The console answers only its own pages and the addresses you open yourself: " +
					"a page of another site, or of another port of this computer, cannot have it read the log in your name."}})
			return
		}
		c, err := r.Cookie(s.cookieName())
		var ss *session
		ok := false
		if err == nil {
			ss, ok = s.sessions.lookup(c.Value)
		}
		if !ok {
			s.refuse(w, r, http.StatusUnauthorized, "Not signed in",
				"Open the login link that `liaison console` printed in its terminal (press Enter there for a new one).")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !validCSRF(ss, r) {
				s.refuse(w, r, http.StatusForbidden, "Form refused", "The form did not carry this session's token. Reload the page and try again.")
				return
			}
		}
		h(w, r, ss)
	}
}

// maxForm bounds a form's size (a candidate bundle upload included).
const maxForm = 16 << 20

// A page is what every template gets.
type page struct {
	Title   string
	Nav     string // the section this page belongs to
	CSRF    string
	Officer string
	Gateway string
	Data    any
	// Home, on a message page, links to the overview.
	Home bool
}

// render writes the named page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, ss *session, status int, name, title string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.log.ErrorContext(r.Context(), "console: no such template", "template", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p := page{Title: title, Nav: name, Officer: s.cfg.Officer, Gateway: s.cfg.Gateway, Data: data}
	if ss != nil {
		p.CSRF = ss.csrf
	}
	s.renderPage(w, r, status, t, p)
}

// renderPage writes the page p with the template t.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, t *template.Template, p page) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.ErrorContext(r.Context(), "console: render", "template", p.Nav, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// refuse renders a page that says what went wrong and what to do.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, title, msg string) {
	s.render(w, r, nil, code, "message", title, struct{ Heading, Message string }{title, msg})
}

// notFound renders, within the officer's session (its sections and sign
// out), that what a signed-in page was asked for does not exist.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, ss *session, title, msg string) {
	s.render(w, r, ss, http.StatusNotFound, "message", title, struct{ Heading, Message string }{title, msg})
}

// gatewayError renders a failed call to the gateway, in terms the officer
// can act on.
func (s *Server) gatewayError(w http.ResponseWriter, r *http.Request, ss *session, what string, err error) {
	s.render(w, r, ss, http.StatusBadGateway, "message", what, struct{ Heading, Message string }{what, describeError(err)})
}

// failedStatus is the HTTP status of a page whose call to the gateway
// failed: 400 where the gateway refused what the officer entered as
// invalid (the message names the field), 502 otherwise.
func failedStatus(err error) int {
	if status.Code(err) == codes.InvalidArgument {
		return http.StatusBadRequest
	}
	return http.StatusBadGateway
}

// describeError says what a gateway error means for the officer. It never
// repeats a token.
func describeError(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	switch st.Code() {
	case codes.Unauthenticated:
		return "The gateway did not accept your credentials (" + st.Message() + "). Your token may have expired: " +
			"give the console a fresh one (-token-file is read again on every call) or restart it."
	case codes.PermissionDenied:
		return "The gateway refused: " + st.Message() + ". The console has only your authority; ask for the role this page needs."
	case codes.Unavailable:
		return "The gateway is unavailable (" + st.Message() + "). Try again in a moment."
	case codes.Unimplemented:
		return "This gateway does not offer this yet (a newer version of Liaison is needed)."
	case codes.InvalidArgument:
		return "The gateway refused the request: " + st.Message()
	}
	return fmt.Sprintf("The gateway answered %s: %s", st.Code(), st.Message())
}
