package pseudonym_test

import (
	"errors"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/pseudonym"
)

// Available says what Pseudonym would: usable within the staleness bound,
// ErrUnavailable past it, usable again once the keys are reloaded.
func TestAvailableFollowsTheStalenessBound(t *testing.T) {
	now := time.Now()
	p := newPseudonymizer(t, func() time.Time { return now })
	if err := p.Available(); err != nil {
		t.Fatalf("Available() with fresh keys = %v, want nil", err)
	}
	now = now.Add(59 * time.Second)
	if err := p.Available(); err != nil {
		t.Errorf("Available() within the bound = %v, want nil", err)
	}
	now = now.Add(2 * time.Second)
	if err := p.Available(); !errors.Is(err, pseudonym.ErrUnavailable) {
		t.Errorf("Available() past the bound = %v, want ErrUnavailable", err)
	}
	if _, err := p.Pseudonym("d", "x"); !errors.Is(err, pseudonym.ErrUnavailable) {
		t.Errorf("Pseudonym past the bound = %v, want ErrUnavailable", err)
	}
	if err := p.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := p.Available(); err != nil {
		t.Errorf("Available() after a reload = %v, want nil", err)
	}
}
