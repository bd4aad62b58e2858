package policies

// The packs name the time zones of their laws' days (time_zone, an IANA
// name), which the policy's time built-ins load by name: the zone database
// is built into the binary, so that a deadline does not depend on the
// files of the machine the gateway runs on.
import _ "time/tzdata"
