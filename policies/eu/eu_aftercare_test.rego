# Tests of conditions across borders: a record keeps the conditions of
# the law it was released under wherever it goes (LED Art. 9(3)), and a
# recipient in another Member State is bound by them no more strictly than
# a domestic one (LED Art. 9(4)); what it keeps when the basis ends is its
# own law's question. Run: go tool opa test policies/ -r aftercare
package liaison_test.aftercare.eu

import data.liaison_test.eu as eu

dk_prison := {"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK"}

dk_social := {"agency": "dk-social-aarhus", "kind": "social_services", "jurisdiction": "DK"}

nl_city := {"agency": "nl-municipality-rotterdam", "kind": "local_authority", "jurisdiction": "NL"}

nl_police_2 := {"agency": "nl-police-amsterdam", "kind": "police", "jurisdiction": "NL"}

# The Danish prison's release notice reached the Rotterdam police (entry
# 80) under § 115 through the Directive, with the Danish conditions.
from_denmark(recipient) := {
	"audit_index": 80,
	"holder": dk_prison,
	"recipient": recipient,
	"legal_basis": "dk.rpl.115.stk1.nr3",
	"valid_until": "2027-12-15",
	"purpose": "risk_management",
	"case_id": "",
	"conditions": ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"],
}

passed_on(holder, recipient, patch) := object.union(
	object.union(eu.from_(holder, recipient), {"provenance": from_denmark(holder)}),
	patch,
)

test_danish_conditions_bind_the_dutch_police if {
	d := eu.decide(passed_on(eu.nl_police, nl_city, {}))
	d.outcome == "deny"
	eu.codes(d) == ["ONWARD_DISCLOSURE_PROHIBITED"]
}

test_the_stk2_bar_holds_in_the_netherlands if {
	# Dutch law has no such prohibition; the Danish condition travels.
	d := eu.decide(passed_on(eu.nl_police, nl_police_2, {"purpose": "criminal_investigation"}))
	d.outcome == "deny"
	eu.codes(d) == ["NOT_FOR_CRIMINAL_INVESTIGATION", "ONWARD_DISCLOSURE_PROHIBITED"]
	contains(d.reasons[0].message, "§ 115, stk. 2")
}

test_no_stricter_than_at_home if {
	# The Aarhus police, holding the same record, are refused the same way.
	home := eu.decide(passed_on(eu.dk_police, dk_social, {}))
	abroad := eu.decide(passed_on(eu.nl_police, nl_city, {}))
	eu.codes(home) == eu.codes(abroad)

	# And the onward rules name no jurisdiction: every restriction reads
	# purposes, kinds and the case, never where the recipient is.
	every r in data.liaison.onward_rules {
		not "recipient_jurisdictions" in object.keys(r)
	}
}

test_back_to_where_it_came_from_the_conditions_do_not_stop_it if {
	d := eu.decide(passed_on(eu.nl_police, dk_prison, {}))
	not "ONWARD_DISCLOSURE_PROHIBITED" in eu.codes(d)

	# The Danish police are not where it came from.
	d2 := eu.decide(passed_on(eu.nl_police, eu.dk_police, {}))
	"ONWARD_DISCLOSURE_PROHIBITED" in eu.codes(d2)
}

test_retention_follows_the_recipients_law if {
	ended := object.union(eu.from_(dk_prison, eu.nl_police), {"time": "2027-12-16T00:00:00Z"})
	r := data.liaison.retention with input as ended
	r.obligation == "retain"
	r.rule.id == "nl.wpg.retention.art8"
	r.rule.retain_until == "2028-12-15"
}
