package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/audittest"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

func TestStore(t *testing.T) {
	audittest.Run(t, func(t *testing.T) audittest.OpenFunc {
		path := filepath.Join(t.TempDir(), "audit.db")
		return func(t *testing.T) audit.Store {
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatalf("Open(%q) = %v", path, err)
			}
			return s
		}
	})
}
