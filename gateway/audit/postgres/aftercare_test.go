package postgres_test

import (
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit/audittest"
)

func TestAftercare(t *testing.T) {
	serverURL(t)
	audittest.RunAftercare(t, newDB)
}
