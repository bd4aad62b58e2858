// Package sample is Liaison's sample agencies: their registry entries, a
// development PKI for them, and a RecordProvider that serves synthetic
// subjects from a fixtures file. The demo runs providers in-process and
// `liaison provider` runs one as a process of its own, so that the gateway
// really dials a holder over mTLS. Every person in the fixtures is invented.
package sample

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

//go:embed fixtures/sample.json
var sample []byte

// Sample returns the embedded sample fixtures, with their dates as written:
// a story told as of [SampleWrittenOn] (a release notice for a release on
// 15 December 2026, say). Use it with a clock set to that time; a gateway
// on the real clock needs [SampleOn].
func Sample() []byte { return bytes.Clone(sample) }

// SampleWrittenOn is the day the embedded sample's dates were written for.
var SampleWrittenOn = time.Date(2026, time.December, 4, 0, 0, 0, 0, time.UTC)

// SampleOn returns the embedded sample fixtures with every date in them (a
// string of the form YYYY-MM-DD: release, probation and review dates,
// dates of birth) moved by the whole days from [SampleWrittenOn] to day (its
// date in UTC). The story then stands to day as it stood to the day it was
// written: a release eleven days ahead stays eleven days ahead, so the legal
// bases' release windows and probation periods give the demo the outcomes
// it shows, whatever the date it runs on.
func SampleOn(day time.Time) []byte {
	y, m, d := day.UTC().Date()
	days := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(SampleWrittenOn) / (24 * time.Hour))
	b, err := shiftDates(sample, days)
	if err != nil {
		panic("sample: embedded fixtures: " + err.Error()) // the embedded file is tested
	}
	return b
}

// shiftDates returns the JSON document b with every string that is a date
// (YYYY-MM-DD) moved by days.
func shiftDates(b []byte, days int) ([]byte, error) {
	if days == 0 {
		return bytes.Clone(b), nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				v[k] = walk(e)
			}
		case []any:
			for i, e := range v {
				v[i] = walk(e)
			}
		case string:
			if t, err := time.Parse(time.DateOnly, v); err == nil && t.Format(time.DateOnly) == v {
				return t.AddDate(0, 0, days).Format(time.DateOnly)
			}
		}
		return v
	}
	return json.Marshal(walk(doc))
}

// Fixtures are the subjects each holder agency has.
type Fixtures struct {
	holders map[string]map[string]*subject // agency -> subject id -> subject
}

type subject struct {
	attrs   *liaisonv1.SubjectAttributes
	records map[liaisonv1.RecordType]*liaisonv1.Record
}

type fixturesFile struct {
	Holders []struct {
		Agency   string `json:"agency"`
		Subjects []struct {
			Attributes json.RawMessage   `json:"attributes"`
			Records    []json.RawMessage `json:"records"`
		} `json:"subjects"`
	} `json:"holders"`
}

// ReadFixtures reads a fixtures file.
func ReadFixtures(path string) (*Fixtures, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFixtures(b)
}

// ParseFixtures parses fixtures: holders, each with subjects that have
// attributes (liaison.v1.SubjectAttributes) and records (liaison.v1.Record)
// in protobuf JSON form.
func ParseFixtures(b []byte) (*Fixtures, error) {
	var f fixturesFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("sample: parse fixtures: %v", err)
	}
	fx := &Fixtures{holders: map[string]map[string]*subject{}}
	for _, h := range f.Holders {
		subs := map[string]*subject{}
		for i, s := range h.Subjects {
			sub := &subject{attrs: &liaisonv1.SubjectAttributes{}, records: map[liaisonv1.RecordType]*liaisonv1.Record{}}
			if err := protojson.Unmarshal(s.Attributes, sub.attrs); err != nil {
				return nil, fmt.Errorf("sample: %s subject %d: attributes: %v", h.Agency, i, err)
			}
			id := ""
			for j, raw := range s.Records {
				r := &liaisonv1.Record{}
				if err := protojson.Unmarshal(raw, r); err != nil {
					return nil, fmt.Errorf("sample: %s subject %d record %d: %v", h.Agency, i, j, err)
				}
				rt, rid := describe(r)
				if rt == liaisonv1.RecordType_RECORD_TYPE_UNSPECIFIED || rid == "" {
					return nil, fmt.Errorf("sample: %s subject %d record %d: no record type or subject id", h.Agency, i, j)
				}
				if id != "" && rid != id {
					return nil, fmt.Errorf("sample: %s subject %d: records about different people", h.Agency, i)
				}
				id = rid
				sub.records[rt] = r
			}
			if id == "" {
				return nil, fmt.Errorf("sample: %s subject %d has no records", h.Agency, i)
			}
			subs[id] = sub
		}
		fx.holders[h.Agency] = subs
	}
	return fx, nil
}

// describe returns a record's type and subject id.
func describe(r *liaisonv1.Record) (liaisonv1.RecordType, string) {
	m := r.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("body"))
	if fd == nil {
		return 0, ""
	}
	body := m.Get(fd).Message()
	name := "RECORD_TYPE_" + strings.ToUpper(string(fd.Name()))
	rt := liaisonv1.RecordType(liaisonv1.RecordType_value[name])
	sfd := body.Descriptor().Fields().ByName("subject")
	if sfd == nil || !body.Has(sfd) {
		return rt, ""
	}
	return rt, body.Get(sfd).Message().Interface().(*liaisonv1.Person).GetSubjectId()
}

// Holders returns the agencies the fixtures hold records for.
func (f *Fixtures) Holders() []string {
	var out []string
	for h := range f.holders {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// Server is one holder agency's RecordProvider.
type Server struct {
	liaisonv1.UnimplementedRecordProviderServer
	subjects map[string]*subject
	gateway  string
	fetches  atomic.Int64
}

// Fetches returns how many Fetch calls the server has answered, found or
// not: tests use it to show that the gateway did not ask for a record it
// could not release.
func (s *Server) Fetches() int64 { return s.fetches.Load() }

// NewServer returns the RecordProvider of agency. Only a client whose
// certificate carries gatewayIdentity (a URI SAN) may call it.
func (f *Fixtures) NewServer(agency, gatewayIdentity string) (*Server, error) {
	subs, ok := f.holders[agency]
	if !ok {
		return nil, fmt.Errorf("sample: the fixtures hold nothing for %q", agency)
	}
	return &Server{subjects: subs, gateway: gatewayIdentity}, nil
}

// Register returns a gRPC server with the provider registered, using
// creds (which must require client certificates) and any further options
// (tests chain interceptors with grpc.ChainUnaryInterceptor).
func (s *Server) Register(creds credentials.TransportCredentials, opts ...grpc.ServerOption) *grpc.Server {
	gs := grpc.NewServer(append([]grpc.ServerOption{grpc.Creds(creds), grpc.UnaryInterceptor(s.onlyGateway)}, opts...)...)
	liaisonv1.RegisterRecordProviderServer(gs, s)
	return gs
}

func (s *Server) onlyGateway(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	p, ok := peer.FromContext(ctx)
	if ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 {
			for _, u := range ti.State.PeerCertificates[0].URIs {
				if u.String() == s.gateway {
					return h(ctx, req)
				}
			}
		}
	}
	return nil, status.Error(codes.PermissionDenied, "only the gateway may call a record provider")
}

// Describe returns a subject's attributes and the record types held.
func (s *Server) Describe(_ context.Context, req *liaisonv1.DescribeRequest) (*liaisonv1.DescribeResponse, error) {
	sub, ok := s.subjects[req.GetSubjectId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such subject")
	}
	resp := &liaisonv1.DescribeResponse{Subject: sub.attrs}
	for rt := range sub.records {
		resp.RecordTypes = append(resp.RecordTypes, rt)
	}
	slices.Sort(resp.RecordTypes)
	return resp, nil
}

// Fetch returns one record.
func (s *Server) Fetch(_ context.Context, req *liaisonv1.FetchRequest) (*liaisonv1.FetchResponse, error) {
	s.fetches.Add(1)
	sub, ok := s.subjects[req.GetSubjectId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such subject")
	}
	r, ok := sub.records[req.GetRecordType()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such record")
	}
	return &liaisonv1.FetchResponse{Record: proto.CloneOf(r)}, nil
}

// Record returns a record from the fixtures, for the demo's own disclosures.
func (f *Fixtures) Record(agency, subjectID string, rt liaisonv1.RecordType) (*liaisonv1.Record, *liaisonv1.SubjectAttributes, bool) {
	sub, ok := f.holders[agency][subjectID]
	if !ok {
		return nil, nil, false
	}
	r, ok := sub.records[rt]
	if !ok {
		return nil, nil, false
	}
	return proto.CloneOf(r), proto.CloneOf(sub.attrs), true
}
