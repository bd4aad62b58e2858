# Liaison shared vocabulary
# The words every jurisdiction pack uses: actions, agency kinds, record
# types, purposes, subject categories, clearance levels and field classes,
# plus the checks of dates and times in the input. A value outside these
# lists makes data.liaison.decision deny.
package liaison

# actions are what an agency can do through the gateway.
actions := {"disclose", "request", "notify", "match", "translate", "reidentify"}

# pseudonym_actions concern a pseudonym the requester already holds, not a
# record: translate maps it into a case's domain, reidentify asks for the
# identity behind it under dual control. They carry no record type and no
# subject attributes (the gateway does not know them for a pseudonym); the
# bases for them name requester_kinds instead of holder and recipient kinds.
pseudonym_actions := {"translate", "reidentify"}

# agency_kinds are the kinds of agency that take part.
agency_kinds := {
	"police", "probation", "prison", "social_services",
	"local_authority", "intelligence", "ngo",
}

# record_types are the seven record types (protobuf messages under proto/).
record_types := {
	"release_notice", "risk_assessment", "probation_measures",
	"exit_programme_status", "family_contact", "case_plan",
	"police_observation",
}

# criminal_offence_record_types hold personal data relating to criminal
# convictions and offences (GDPR Art. 10). They reach NGOs and social
# services only where a legal basis names that recipient kind.
criminal_offence_record_types := {"police_observation", "probation_measures", "risk_assessment"}

# gdpr_recipient_kinds are the recipient kinds that are not competent
# authorities under the Law Enforcement Directive, so GDPR Art. 10 applies.
gdpr_recipient_kinds := {"ngo", "social_services"}

# purposes are the purposes an exchange can serve.
purposes := {
	"risk_management", "resocialisation", "maw_case_management",
	"family_support", "criminal_investigation", "statistics",
}

# subject_categories describe the person a record is about. An empty
# category means "unknown" and is allowed; bases that need a category fail.
subject_categories := {"convicted", "suspect", "victim", "other"}

# clearance_levels are the officer clearance levels, lowest first. An empty
# clearance counts as "none".
clearance_levels := ["none", "restricted", "confidential", "secret", "top_secret"]

# clearance_rank maps a clearance level to its position in clearance_levels.
clearance_rank := {c: i | some i, c in clearance_levels}

# field_classes are the classes the protobuf schema annotates fields with.
field_classes := {
	"direct_identifier", "quasi_identifier", "sensitive",
	"assessment", "operational", "free_text",
}

# field_names are the names a field plan (a basis's or fallback rule's
# "fields") may give a field instead of its class: Message.field of every
# field of the record schema that holds a value (proto/liaison/v1/records.proto,
# the parts Person, Address, ... included). A plan's name outside them is
# a typo the gateway refuses (POLICY_ERROR) and the pack checks report;
# TestFieldNamesAreTheSchemas keeps the list equal to the schema.
field_names := {
	"Address.country", "Address.municipality", "Address.postal_code", "Address.street",
	"CaseMeasure.description", "CaseMeasure.due", "CaseMeasure.owner_agency",
	"CasePlan.case_id", "CasePlan.lead_agency", "CasePlan.member_agencies", "CasePlan.next_review", "CasePlan.notes",
	"ExitProgrammeStatus.engagement", "ExitProgrammeStatus.enrolled_on", "ExitProgrammeStatus.last_contact_on",
	"ExitProgrammeStatus.notes", "ExitProgrammeStatus.programme", "ExitProgrammeStatus.provider_agency", "ExitProgrammeStatus.stage",
	"FamilyContact.contact_worker", "FamilyContact.last_contact_on", "FamilyContact.notes",
	"FamilyContact.support_offered", "FamilyContact.worries",
	"Person.date_of_birth", "Person.full_name", "Person.relation", "Person.subject_id",
	"PoliceObservation.category", "PoliceObservation.description", "PoliceObservation.grading",
	"PoliceObservation.observed_on", "PoliceObservation.reporting_unit",
	"ProbationBreach.date", "ProbationBreach.description",
	"ProbationCondition.details", "ProbationCondition.kind",
	"ProbationMeasures.electronic_monitoring", "ProbationMeasures.notes", "ProbationMeasures.probation_until",
	"ProbationMeasures.reporting_frequency", "ProbationMeasures.supervising_office",
	"ReleaseNotice.contact_point", "ReleaseNotice.facility", "ReleaseNotice.licence_conditions", "ReleaseNotice.notes",
	"ReleaseNotice.offence_category", "ReleaseNotice.previous_release_date", "ReleaseNotice.probation_until",
	"ReleaseNotice.release_date", "ReleaseNotice.risk_assessment_available",
	"RiskAssessment.actions", "RiskAssessment.assessed_on", "RiskAssessment.assessor_agency", "RiskAssessment.level",
	"RiskAssessment.review_by", "RiskAssessment.strengths", "RiskAssessment.summary", "RiskAssessment.tool",
	"RiskAssessment.worries",
}

# listed_jurisdictions are the jurisdictions of section 1 of the design.
# An agency's jurisdiction must be one of them or have a pack loaded.
listed_jurisdictions := {"DK", "NL", "BE", "FR", "DE-BY", "DE-NI"}

# known_jurisdiction(j) is true if j is listed or has a pack. It looks up
# only j's pack, so that deciding does not evaluate every pack.
known_jurisdiction(j) if j in listed_jurisdictions

else if has_pack(j)

# pack_key(j) is the name of the package of the pack for jurisdiction j:
# package liaison.jurisdictions.<key>, with <key> the code in lower case
# and "-" as "_" (DE-BY -> de_by).
pack_key(j) := lower(replace(j, "-", "_")) if is_string(j)

# has_pack(j) is true if a pack for j is loaded (and says it is for j).
has_pack(j) if data.liaison.jurisdictions[pack_key(j)].code == j

# outcome_rank orders outcomes from most to least revealing.
outcome_rank := {"disclose": 0, "pseudonymise": 1, "hit_only": 2, "deny": 3}

# is_date is true if s is a real calendar date written YYYY-MM-DD between
# the years 1900 and 2199. Checking it first means time.parse_ns never
# fails on it. The pattern accepts days 1-28 of any month, 29 and 30 of any
# month but February, 31 of the long months, and 29 February of the leap
# years (2000, and years divisible by 4 but not by 100).
is_date(s) if {
	is_string(s)
	regex.match(`^(?:(?:19|20|21)[0-9]{2}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|(?:(?:19|20|21)(?:0[48]|[2468][048]|[13579][26])|2000)-02-29)$`, s)
}

# is_time is true if s is an RFC 3339 date-time ("2026-11-26T10:00:00Z",
# optional fraction, "Z" or "+01:00") that time.parse_rfc3339_ns accepts.
# The date part is the pattern of is_date.
is_time(s) if {
	is_string(s)
	regex.match(_time_pattern, s)
}

# _time_pattern is the pattern of is_time.
_time_pattern := `^(?:(?:19|20|21)[0-9]{2}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|(?:(?:19|20|21)(?:0[48]|[2468][048]|[13579][26])|2000)-02-29)T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`

# _date_or_empty is the pattern of is_date that also accepts "" (a date
# that is not known).
_date_or_empty := `^(?:|(?:19|20|21)[0-9]{2}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|(?:(?:19|20|21)(?:0[48]|[2468][048]|[13579][26])|2000)-02-29)$`

# date_ns is midnight UTC at the start of the date s (YYYY-MM-DD).
date_ns(s) := time.parse_ns("2006-01-02", s) if is_date(s)

# local_date_ns(s, tz) is midnight at the start of the date s (YYYY-MM-DD)
# in the IANA time zone tz ("Europe/Copenhagen"), in nanoseconds since the
# epoch: when that day begins there (in Copenhagen, 23:00 UTC of the day
# before in winter and 22:00 UTC in summer). The offset is the one in force
# at that midnight, so a day on which the clocks change begins at the
# offset of the night before. A tz that does not load is a built-in error.
# It takes w, midnight of s at the offset in force at 00:00 UTC of s, and
# then midnight of s at the offset in force at w. Offsets are read as
# time.format writes them with _utc_offset ("+01:00:00", "Z"), to the
# second, and s at an offset by time.parse_ns: no arithmetic on
# nanoseconds, which OPA does on big integers.
local_date_ns(s, tz) := time.parse_ns(_date_at_offset, concat("", [s, time.format([w, tz, _utc_offset])])) if {
	w := time.parse_ns(_date_at_offset, concat("", [s, time.format([date_ns(s), tz, _utc_offset])]))
}

_utc_offset := "Z07:00:00"

_date_at_offset := "2006-01-02Z07:00:00"

# wall_clock_ns(ns, tz) is the time ns as the clocks in the IANA time zone
# tz show it, read as if it were UTC, in nanoseconds. ns falls on the day D
# there exactly when date_ns(D) <= wall_clock_ns(ns, tz) < date_ns(D) +
# day_ns, so a validity compares it with date_ns of its days to count in
# the days of its law: a day begins at midnight there (on a day the clocks
# change, at the offset of the night before, as local_date_ns). A tz that
# does not load is a built-in error.
wall_clock_ns(ns, tz) := time.parse_ns(_wall_clock_ns, time.format([ns, tz, _wall_clock_ns]))

_wall_clock_ns := "2006-01-02T15:04:05.999999999"

# pack_time_zones[key] is the time zone of the days of pack <key>'s law:
# its time_zone, UTC if it names none.
pack_time_zones[key] := object.get(p, "time_zone", "UTC") if {
	some key, p in data.liaison.jurisdictions
}

# basis_time_zone(id) is the time zone of the days of the law of legal
# basis id: that of the pack whose key is its id's first part ("dk" of
# dk.rpl.115.stk1.nr3), UTC if no such pack is loaded. A basis's
# valid_until is a day there.
basis_time_zone(id) := object.get(pack_time_zones, split(id, ".")[0], "UTC")

# format_date writes ns as YYYY-MM-DD (UTC).
format_date(ns) := sprintf("%04d-%02d-%02d", time.date(ns))

# day_ns is one day in nanoseconds.
day_ns := ((24 * 60) * 60) * 1000000000
