package policies

// samples are the inputs every policy tree must decide at load: the demo's
// scenarios and some denials. Load checks only that each gets a
// well-formed decision, not which one; the golden files in
// testdata/decisions pin the outcomes of the embedded tree.
var samples = []struct {
	name string
	in   Input
}{
	{"dk_release_notice_to_police", sampleDKRelease("risk_management")},
	{"dk_release_notice_for_investigation", sampleDKRelease("criminal_investigation")},
	{"nl_police_request_outside_case", sampleNLRequest(nlPolice, "risk_management", nil)},
	{"nl_ngo_request_risk_assessment", sampleNLRequest(Party{Agency: "nl-ngo-exit", Kind: "ngo", Jurisdiction: "NL"}, "risk_management", nil)},
	{"nl_police_request_in_case", sampleNLRequest(nlPolice, "maw_case_management", &Case{
		ID:      "NL-ZVH-RTM-0042",
		Members: []string{"nl-police-rotterdam", "nl-probation", "nl-municipality-rotterdam"},
		Lead:    "nl-municipality-rotterdam",
	})},
	{"unknown_vocabulary", Input{Action: "delete", Time: "yesterday", RecordType: "dossier", Purpose: "curiosity"}},
}

var nlPolice = Party{Agency: "nl-police-rotterdam", Kind: "police", Jurisdiction: "NL"}

func sampleDKRelease(purpose string) Input {
	prison := Party{Agency: "dk-prison-east", Kind: "prison", Jurisdiction: "DK"}
	return Input{
		Action: "disclose",
		Time:   "2026-11-26T10:00:00Z",
		Requester: Requester{
			Agency: prison.Agency, Kind: prison.Kind, Jurisdiction: prison.Jurisdiction,
			Officer: Officer{ID: "dk-officer-17", Roles: []string{"release_officer"}, Clearance: "confidential"},
		},
		Holder:        prison,
		Recipient:     Party{Agency: "dk-police-aarhus", Kind: "police", Jurisdiction: "DK"},
		Subject:       Subject{Category: "convicted", InCustody: true, ReleaseDate: "2026-12-15", Municipality: "Aarhus"},
		RecordType:    "release_notice",
		Purpose:       purpose,
		Justification: "Release scheduled; local police to plan the first weeks.",
	}
}

func sampleNLRequest(requester Party, purpose string, c *Case) Input {
	return Input{
		Action: "request",
		Time:   "2026-11-26T10:00:00Z",
		Requester: Requester{
			Agency: requester.Agency, Kind: requester.Kind, Jurisdiction: requester.Jurisdiction,
			Officer: Officer{ID: "nl-officer-4", Roles: []string{"case_officer"}, Clearance: "confidential"},
		},
		Holder:        Party{Agency: "nl-probation", Kind: "probation", Jurisdiction: "NL"},
		Recipient:     requester,
		Subject:       Subject{Category: "convicted", ReleaseDate: "2026-05-04", ProbationUntil: "2028-05-03", Municipality: "Rotterdam"},
		RecordType:    "risk_assessment",
		Purpose:       purpose,
		Case:          c,
		Justification: "Risk review after release.",
	}
}
