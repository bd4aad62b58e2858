package sqlite_test

import (
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit/audittest"
)

func TestWitness(t *testing.T) {
	audittest.RunWitness(t, newDB)
}

func TestPeerCheckpoints(t *testing.T) {
	audittest.RunPeerCheckpoints(t, newDB)
}
