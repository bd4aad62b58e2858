package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
)

// replayPage is how many audit entries replay reads at a time.
const replayPage = 500

func runPolicyReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newPolicyFlags("replay", "-candidate DIR [-since DURATION] [-audit-db DSN] [-active DIR] [-format text|json]",
		`Re-decides the exchanges audited in the last DURATION under the candidate
policy and reports the decisions that would flip (e.g. pseudonymise → deny),
the fields that would be newly disclosed or withdrawn, and a changed legal
basis or handling conditions (added or dropped), per recipient agency and
legal basis. It needs no personal data: every audit entry
records the policy input without identity. The candidate is loaded as the
gateway would load it (strict compile, its own tests, the samples) first.

By default the candidate is compared with the decisions as recorded. With
-active, both the active policy and the candidate decide again and are
compared, which isolates the candidate's change when the log spans several
revisions. A policy that cannot decide an entry (its decision undefined,
or an error) denies it, as the gateway does (reason POLICY_UNDEFINED or
POLICY_ERROR), the active policy's included; so does a decision whose
field plan the gateway refuses against the record schema (a pseudonymise
that keeps a direct identifier in clear, an assessment in clear to an
NGO, a field name the schema does not have): deny, reason POLICY_ERROR,
no fields, as the gateway's entry says.
For the candidate's such decisions the report says what the check found,
naming the field, as policy simulate does: a "plan check: ..." line
under the change and, counted, under its group (in JSON, plan_check and
plan_checks); with -active, a "plan check, before: ..." line for the
active policy's decision it refused (before_plan_check). It names
fields, never a value.
Entries that record no policy decision (audit reads,
activations, refused credentials, failed exchanges, and denials the
gateway's own rule made after the policy allowed the exchange:
UNDECLARED_ONWARD_DISCLOSURE) are skipped and counted, and so are the
policy's decisions on actions on a case, which replay does not decide
again (an entry does not hold the case as it stood before the change).
The log is read a page of 500 entries at a time and each page is decided
on all cores; the report lists the changes in the log's order.`, stderr)
	candidate := fl.String("candidate", "", "candidate policy `directory` (or signed bundle, with -verification-key)")
	since := fl.Duration("since", 30*24*time.Hour, "replay exchanges audited in this `duration` before now")
	dsn := fl.String("audit-db", "liaison-audit.db", "the gateway's audit log: a SQLite `file` (which must exist), or a postgres:// URL")
	active := fl.String("active", "", "compare with this policy `directory` decided again, instead of the recorded decisions")
	format := fl.String("format", "text", "output `format`: text or json")
	key := fl.String("verification-key", "", "public key `file` (PEM) for a candidate bundle")
	keyID := fl.String("key-id", "liaison", "`id` of the verification key")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if err := noStrayArgs("policy replay", fl); err != nil {
		return err
	}
	if *candidate == "" {
		fl.Usage()
		return errors.New("policy replay: -candidate is required")
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("policy replay: -format %q: want text or json", *format)
	}
	if *since <= 0 {
		// It replayed nothing and said the candidate changes nothing.
		return fmt.Errorf("policy replay: -since %v: must be positive", *since)
	}
	cand, err := (&treeFlags{dir: *candidate, key: *key, keyID: *keyID}).load(ctx)
	if err != nil {
		return fmt.Errorf("policy replay: the candidate does not load: %v", err)
	}
	var baseline *policies.Engine
	if *active != "" {
		if baseline, err = (&treeFlags{dir: *active, key: *key, keyID: *keyID}).load(ctx); err != nil {
			return fmt.Errorf("policy replay: the active policy does not load: %v", err)
		}
	}
	store, err := openExistingStore(ctx, *dsn)
	if err != nil {
		return fmt.Errorf("policy replay: %v", err)
	}
	defer store.Close()
	rep, err := replay(ctx, store, time.Now().Add(-*since), cand, baseline, stderr)
	if err != nil {
		return err
	}
	if *format == "json" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, string(b))
		return err
	}
	return rep.WriteText(stdout)
}

// replay re-decides the entries of store from from on under candidate,
// reporting progress to progress. Each page of the log is decided on all
// cores ([policies.Replayer.AddAll]); the report is in the log's order.
func replay(ctx context.Context, store audit.Store, from time.Time, candidate, baseline *policies.Engine, progress io.Writer) (*policies.ReplayReport, error) {
	r := gateway.NewReplayer(candidate, baseline)
	var start int64
	read := 0
	page := make([]policies.Recorded, 0, replayPage)
	for {
		recs, err := store.Query(ctx, audit.Filter{From: from, Start: start, Limit: replayPage})
		if err != nil {
			return nil, fmt.Errorf("policy replay: read the audit log: %v", err)
		}
		page = page[:0]
		for _, rec := range recs {
			if x, skip := gateway.RecordedFromEntry(rec.Index, rec.Entry); skip != "" {
				r.Skip(skip)
			} else {
				page = append(page, x)
			}
			start = rec.Index + 1
		}
		if err := r.AddAll(ctx, page); err != nil {
			return nil, err
		}
		read += len(recs)
		if len(recs) > 0 {
			fmt.Fprintf(progress, "replay: %d audit entries read (up to index %d)\n", read, start-1)
		}
		if len(recs) < replayPage {
			break
		}
	}
	return r.Report(), nil
}
