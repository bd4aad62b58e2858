// Package exercise plays tabletop exercises: a scenario of what agencies
// do about one invented person over days and months (disclosures, notices
// of events, requests, matches, cases opened, joined and closed, records
// passed on, corrections and withdrawals), played
// through a real gateway started in-process (gRPC over TLS on loopback,
// its own SQLite store, keys derived from the scenario, the scenario's
// agencies as its registry) on a simulated clock that runs the gateway's
// notice timers between events. The report is a timeline per agency (what
// it learned, when, in which form, under which provision and conditions;
// what it was refused and why; its required notices, escalations and
// acknowledgements; the corrections and withdrawals it sent or was sent)
// and a list of gaps: expectations of the scenario not met, required
// notices not acknowledged in time, agencies that got a record and not its
// correction or withdrawal, agencies that passed a record on and not its
// correction or withdrawal, obligation notices never acknowledged, and
// exchanges that rest on a reading of the law the pack marks as
// unverified. Compare shows what
// a candidate policy changes in the same scenario.
//
// It sits above the gateway, like cmd/. The same scenario and policy give
// the same report, byte for byte: times are the simulated clock's, keys
// that shape the output are derived from the scenario's name, and nothing
// random (audit indexes, notice ids, pseudonyms) is printed.
package exercise
