package sqlite_test

import (
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit/audittest"
)

func TestAftercare(t *testing.T) {
	audittest.RunAftercare(t, newDB)
}
