package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/liaison-gateway/liaison/exercise"
	"github.com/liaison-gateway/liaison/policies"
)

// The exercises page lists the worked scenarios embedded in the binary and
// shows the report of the one chosen, which the console plays itself, as
// `liaison exercise run` does: on a gateway started for the exercise alone
// (its own temporary store and keys, loopback), on the policy embedded in
// the binary. The gateway the officer's credentials reach is never used:
// its log holds real exchanges. The report is rendered with the console's
// own templates, so that the page keeps the console's Content-Security-
// Policy (the self-contained HTML report has an inline style sheet); the
// Markdown and the self-contained HTML are offered as downloads.

// exerciseEngine is the embedded policy, loaded on first use.
var exerciseEngine = sync.OnceValues(func() (*policies.Engine, error) {
	return policies.Load(context.Background(), policies.Embedded())
})

// exerciseTimeout bounds one play of a scenario.
const exerciseTimeout = 2 * time.Minute

// exercises keeps the reports played, by scenario file: a scenario and a
// policy always give the same report, so each is played once.
type exercises struct {
	mu      sync.Mutex
	reports map[string]*exercise.Report
}

type workedRow struct {
	File, Name, Pack, About string
}

type exerciseView struct {
	File, Name, Revision, Start, EndDate string
	End                                  int
	Timelines                            []exercise.Timeline
	Gaps                                 []exercise.Gap
	Provisions                           [][2]string
}

type exercisesData struct {
	Worked []workedRow
	Chosen string
	Error  string
	Report *exerciseView
	// The compare form and, once posted, what the candidate changes.
	Candidate, Key, KeyID string
	CompareError          string
	Source                string
	Comparison            *exercise.Comparison
}

// worked lists the embedded scenarios, with the packs their agencies are
// in.
func worked() ([]exercise.Worked, []workedRow, error) {
	ws, err := exercise.WorkedScenarios()
	if err != nil {
		return nil, nil, err
	}
	rows := make([]workedRow, 0, len(ws))
	for _, w := range ws {
		var packs []string
		for _, a := range w.Scenario.Agencies {
			if !slices.Contains(packs, a.Jurisdiction) {
				packs = append(packs, a.Jurisdiction)
			}
		}
		rows = append(rows, workedRow{File: w.File, Name: w.Scenario.Name, Pack: strings.Join(packs, ", "), About: w.About})
	}
	return ws, rows, nil
}

// exercisesPage lists the worked scenarios.
func (s *Server) exercisesPage(w http.ResponseWriter, r *http.Request, ss *session) {
	_, rows, err := worked()
	d := exercisesData{Worked: rows}
	if err != nil {
		d.Error = "The worked scenarios could not be read: " + err.Error()
	}
	s.render(w, r, ss, http.StatusOK, "exercises", "Exercises", d)
}

// exerciseReport plays a worked scenario (once per console) and shows its
// report under the list.
func (s *Server) exerciseReport(w http.ResponseWriter, r *http.Request, ss *session) {
	s.showExercise(w, r, ss, &exercisesData{KeyID: "liaison"}, nil)
}

// exerciseCompare plays a worked scenario on a candidate policy (a
// directory or a signed bundle on this computer, loaded as the gateway
// would load it) and shows what it changes beside the report, as
// `liaison exercise run -compare` does.
func (s *Server) exerciseCompare(w http.ResponseWriter, r *http.Request, ss *session) {
	d := &exercisesData{
		Candidate: strings.TrimSpace(r.PostFormValue("candidate")), Key: strings.TrimSpace(r.PostFormValue("key")),
		KeyID: cmpOr(strings.TrimSpace(r.PostFormValue("key_id")), "liaison"),
	}
	s.showExercise(w, r, ss, d, func(ctx context.Context, base *exercise.Report) (int, error) {
		if d.Candidate == "" {
			return http.StatusBadRequest, errors.New("Name the candidate: a policy directory, or a signed bundle (.tar.gz) with its verification key.")
		}
		src, err := candidateSource(d.Candidate, d.Key, d.KeyID)
		if err != nil {
			return http.StatusBadRequest, err
		}
		cand, err := policies.LoadSource(ctx, src)
		if err != nil {
			return http.StatusUnprocessableEntity, fmt.Errorf("The candidate does not load as the gateway would load it (strict compile, its own tests, the samples): %v", err)
		}
		ctx, cancel := context.WithTimeout(ctx, exerciseTimeout)
		defer cancel()
		crep, err := exercise.Run(ctx, cand, base.Scenario)
		if err != nil {
			return http.StatusInternalServerError, fmt.Errorf("The exercise could not be played on the candidate: %v", err)
		}
		d.Source, d.Comparison = src.String(), exercise.Compare(base, crep)
		return http.StatusOK, nil
	})
}

// showExercise renders the page of a worked scenario's report, after
// compare (if any) has added a comparison to d.
func (s *Server) showExercise(w http.ResponseWriter, r *http.Request, ss *session, d *exercisesData, compare func(context.Context, *exercise.Report) (int, error)) {
	name := r.PathValue("name")
	rep, rows, status, err := s.playWorked(r.Context(), name)
	d.Worked, d.Chosen = rows, name
	if err != nil {
		d.Error = err.Error()
		s.render(w, r, ss, status, "exercises", "Exercises", d)
		return
	}
	start, end, endDate := rep.Period()
	d.Report = &exerciseView{File: name, Name: rep.Scenario.Name, Revision: rep.Revision, Start: start, End: end, EndDate: endDate,
		Timelines: rep.Timelines(), Gaps: rep.Gaps, Provisions: rep.Provisions()}
	status = http.StatusOK
	if compare != nil {
		if status, err = compare(r.Context(), rep); err != nil {
			d.CompareError = err.Error()
		}
	}
	s.render(w, r, ss, status, "exercises", "Exercise: "+rep.Scenario.Name, d)
}

// exerciseDownload serves a worked scenario's report as a file: the
// Markdown, or the self-contained HTML page (to open from disk; it is
// never shown under the console's origin).
func (s *Server) exerciseDownload(w http.ResponseWriter, r *http.Request, ss *session) {
	name, file := r.PathValue("name"), r.PathValue("file")
	if file != "report.md" && file != "report.html" {
		s.notFound(w, r, ss, "No such report", "An exercise's report is report.md or report.html.")
		return
	}
	rep, _, status, err := s.playWorked(r.Context(), name)
	if err != nil {
		s.render(w, r, ss, status, "message", "No report", struct{ Heading, Message string }{"No report", err.Error()})
		return
	}
	body, ctype, ext := rep.Markdown(), "text/markdown; charset=utf-8", ".md"
	if file == "report.html" {
		body, ctype, ext = rep.HTML(), "text/html; charset=utf-8", ".html"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+ext+`"`)
	w.Write(body)
}

// playWorked returns the report of the worked scenario named file,
// playing it if this console has not yet.
func (s *Server) playWorked(ctx context.Context, file string) (*exercise.Report, []workedRow, int, error) {
	ws, rows, err := worked()
	if err != nil {
		return nil, nil, http.StatusInternalServerError, fmt.Errorf("The worked scenarios could not be read: %v", err)
	}
	i := slices.IndexFunc(ws, func(w exercise.Worked) bool { return w.File == file })
	if i < 0 {
		return nil, rows, http.StatusNotFound, fmt.Errorf("There is no worked scenario %q; choose one from the list.", file)
	}
	s.ex.mu.Lock()
	defer s.ex.mu.Unlock()
	if rep, ok := s.ex.reports[file]; ok {
		return rep, rows, http.StatusOK, nil
	}
	eng, err := exerciseEngine()
	if err != nil {
		return nil, rows, http.StatusInternalServerError, fmt.Errorf("The embedded policy does not load: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, exerciseTimeout)
	defer cancel()
	t0 := time.Now()
	rep, err := exercise.Run(ctx, eng, ws[i].Scenario)
	if err != nil {
		s.log.WarnContext(ctx, "console: exercise failed", "scenario", file, "error", err)
		return nil, rows, http.StatusInternalServerError, fmt.Errorf("The exercise could not be played: %v", err)
	}
	s.log.InfoContext(ctx, "console: exercise played", "scenario", file, "took", time.Since(t0).Round(time.Millisecond))
	if s.ex.reports == nil {
		s.ex.reports = map[string]*exercise.Report{}
	}
	s.ex.reports[file] = rep
	return rep, rows, http.StatusOK, nil
}
