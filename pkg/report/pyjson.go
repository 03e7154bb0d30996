package report

import (
	"github.com/tend-dev/tend/pkg/pyfmt"
)

// Ansible turns values into text in two ways, and tend's output matches
// ansible-playbook's byte for byte by doing the same through pkg/pyfmt:
//
//   - json.dumps(v, sort_keys=True, ensure_ascii=False, indent=None|4),
//     used for results after "=>";
//   - Python's str()/repr(), used for loop item labels "(item=...)".

// pyDumps is Python's json.dumps(v, sort_keys=True, ensure_ascii=False,
// indent=indent) as Ansible's callbacks call it; indent 0 is one line.
func pyDumps(v any, indent int) string {
	o := pyfmt.JSONOptions{Indent: -1, ItemSep: ", ", KeySep: ": "}
	if indent > 0 {
		o.Indent, o.ItemSep = indent, ","
	}
	s, _ := pyfmt.JSON(v, o) // pyfmt.Plain, the default, never fails
	return s
}

// strictJSON encodes v as compact, valid JSON with sorted keys. Values
// encoding/json cannot represent (NaN, channels, functions) become null or
// strings instead of failing, so one odd value never loses a document.
func strictJSON(v any) []byte {
	s, _ := pyfmt.JSON(v, pyfmt.JSONOptions{Indent: -1, ItemSep: ",", KeySep: ":", Strict: true})
	return []byte(s)
}

// pyStr is Python's str(v) for the values a loop item can hold: strings
// as they are, containers in repr form. Python keeps a dict's insertion
// order, and so does an ordered dict (*odict.Dict); a plain Go map has
// none, so its keys are sorted.
func pyStr(v any) string { return pyfmt.Str(v) }
