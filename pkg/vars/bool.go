package vars

import (
	"fmt"
	"strings"
)

// ValidBooleans lists the values Boolean accepts, for error messages.
const ValidBooleans = "true/false, yes/no, on/off, y/n, t/f, 1/0"

// Boolean converts v the way Ansible's boolean(v, strict=True) does, which
// is what every boolean playbook keyword (no_log, check_mode, become...)
// goes through: true, 1, 1.0 and the strings y, yes, on, 1, true, t (any
// case, surrounding space ignored) are true; false, 0, 0.0 and n, no, off,
// 0, false, f are false. Anything else, including nil and the empty
// string, is an error: a keyword that guards a secret or a safety check
// must never quietly read a typo as false.
func Boolean(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case int64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case uint64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case float64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "y", "yes", "on", "1", "true", "t":
			return true, nil
		case "n", "no", "off", "0", "false", "f":
			return false, nil
		}
	}
	return false, fmt.Errorf("%s is not a valid boolean (valid: %s)", boolRepr(v), ValidBooleans)
}

func boolRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}
