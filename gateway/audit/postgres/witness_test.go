package postgres_test

import (
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit/audittest"
)

func TestWitness(t *testing.T) {
	serverURL(t)
	audittest.RunWitness(t, newDB)
}

func TestPeerCheckpoints(t *testing.T) {
	serverURL(t)
	audittest.RunPeerCheckpoints(t, newDB)
}
