package console

import (
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// funcsIn are the templates' functions, with times shown in loc and
// named by its abbreviation (UTC, CET, CEST).
func funcsIn(loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"date":     func(t time.Time) string { return t.In(loc).Format(time.DateOnly) },
		"datetime": func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") },
		// when is datetime, or a dash for a step that has not happened.
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "–"
			}
			return t.In(loc).Format("2006-01-02 15:04 MST")
		},
		// stamp is a time the gateway sends as RFC 3339 text (a policy's
		// activation, a policy input's time) as datetime writes one; text
		// that is not such a time, as it is.
		"stamp": func(s string) string {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return s
			}
			return t.In(loc).Format("2006-01-02 15:04:05 MST")
		},
		"lateness": lateness,
		"nOf":      nOf,
		"pbtime":   func(t *timestamppb.Timestamp) string { return t.AsTime().In(loc).Format("2006-01-02 15:04:05 MST") },
		"pbdate":   func(t *timestamppb.Timestamp) string { return t.AsTime().In(loc).Format(time.DateOnly) },
		// clock is datetime without the zone, for a column that names it.
		"clock": func(t time.Time) string { return t.In(loc).Format(time.DateTime) },
		// zone names loc, for the page's footer and the timeline's header.
		"zone":  func() string { return loc.String() },
		"join":  strings.Join,
		"human": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
		"dash": func(s string) string {
			if s == "" {
				return "–"
			}
			return s
		},
		"inputJSON": inputJSON,
		// breakable lets a long code (NO_ONWARD_DISCLOSURE) wrap after its
		// underscores and dots rather than anywhere.
		"breakable": func(s string) template.HTML {
			e := template.HTMLEscapeString(s)
			e = strings.ReplaceAll(e, "_", "_<wbr>")
			return template.HTML(strings.ReplaceAll(e, ".", ".<wbr>"))
		},
		"noticeReason": noticeReason,
		"add":          func(a, b int) int { return a + b },
		"sub":          func(a, b int) int { return a - b },
		"sub64":        func(a, b int64) int64 { return a - b },
		"released":     func(o string) bool { return o == "disclose" || o == "pseudonymise" || o == "hit_only" },
		"refusal":      func(o string) bool { return o == "deny" || o == "refused" },
	}
}

// parsePages parses each page template with the layout, its times in loc.
func parsePages(loc *time.Location) (map[string]*template.Template, error) {
	layout, err := template.New("layout").Funcs(funcsIn(loc)).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %v", err)
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(assets, n)
		if err != nil {
			return nil, fmt.Errorf("console: templates: %v", err)
		}
		pages[base] = t
	}
	return pages, nil
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

func leafHash(leaf []byte) string {
	return tlog.RecordHash(leaf).String()
}

// noticeReason is a notice's reason in words, its code after them; a code
// it does not know, as it is.
func noticeReason(code string) string {
	if w, ok := audit.NoticeReasons[code]; ok {
		return w + " (" + code + ")"
	}
	return code
}
