package exercise

import (
	"context"
	"slices"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// liveSubject is the person's attributes on the simulated day: an update
// changes them, and the holders' providers answer with them from then on.
type liveSubject struct {
	mu sync.Mutex
	s  Subject
}

func (l *liveSubject) get() Subject {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

func (l *liveSubject) set(s Subject) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.s = s
}

// provider is a holder's RecordProvider in the exercise: it holds the
// record types the holder holds about the person, built, as the holder
// keeps them, from the person's attributes on the day it is asked, so that
// a request or a match after an update is decided on the person as the
// update left them.
type provider struct {
	liaisonv1.UnimplementedRecordProviderServer
	sc      *Scenario
	holder  string
	types   []string
	subject *liveSubject
	gateway string // the gateway's identity, the only client
}

func (p *provider) register(creds credentials.TransportCredentials) *grpc.Server {
	gs := grpc.NewServer(grpc.Creds(creds), grpc.UnaryInterceptor(p.onlyGateway))
	liaisonv1.RegisterRecordProviderServer(gs, p)
	return gs
}

func (p *provider) onlyGateway(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if pr, ok := peer.FromContext(ctx); ok {
		if ti, ok := pr.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 {
			for _, u := range ti.State.PeerCertificates[0].URIs {
				if u.String() == p.gateway {
					return h(ctx, req)
				}
			}
		}
	}
	return nil, status.Error(codes.PermissionDenied, "only the gateway may call a record provider")
}

// Describe returns the person's attributes today and the record types held.
func (p *provider) Describe(_ context.Context, req *liaisonv1.DescribeRequest) (*liaisonv1.DescribeResponse, error) {
	s := p.subject.get()
	if req.GetSubjectId() != s.subjectID() {
		return nil, status.Error(codes.NotFound, "no such subject")
	}
	resp := &liaisonv1.DescribeResponse{Subject: subjectAttrs(s)}
	for _, rt := range p.types {
		resp.RecordTypes = append(resp.RecordTypes, recordEnum(rt))
	}
	slices.Sort(resp.RecordTypes)
	return resp, nil
}

// Fetch returns the record of a type as the holder keeps it today.
func (p *provider) Fetch(_ context.Context, req *liaisonv1.FetchRequest) (*liaisonv1.FetchResponse, error) {
	s := p.subject.get()
	if req.GetSubjectId() != s.subjectID() {
		return nil, status.Error(codes.NotFound, "no such subject")
	}
	rt := word(req.GetRecordType(), "RECORD_TYPE_")
	if !slices.Contains(p.types, rt) {
		return nil, status.Error(codes.NotFound, "no such record")
	}
	return &liaisonv1.FetchResponse{Record: record(p.sc, s, p.holder, rt)}, nil
}
