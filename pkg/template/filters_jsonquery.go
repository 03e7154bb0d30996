package template

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/jmespath/go-jmespath"
)

// filterJSONQuery is community.general's json_query: a JMESPath query of
// the value (https://jmespath.org), as the Python jmespath library that
// Ansible calls evaluates it. Dicts in the result list their keys sorted
// (JMESPath's Go implementation keeps no order).
func filterJSONQuery(_ *state, in any, args []any, kw map[string]any) (any, error) {
	expr, ok := arg(args, kw, 0, "expr", nil).(string)
	if !ok {
		return nil, fmt.Errorf("json_query needs a JMESPath expression string")
	}
	// JSON's types, which the JMESPath implementation knows (numbers as
	// float64, dicts as Go maps).
	text, err := pyJSON(in, -1, false, false, ", ", ": ")
	if err != nil {
		return nil, fmt.Errorf("json_query: %w", err)
	}
	var data any
	if err := json.Unmarshal([]byte(text), &data); err != nil {
		return nil, fmt.Errorf("json_query: %w", err)
	}
	out, err := jmespath.Search(legacyLiterals(expr), data)
	if err != nil {
		return nil, fmt.Errorf("JMESPathError in json_query filter plugin:\n%w", err)
	}
	return intsBack(out), nil
}

// intsBack turns whole float64 numbers back into ints, as the query's
// input had them (Python keeps ints; JSON decoding made them floats).
func intsBack(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x)
		}
	case []any:
		for i, e := range x {
			x[i] = intsBack(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = intsBack(e)
		}
	}
	return v
}

// legacyLiterals rewrites backtick literals that are not JSON (`s2`) as
// JSON strings ("s2"), as Python's jmespath still reads them (its
// deprecated string literal syntax, common in playbooks).
func legacyLiterals(expr string) string {
	var b strings.Builder
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch c {
		case '\'', '"':
			j := closing(expr, i, c)
			b.WriteString(expr[i:j])
			i = j - 1
		case '`':
			j := closing(expr, i, '`')
			if j > len(expr) || expr[j-1] != '`' {
				b.WriteString(expr[i:])
				return b.String()
			}
			lit := strings.ReplaceAll(expr[i+1:j-1], "\\`", "`")
			if json.Valid([]byte(strings.TrimSpace(lit))) {
				b.WriteString(expr[i:j])
			} else {
				q, _ := json.Marshal(strings.TrimSpace(lit))
				b.WriteString("`" + strings.ReplaceAll(string(q), "`", "\\`") + "`")
			}
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// closing returns the index after the quote closing the one at i (the
// end of expr when it is not closed); a backslash escapes a character.
func closing(expr string, i int, quote byte) int {
	for j := i + 1; j < len(expr); j++ {
		switch expr[j] {
		case '\\':
			j++
		case quote:
			return j + 1
		}
	}
	return len(expr)
}
