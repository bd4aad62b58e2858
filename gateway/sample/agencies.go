package sample

// A SampleAgency is one of the invented agencies of the demo and the tests.
type SampleAgency struct {
	ID, Name, Kind, Jurisdiction string
	// Holder agencies run a sample RecordProvider.
	Holder bool
}

// SampleAgencies are the invented agencies of the demo and the tests.
var SampleAgencies = []SampleAgency{
	{"dk-prison-east", "Kriminalforsorgen Øst (sample)", "prison", "DK", true},
	{"dk-police-aarhus", "Østjyllands Politi (sample)", "police", "DK", false},
	{"dk-social-aarhus", "Aarhus Kommune, Socialforvaltningen (sample)", "social_services", "DK", false},
	{"nl-probation", "Reclassering Nederland (sample)", "probation", "NL", true},
	{"nl-police-rotterdam", "Politie Rotterdam (sample)", "police", "NL", false},
	{"nl-municipality-rotterdam", "Gemeente Rotterdam (sample)", "local_authority", "NL", false},
	{"nl-ngo-exit", "Stichting Uitweg, exit programme (sample)", "ngo", "NL", false},
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
