package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// A stage is a step of a call that operators see as a latency histogram
// (liaison_stage_duration_seconds) and as a span.
type stage uint8

const (
	stageAuthenticate stage = iota // certificate and token, in the interceptor
	stageValidate                  // the request's fields against the registry
	stageDescribe                  // the holder's Describe: the subject's attributes
	stageDecide                    // the policy
	stageFetch                     // the holder's Fetch: the record
	stageTransform                 // the field plan, pseudonyms, sealing for an inbox
	stageAuditWait                 // the durable append, group commit included
	numStages
)

var stageNames = [numStages]string{"authenticate", "validate", "describe", "decide", "fetch", "transform", "audit_wait"}

// telemetry is the gateway's metrics and traces. Its hooks are called by
// the interceptors (startRPC, endRPC, the authenticate stage) and by an
// exchange (begin, its stages, finish); each does nothing for what is not
// configured. Nothing it records names a subject or carries a token.
type telemetry struct {
	tracer trace.Tracer // nil: no spans
	m      *metrics     // nil: no metrics
}

// metrics are the Prometheus series the hooks update.
type metrics struct {
	requests *prometheus.CounterVec   // method, outcome, reason
	refusals *prometheus.CounterVec   // reason
	duration *prometheus.HistogramVec // method
	stages   [numStages]prometheus.Observer

	// peerLogInconsistent counts receipts whose checkpoint was not
	// consistent with what the peer showed before (peerview.go), by peer.
	peerLogInconsistent *prometheus.CounterVec

	// reasons are the reason label values used so far, at most
	// maxReasonLabels (see reasonLabel).
	reasons  sync.Map // string -> struct{}
	nReasons atomic.Int32
}

// maxReasonLabels bounds the reason label's values. Reason codes are the
// gateway's own, the active policy's and, through their refusals, peer
// gateways': a peer (or a policy tree) could spell any number of them, and
// each would be a series of its own. Past the bound, a new one counts as
// reasonOther, unless it is alwaysLabelled.
const maxReasonLabels = 500

// alwaysLabelled are reasons that keep their label past the bound: the
// gateway's outages, which alert rules select.
var alwaysLabelled = map[string]bool{
	"": true, "AUDIT_UNAVAILABLE": true, "KEYS_UNAVAILABLE": true, "HOLDER_UNAVAILABLE": true, "PEER_UNAVAILABLE": true, "CRL_STALE": true,
}

// reasonOther is the reason label of a reason code past maxReasonLabels.
const reasonOther = "OTHER"

// reasonLabel is reason as a label value: itself, if it has one already
// or the bound leaves room, otherwise reasonOther.
func (m *metrics) reasonLabel(reason string) string {
	if _, ok := m.reasons.Load(reason); ok || alwaysLabelled[reason] {
		return reason
	}
	if m.nReasons.Add(1) > maxReasonLabels {
		m.nReasons.Add(-1)
		return reasonOther
	}
	if _, had := m.reasons.LoadOrStore(reason, struct{}{}); had {
		m.nReasons.Add(-1)
	}
	return reason
}

// latencyBuckets span a cached decision (tens of microseconds) to a slow
// holder (seconds).
var latencyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// newTelemetry registers the gateway's metrics with reg, if not nil, and
// takes its tracer from tp, if not nil.
func newTelemetry(s *Server, reg prometheus.Registerer, tp trace.TracerProvider) (telemetry, error) {
	var t telemetry
	if tp != nil {
		t.tracer = tp.Tracer("github.com/liaison-gateway/liaison/gateway")
	}
	if reg == nil {
		return t, nil
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liaison_requests_total",
			Help: "Calls by gRPC method, outcome (the audit vocabulary: disclose, pseudonymise, hit_only, deny, refused, failed, not_found, ok, pending) and reason (the entry's first reason code, or the error's; past 500 distinct codes, OTHER). An exchange RPC counts once per exchange: a Disclose once per recipient.",
		}, []string{"method", "outcome", "reason"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liaison_refusals_total",
			Help: "Calls (for an exchange, its entries) refused, by reason (past 500 distinct codes, OTHER): authentication, validation and state refusals (a closed case, a notice acknowledged already, a peer gateway's refusal), before or after the policy decided; not the policy's denials.",
		}, []string{"reason"}),
		peerLogInconsistent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liaison_peer_log_inconsistent_total",
			Help: "Receipts of a peer gateway whose checkpoint is not consistent with the checkpoint of that peer's log this gateway remembers (the peer shows two histories of its log: PEER_LOG_INCONSISTENT), by peer. Any increase needs an operator.",
		}, []string{"peer"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "liaison_request_duration_seconds",
			Help:    "Time from a call's arrival to its answer, by gRPC method.",
			Buckets: latencyBuckets,
		}, []string{"method"}),
	}
	stages := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "liaison_stage_duration_seconds",
		Help:    "Time spent in each stage of a call: authenticate, validate, describe (holder), decide (policy), fetch (holder), transform, audit_wait (durable append).",
		Buckets: latencyBuckets,
	}, []string{"stage"})
	for i := range numStages {
		m.stages[i] = stages.WithLabelValues(stageNames[i])
	}
	for _, c := range []prometheus.Collector{m.requests, m.refusals, m.peerLogInconsistent, m.duration, stages, &stateCollector{s: s}} {
		if err := reg.Register(c); err != nil {
			return t, fmt.Errorf("gateway: register metrics: %w", err)
		}
	}
	t.m = m
	return t, nil
}

// peerKnown makes a peer gateway's series of peer-log inconsistencies
// exist, at 0 until its first: a series that appears at 1 is missed by
// increase() and rate().
func (t *telemetry) peerKnown(peer string) {
	if t.m != nil {
		t.m.peerLogInconsistent.WithLabelValues(peer)
	}
}

// peerLogInconsistent counts a peer's receipt whose checkpoint is not
// consistent with the one remembered of its log.
func (t *telemetry) peerLogInconsistent(peer string) {
	if t.m != nil {
		t.m.peerLogInconsistent.WithLabelValues(peer).Inc()
	}
}

// An rpc is one call as the interceptors see it.
type rpc struct {
	method string // without the leading slash: liaison.v1.Exchange/Request
	start  time.Time
	// counted is set once an exchange has counted the call (once per
	// recipient for a Disclose), so that endRPC does not count it again.
	counted atomic.Bool
}

type rpcKey struct{}

// startRPC opens a call's span and puts the call in ctx.
func (t *telemetry) startRPC(ctx context.Context, method string) (context.Context, *rpc, trace.Span) {
	if t.m == nil && t.tracer == nil {
		return ctx, nil, nil
	}
	r := &rpc{method: strings.TrimPrefix(method, "/"), start: time.Now()}
	ctx = context.WithValue(ctx, rpcKey{}, r)
	var span trace.Span
	if t.tracer != nil {
		ctx, span = t.tracer.Start(ctx, r.method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("rpc.system", "grpc"), attribute.String("rpc.method", r.method)))
	}
	return ctx, r, span
}

// endRPC closes a call: its duration, and its count unless exchanges
// counted it.
func (t *telemetry) endRPC(r *rpc, span trace.Span, err error) {
	if r == nil {
		return
	}
	if t.m != nil {
		t.m.duration.WithLabelValues(r.method).Observe(time.Since(r.start).Seconds())
		if !r.counted.Load() {
			outcome, reason := callOutcome(err)
			reason = t.m.reasonLabel(reason)
			t.m.requests.WithLabelValues(r.method, outcome, reason).Inc()
			if outcome == audit.OutcomeRefused {
				t.m.refusals.WithLabelValues(reason).Inc()
			}
		}
	}
	if span != nil {
		c := status.Code(err)
		span.SetAttributes(attribute.Int("rpc.grpc.status_code", int(c)))
		if err != nil {
			span.SetStatus(otelcodes.Error, c.String())
		}
		span.End()
	}
}

// callOutcome classifies the answer of a call that no exchange counted, in
// the audit vocabulary, with the reason its status carries.
func callOutcome(err error) (outcome, reason string) {
	if err == nil {
		return audit.OutcomeOK, ""
	}
	st := status.Convert(err)
	reason = code.Code_name[int32(st.Code())]
	if st.Code() == codes.Canceled {
		// As an exchange's entry spells it (google.rpc spells it
		// CANCELLED): one label value for a call its caller hung up.
		reason = "CANCELED"
	}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			reason = d.GetReason()
		case *errdetails.BadRequest:
			reason = "INVALID_ARGUMENT"
		}
	}
	switch st.Code() {
	case codes.InvalidArgument, codes.Unauthenticated, codes.PermissionDenied, codes.FailedPrecondition, codes.AlreadyExists:
		// FailedPrecondition is a state refusal (CASE_CLOSED, a notice
		// already closed...), and AlreadyExists one too (CASE_EXISTS),
		// refused in an exchange's entry too: the caller's request, not
		// the gateway, is what failed.
		return audit.OutcomeRefused, reason
	case codes.NotFound:
		return audit.OutcomeNotFound, reason
	}
	return audit.OutcomeFailed, reason
}

// rpcFrom returns the call in ctx, if the interceptors put one there.
func rpcFrom(ctx context.Context) *rpc {
	r, _ := ctx.Value(rpcKey{}).(*rpc)
	return r
}

// A stageTimer times one stage; call end once.
type stageTimer struct {
	t    *telemetry
	ex   *exchange // nil: observed at once (authentication)
	st   stage
	t0   time.Time
	span trace.Span
}

// stage starts timing a stage outside any exchange, under the span in ctx.
func (t *telemetry) stage(ctx context.Context, st stage) stageTimer {
	tm := stageTimer{t: t, st: st, t0: time.Now()}
	if t.tracer != nil {
		_, tm.span = t.tracer.Start(ctx, stageNames[st])
	}
	return tm
}

// stage starts timing a stage of the exchange. Its duration is added to
// the exchange's and reported when the exchange finishes.
func (ex *exchange) stage(st stage) stageTimer {
	t := &ex.s.tel
	tm := stageTimer{t: t, ex: ex, st: st, t0: time.Now()}
	if ex.span != nil {
		_, tm.span = t.tracer.Start(ex.spanCtx, stageNames[st])
	}
	return tm
}

func (tm stageTimer) end() {
	d := time.Since(tm.t0)
	switch {
	case tm.ex != nil:
		tm.ex.stages[tm.st] += d
		tm.ex.ran |= 1 << tm.st
	case tm.t.m != nil:
		tm.t.m.stages[tm.st].Observe(d.Seconds())
	}
	if tm.span != nil {
		tm.span.End()
	}
}

// startExchange opens the exchange's span, a child of the call's.
func (t *telemetry) startExchange(ctx context.Context, ex *exchange) {
	ex.rpc = rpcFrom(ctx)
	if t.tracer == nil {
		return
	}
	ex.spanCtx, ex.span = t.tracer.Start(ctx, "exchange", trace.WithAttributes(
		attribute.String("liaison.action", ex.entry.Action),
		attribute.String("liaison.request_id", ex.reqID),
		attribute.String("liaison.requester", ex.entry.Requester.Agency),
	))
}

// endExchange reports a finished exchange: its count by outcome and
// reason, its stages, and its span. An exchange whose entry could not be
// written counts as failed (AUDIT_UNAVAILABLE), whatever it was about to
// record.
func (t *telemetry) endExchange(ex *exchange, err error) {
	if ex.handedOver {
		// Its entries and counts are the per-recipient exchanges'; its
		// stages (validation) ran all the same.
		if t.m != nil {
			t.observeStages(ex)
		}
		if ex.span != nil {
			ex.span.End()
		}
		return
	}
	outcome, reason := ex.entry.Outcome, ""
	if len(ex.entry.Reasons) > 0 {
		reason = ex.entry.Reasons[0]
	}
	if ex.index < 0 {
		outcome, reason = audit.OutcomeFailed, "AUDIT_UNAVAILABLE"
	}
	method := ""
	if ex.rpc != nil {
		ex.rpc.counted.Store(true)
		method = ex.rpc.method
	}
	if t.m != nil {
		reason = t.m.reasonLabel(reason)
		t.m.requests.WithLabelValues(method, outcome, reason).Inc()
		if outcome == audit.OutcomeRefused {
			t.m.refusals.WithLabelValues(reason).Inc()
		}
		t.observeStages(ex)
	}
	if ex.span != nil {
		ex.span.SetAttributes(
			attribute.String("liaison.outcome", outcome),
			attribute.String("liaison.reason", reason),
			attribute.Int64("liaison.audit_index", ex.index),
		)
		if err != nil {
			ex.span.SetStatus(otelcodes.Error, reason)
		}
		ex.span.End()
	}
}

func (t *telemetry) observeStages(ex *exchange) {
	for st := range numStages {
		if ex.ran&(1<<st) != 0 {
			t.m.stages[st].Observe(ex.stages[st].Seconds())
		}
	}
}

// observeUnary is the outermost unary interceptor: the call's span,
// duration and count.
func (s *Server) observeUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, r, span := s.tel.startRPC(ctx, info.FullMethod)
	resp, err := handler(ctx, req)
	s.tel.endRPC(r, span, err)
	return resp, err
}

// observeStream is observeUnary for streams.
func (s *Server) observeStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, r, span := s.tel.startRPC(ss.Context(), info.FullMethod)
	if r != nil {
		ss = &authedStream{ServerStream: ss, ctx: ctx}
	}
	err := handler(srv, ss)
	s.tel.endRPC(r, span, err)
	return err
}

// stateCollector reports, at each scrape, the state of what the gateway
// depends on: the audit log's committer and checkpoints, the freshness of
// the pseudonym keys, the active policy, and the acknowledgements that
// wait for a peer gateway.
type stateCollector struct{ s *Server }

var (
	descQueue = prometheus.NewDesc("liaison_audit_queue_depth",
		"Audit appends waiting for the group committer.", nil, nil)
	descBatches = prometheus.NewDesc("liaison_audit_batches_total",
		"Store transactions (each one fsync) the audit log committed.", nil, nil)
	descEntries = prometheus.NewDesc("liaison_audit_entries_total",
		"Entries the audit log committed; divided by batches, the mean group size.", nil, nil)
	descTreeSize = prometheus.NewDesc("liaison_audit_tree_size",
		"Size of the audit tree after this replica's latest commit or checkpoint, or when it opened the log.", nil, nil)
	descUnsigned = prometheus.NewDesc("liaison_audit_unsigned_entries",
		"Entries of the tree that no signed checkpoint covers yet: none this replica signed, nor the latest it found when it opened the log.", nil, nil)
	descStoreUp = prometheus.NewDesc("liaison_audit_store_up",
		"1 if the audit store answered the gateway's latest health check, 0 if not: the gateway then fails closed (AUDIT_UNAVAILABLE) and its health check says NOT_SERVING, so that no calls may reach it.", nil, nil)
	descCheckpointAge = prometheus.NewDesc("liaison_audit_checkpoint_age_seconds",
		"Seconds since this replica last signed a checkpoint (signed only while the tree grows), or since it opened the log if it has signed none since.", nil, nil)
	descWALPages = prometheus.NewDesc("liaison_audit_wal_pages",
		"Pages in the SQLite audit store's write-ahead log as its latest checkpoint that succeeded found it: it stays near or below 4,096 while checkpoints keep up (absent for PostgreSQL).", nil, nil)
	descWALFailing = prometheus.NewDesc("liaison_audit_wal_checkpoint_failing",
		"1 while the SQLite audit store's latest WAL checkpoint failed (the write-ahead log then grows until one succeeds), else 0 (absent for PostgreSQL).", nil, nil)
	descKeyAge = prometheus.NewDesc("liaison_pseudonym_keys_age_seconds",
		"Seconds since the pseudonym keys were last loaded from their source (Vault or the key file).", nil, nil)
	descKeyMaxStale = prometheus.NewDesc("liaison_pseudonym_keys_max_stale_seconds",
		"How old the keys may grow before requests that need a recipient pseudonym fail (-key-max-stale).", nil, nil)
	descKeyStale = prometheus.NewDesc("liaison_pseudonym_keys_stale",
		"1 while the keys are older than the staleness bound (KEYS_UNAVAILABLE), else 0.", nil, nil)
	descCRLNextUpdate = prometheus.NewDesc("liaison_crl_next_update_timestamp_seconds",
		"The earliest nextUpdate of the CRLs in force (-crl), as a Unix time; 0 if none is loaded. From then on every client certificate is refused (CRL_STALE) until a current CRL is installed.", nil, nil)
	descCRLStale = prometheus.NewDesc("liaison_crl_stale",
		"1 while a CRL in force is past its nextUpdate (every client certificate is refused, CRL_STALE), else 0.", nil, nil)
	descPolicy = prometheus.NewDesc("liaison_policy_info",
		"The active policy revision (always 1).", []string{"revision", "digest", "source"}, nil)
	descPolicyActivated = prometheus.NewDesc("liaison_policy_activated_timestamp_seconds",
		"When the active policy revision was activated, as a Unix time.", nil, nil)
	descPolicyLastOK = prometheus.NewDesc("liaison_policy_last_activation_ok",
		"1 if the latest activation attempt succeeded, 0 if a candidate was refused (the previous revision stays active).", nil, nil)
	descAwaiting = prometheus.NewDesc("liaison_acknowledgements_awaiting_peer",
		"Acknowledgements made here while the peer gateway of the notice's sender did not answer, still to be forwarded there, by kind of notice (required_notice, obligation_notice), as this replica's last timer pass left them (up to 1000 of each; 0 on a replica that does not hold the timers' lease: take the max across replicas).", []string{"kind"}, nil)
	descAwaitingAge = prometheus.NewDesc("liaison_acknowledgements_awaiting_peer_oldest_seconds",
		"Seconds since the oldest of liaison_acknowledgements_awaiting_peer was made, by kind; 0 when none waits.", []string{"kind"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueue, descBatches, descEntries, descTreeSize, descUnsigned, descStoreUp, descCheckpointAge, descWALPages, descWALFailing,
		descKeyAge, descKeyMaxStale, descKeyStale, descCRLNextUpdate, descCRLStale, descPolicy, descPolicyActivated, descPolicyLastOK, descAwaiting, descAwaitingAge} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	st := s.cfg.Audit.Stats()
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(st.Queued))
	ch <- prometheus.MustNewConstMetric(descBatches, prometheus.CounterValue, float64(st.Batches))
	ch <- prometheus.MustNewConstMetric(descEntries, prometheus.CounterValue, float64(st.Entries))
	ch <- prometheus.MustNewConstMetric(descTreeSize, prometheus.GaugeValue, float64(st.TreeSize))
	ch <- prometheus.MustNewConstMetric(descUnsigned, prometheus.GaugeValue, float64(max(st.TreeSize-st.CheckpointSize, 0)))
	up := 1.0
	if s.auditDown.Load() {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, up)
	// A replica that has signed none since it opened its log (its signer
	// has failed since it started) has been without one that long.
	signed := st.CheckpointTime
	if signed.IsZero() {
		signed = st.Opened
	}
	if !signed.IsZero() {
		ch <- prometheus.MustNewConstMetric(descCheckpointAge, prometheus.GaugeValue, time.Since(signed).Seconds())
	}
	if st.WAL {
		failing := 0.0
		if st.WALCopyFailing {
			failing = 1
		}
		ch <- prometheus.MustNewConstMetric(descWALPages, prometheus.GaugeValue, float64(st.WALPages))
		ch <- prometheus.MustNewConstMetric(descWALFailing, prometheus.GaugeValue, failing)
	}
	age, maxStale := s.cfg.Pseudonyms.Freshness()
	stale := 0.0
	if age > maxStale {
		stale = 1
	}
	ch <- prometheus.MustNewConstMetric(descKeyAge, prometheus.GaugeValue, age.Seconds())
	ch <- prometheus.MustNewConstMetric(descKeyMaxStale, prometheus.GaugeValue, maxStale.Seconds())
	ch <- prometheus.MustNewConstMetric(descKeyStale, prometheus.GaugeValue, stale)
	next, pastNext := s.cfg.Verifier.CRLNextUpdate()
	nextTS, crlStale := 0.0, 0.0
	if !next.IsZero() {
		nextTS = float64(next.Unix())
	}
	if pastNext {
		crlStale = 1
	}
	ch <- prometheus.MustNewConstMetric(descCRLNextUpdate, prometheus.GaugeValue, nextTS)
	ch <- prometheus.MustNewConstMetric(descCRLStale, prometheus.GaugeValue, crlStale)
	eng, ps := s.policy.Snapshot()
	ch <- prometheus.MustNewConstMetric(descPolicy, prometheus.GaugeValue, 1, eng.Revision(), eng.Digest(), eng.Source())
	if !ps.Active.Time.IsZero() {
		ch <- prometheus.MustNewConstMetric(descPolicyActivated, prometheus.GaugeValue, float64(ps.Active.Time.UnixNano())/1e9)
	}
	ok := 1.0
	if ps.Last.Err != nil {
		ok = 0
	}
	ch <- prometheus.MustNewConstMetric(descPolicyLastOK, prometheus.GaugeValue, ok)
	for _, kind := range []string{kindRequiredNotice, kindObligationNotice} {
		a, age := s.awaitingPeer.get(kind), 0.0
		if a.n > 0 {
			age = max(s.now().Sub(a.oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(descAwaiting, prometheus.GaugeValue, float64(a.n), kind)
		ch <- prometheus.MustNewConstMetric(descAwaitingAge, prometheus.GaugeValue, age, kind)
	}
}
