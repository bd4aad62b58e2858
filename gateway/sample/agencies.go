package sample

// A SampleAgency is one of the invented agencies of the demo and the tests.
type SampleAgency struct {
	ID, Name, Kind, Jurisdiction string
	// Holder agencies run a sample RecordProvider.
	Holder bool
	// Areas are the municipalities the agency covers (for recipients by
	// role: the police competent for a municipality).
	Areas []string
}

// SampleAgencies are the invented agencies of the demo and the tests.
// Groningen is, on purpose, covered by none of them.
var SampleAgencies = []SampleAgency{
	{"dk-prison-east", "Kriminalforsorgen Øst (sample)", "prison", "DK", true, nil},
	{"dk-police-aarhus", "Østjyllands Politi (sample)", "police", "DK", false, []string{"Aarhus"}},
	{"dk-social-aarhus", "Aarhus Kommune, Socialforvaltningen (sample)", "social_services", "DK", false, []string{"Aarhus"}},
	{"nl-probation", "Reclassering Nederland (sample)", "probation", "NL", true, []string{"Rotterdam", "Schiedam", "Amsterdam"}},
	{"nl-police-rotterdam", "Politie Rotterdam (sample)", "police", "NL", false, []string{"Rotterdam", "Schiedam"}},
	{"nl-municipality-rotterdam", "Gemeente Rotterdam (sample)", "local_authority", "NL", false, []string{"Rotterdam"}},
	{"nl-ngo-exit", "Stichting Uitweg, exit programme (sample)", "ngo", "NL", false, nil},
	{"nl-prison-dji", "Dienst Justitiële Inrichtingen, PI Rotterdam (sample)", "prison", "NL", false, nil},
	{"nl-police-amsterdam", "Politie Amsterdam (sample)", "police", "NL", false, []string{"Amsterdam"}},
}

// A SampleCase is a multi-agency case of the demo and the tests.
type SampleCase struct {
	ID      string
	Lead    string
	Members []string
}

// SampleCases are the sample multi-agency cases.
var SampleCases = []SampleCase{{
	ID:      "NL-ZVH-RTM-0042",
	Lead:    "nl-municipality-rotterdam",
	Members: []string{"nl-police-rotterdam", "nl-probation", "nl-municipality-rotterdam"},
}}
