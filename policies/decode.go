package policies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// decodeValue converts a Rego value into dst through its JSON encoding,
// rejecting unknown keys, and keys of the contract spelt in another case,
// so that a misspelt key in the policy is an error rather than silently
// dropped or read.
func decodeValue(v ast.Value, dst any) error {
	x, err := ast.JSON(v)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// encoding/json matches keys without regard to case: a policy that
	// spells a key of the contract otherwise ("Conditions") is malformed,
	// not read as if it had spelt it right.
	if err := checkKeys(x, reflect.TypeOf(dst), "", false); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// decodeDecision converts a decision as the policy gave it into a Decision,
// as decodeValue does. A decision of the usual shape (the keys of the
// contract, spelt exactly, with values of their types) is read directly;
// anything else goes through decodeValue, which decides as it always has.
func decodeDecision(v ast.Value) (Decision, error) {
	if d, ok := readDecision(v); ok {
		return d, nil
	}
	var d Decision
	if err := decodeValue(v, &d); err != nil {
		return Decision{}, err
	}
	return d, nil
}

// readDecision reads a decision of the usual shape; ok is false for any
// other (then decodeValue decides, with the same result or error it would
// have given before).
func readDecision(v ast.Value) (d Decision, ok bool) {
	obj, ok := v.(ast.Object)
	if !ok {
		return Decision{}, false
	}
	ok = true
	obj.Foreach(func(k, t *ast.Term) {
		if !ok {
			return
		}
		key, isStr := k.Value.(ast.String)
		if !isStr {
			ok = false
			return
		}
		switch key {
		case "outcome":
			d.Outcome, ok = readString(t)
		case "pseudonym_domain":
			d.PseudonymDomain, ok = readString(t)
		case "conditions":
			d.Conditions, ok = readStrings(t)
		case "fields":
			d.Fields, ok = readFields(t)
		case "reasons":
			d.Reasons, ok = readReasons(t)
		case "legal_basis":
			d.LegalBasis, ok = readLegalBasis(t)
		case "approval":
			d.Approval, ok = readApproval(t)
		case "notice":
			d.Notice, ok = readNotice(t)
		default:
			ok = false
		}
	})
	return d, ok
}

func readString(t *ast.Term) (string, bool) {
	switch s := t.Value.(type) {
	case ast.String:
		return string(s), true
	case ast.Null:
		return "", true
	}
	return "", false
}

func readBool(t *ast.Term) (bool, bool) {
	switch b := t.Value.(type) {
	case ast.Boolean:
		return bool(b), true
	case ast.Null:
		return false, true
	}
	return false, false
}

// readStrings reads a list of strings: null is nil, [] an empty list.
func readStrings(t *ast.Term) ([]string, bool) {
	switch a := t.Value.(type) {
	case ast.Null:
		return nil, true
	case *ast.Array:
		out := make([]string, a.Len())
		for i := range a.Len() {
			s, ok := a.Elem(i).Value.(ast.String)
			if !ok {
				return nil, false
			}
			out[i] = string(s)
		}
		return out, true
	}
	return nil, false
}

// readObject calls set for each key of t, an object; ok is false if t is
// not an object, a key is not a string or set says so.
func readObject(t *ast.Term, set func(key string, t *ast.Term) bool) bool {
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return false
	}
	ok = true
	obj.Foreach(func(k, v *ast.Term) {
		if !ok {
			return
		}
		key, isStr := k.Value.(ast.String)
		ok = isStr && set(string(key), v)
	})
	return ok
}

func readFields(t *ast.Term) (f Fields, ok bool) {
	if _, null := t.Value.(ast.Null); null {
		return Fields{}, true
	}
	ok = readObject(t, func(key string, v *ast.Term) (ok bool) {
		switch key {
		case "keep":
			f.Keep, ok = readStrings(v)
		case "generalise":
			f.Generalise, ok = readStrings(v)
		case "pseudonymise":
			f.Pseudonymise, ok = readStrings(v)
		case "precision":
			f.Precision, ok = readString(v)
		}
		return ok
	})
	return f, ok
}

func readReasons(t *ast.Term) ([]Reason, bool) {
	switch a := t.Value.(type) {
	case ast.Null:
		return nil, true
	case *ast.Array:
		out := make([]Reason, a.Len())
		for i := range a.Len() {
			ok := readObject(a.Elem(i), func(key string, v *ast.Term) (ok bool) {
				switch key {
				case "code":
					out[i].Code, ok = readString(v)
				case "message":
					out[i].Message, ok = readString(v)
				}
				return ok
			})
			if !ok {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

func readLegalBasis(t *ast.Term) (*LegalBasis, bool) {
	if _, null := t.Value.(ast.Null); null {
		return nil, true
	}
	lb := &LegalBasis{}
	ok := readObject(t, func(key string, v *ast.Term) (ok bool) {
		switch key {
		case "id":
			lb.ID, ok = readString(v)
		case "citation":
			lb.Citation, ok = readString(v)
		case "valid_until":
			lb.ValidUntil, ok = readString(v)
		case "assumption":
			lb.Assumption, ok = readString(v)
		}
		return ok
	})
	return lb, ok
}

func readNotice(t *ast.Term) (*Notice, bool) {
	if _, null := t.Value.(ast.Null); null {
		return nil, true
	}
	n := &Notice{}
	ok := readObject(t, func(key string, v *ast.Term) (ok bool) {
		switch key {
		case "required":
			n.Required, ok = readBool(v)
		case "rule":
			n.Rule, ok = readString(v)
		case "citation":
			n.Citation, ok = readString(v)
		case "acknowledge_by":
			n.AcknowledgeBy, ok = readString(v)
		case "escalate_at":
			n.EscalateAt, ok = readString(v)
		case "assumption":
			n.Assumption, ok = readString(v)
		}
		return ok
	})
	return n, ok
}

func readApproval(t *ast.Term) (*Approval, bool) {
	if _, null := t.Value.(ast.Null); null {
		return nil, true
	}
	a := &Approval{}
	ok := readObject(t, func(key string, v *ast.Term) (ok bool) {
		switch key {
		case "quorum":
			n, isNum := v.Value.(ast.Number)
			if !isNum {
				return false
			}
			q, err := strconv.Atoi(string(n))
			a.Quorum, ok = q, err == nil
		case "roles":
			a.Roles, ok = readStrings(v)
		case "agencies":
			a.Agencies, ok = readStrings(v)
		case "other_agency":
			a.OtherAgency, ok = readBool(v)
		case "expires_after":
			a.ExpiresAfter, ok = readString(v)
		}
		return ok
	})
	return a, ok
}

// UnmarshalExact decodes the JSON document b into v as encoding/json does,
// but as the policy contract reads it: every key must be spelt exactly as a
// field's JSON name (encoding/json would let "Purpose" or "PURPOSE" fill
// purpose, while OPA reads input.Purpose as another key, so a legal
// officer's simulation would decide on what the gateway never sends), an
// unknown key is an error, null stands only for a list or an object
// (never a string, a number or true/false, inside case, route, event or
// provenance too, except case.requester_status, which the contract reads
// as absent: see checkKeys), and nothing may follow the document. Errors name the key. `liaison policy simulate` and the
// Policy.Simulate RPC read their input with it.
func UnmarshalExact(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more data after the JSON document")
	}
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return errors.New("policies: UnmarshalExact needs a pointer")
	}
	if err := checkKeys(x, t.Elem(), "", true); err != nil {
		return err
	}
	dec = json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// nullIsAbsent are the scalar fields, by struct, for which the contract
// reads null as absent (policies/README.md): case.requester_status.
var nullIsAbsent = map[reflect.Type]map[string]bool{
	reflect.TypeFor[Case](): {"requester_status": true},
}

// checkKeys checks x, a JSON value as encoding/json decodes it into any,
// against t, the Go type it is to be decoded into: every object key must
// be the JSON name of a field of the struct, spelt exactly.
//
// null: with strictNull, null is refused where t is a string, a bool or
// an int, int32, int64 or float64 (a list's element included: "roles":
// [null]), except the document itself, a pointer and the fields of
// nullIsAbsent. A pointer (input.case, route, event, provenance; a
// decision's legal_basis, approval, notice) is optional: null for it is
// absent. What is under it is checked as strictly as the rest, so
// "case": {"id": null} or "route": {"area": null} is refused: the gateway
// never sends null there, and the "" it would decode as (sent as "", or
// left out) is not what the policy reads of null. A golden file's input
// and expected decision (pointers in cmd/liaison) are read so too.
// Everywhere else null passes and encoding/json leaves the Go value as it
// was: a list or a map is nil, an object its zero value, a pointer nil.
// That nil list is not turned into [] here or by Input.value, which sends
// it as null (invited, omitempty, is left out): the policy reads null,
// and where its rules read it as empty they do so themselves (as
// provenance.conditions does; case.members null is INVALID_CASE, as [] is).
// In a Decision a nil list reads as empty, except approval.agencies, where
// nil is absent (any agency's approvers) and [] is malformed.
// path names x in errors ("" for the document).
func checkKeys(x any, t reflect.Type, path string, strictNull bool) error {
	if t.Kind() == reflect.Pointer && x == nil {
		return nil // an optional object or value: null is absent
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if x == nil {
		switch t.Kind() {
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Float64:
			// OPA reads null as null, not as "" or false: the input
			// would not be the one the gateway sends.
			if strictNull && path != "" {
				return fmt.Errorf("%s is null", path)
			}
		}
		return nil // anything else: the Go value stays nil or zero (see above)
	}
	at := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := x.(map[string]any)
		if !ok {
			return nil // the wrong type: encoding/json says so
		}
		names := jsonNames(t)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			f, ok := names[k]
			if !ok {
				for n := range names {
					if strings.EqualFold(n, k) {
						return fmt.Errorf("unknown key %q (keys are case-sensitive: %q)", at(k), at(n))
					}
				}
				return fmt.Errorf("unknown key %q", at(k))
			}
			if obj[k] == nil && nullIsAbsent[t][k] {
				continue
			}
			if err := checkKeys(obj[k], f.Type, at(k), strictNull); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if arr, ok := x.([]any); ok {
			for i, e := range arr {
				if err := checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), strictNull); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if obj, ok := x.(map[string]any); ok {
			for k, e := range obj {
				if err := checkKeys(e, t.Elem(), at(k), strictNull); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// jsonNames maps the JSON names of t's exported fields to the fields.
func jsonNames(t reflect.Type) map[string]reflect.StructField {
	names := map[string]reflect.StructField{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names[name] = f
	}
	return names
}
