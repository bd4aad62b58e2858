package gateway_test

import (
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
)

// TestDroppedUnnumberedDenyListRefused: a deny list without a version
// line, denying the prison's certificate, in force on one replica: a
// gateway with no deny list configured (-deny-list dropped from its
// configuration) refuses to start, saying how to retire the list; the
// replica running without one, started before the list was in force,
// refuses its next reload. Once the list, emptied, is in force, the
// reload applies and a gateway without a deny list starts. A list
// without a version was not kept in the store at all: a gateway without
// it started, and every revocation of the list was gone, unsaid.
func TestDroppedUnnumberedDenyListRefused(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDroppedUnnumberedDenyList(t, stackOptions{}) })
	t.Run("postgres", func(t *testing.T) { testDroppedUnnumberedDenyList(t, stackOptions{postgresURL: pgtest.NewDatabase(t)}) })
}

func testDroppedUnnumberedDenyList(t *testing.T, o stackOptions) {
	testDroppedList(t, o, droppedList{
		first: "# revoked after the key was lost\n", before: "no version",
		retire:  "put in force a deny list with no entries (an empty file, or version:1 alone), after which it can be removed",
		retired: "# retired\n",
	})
}
