package custommodule

import (
	"bytes"
	"regexp"
	"strings"
)

// Style is how a module is packed and called, as Ansible's module_common
// classifies modules.
type Style int

// Module styles.
const (
	// Old: arguments in a key=value file given as the first argument.
	Old Style = iota
	// WantJSON: the module says WANT_JSON; a JSON arguments file is the
	// first argument.
	WantJSON
	// Binary: not text; a JSON arguments file is the first argument.
	Binary
	// JSONArgs: <<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>> in the module is
	// replaced by the JSON arguments.
	JSONArgs
	// NewPython: a Python module importing ansible.module_utils, packed
	// with them (AnsiballZ).
	NewPython
	// PowerShell: a Windows module, which tend cannot run.
	PowerShell
)

func (s Style) String() string {
	return [...]string{"old", "non_native_want_json", "binary", "jsonargs", "new (python)", "new (powershell)"}[s]
}

// Markers module_common looks for.
const (
	replacer         = "#<<INCLUDE_ANSIBLE_MODULE_COMMON>>"
	replacerWindows  = "# POWERSHELL_COMMON"
	replacerJSONArgs = "<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>"
	replacerVersion  = `"<<ANSIBLE_VERSION>>"`
	replacerComplex  = `"<<INCLUDE_ANSIBLE_MODULE_COMPLEX_ARGS>>"`
	replacerSELinux  = "<<SELINUX_SPECIAL_FILESYSTEMS>>"
)

// newStylePython is module_common's NEW_STYLE_PYTHON_MODULE_RE.
var newStylePython = regexp.MustCompile(`(?:from +\.{2,} *module_utils.* +import |` +
	`from +ansible_collections\.[^.]+\.[^.]+\.plugins\.module_utils.* +import |` +
	`import +ansible_collections\.[^.]+\.[^.]+\.plugins\.module_utils.*|` +
	`from +ansible\.module_utils.* +import |` +
	`import +ansible\.module_utils\.)`)

var powershellRequires = regexp.MustCompile(`(?i)#Requires -Module|#Requires -Version|#AnsibleRequires -OSVersion|#AnsibleRequires -Powershell|#AnsibleRequires -CSharpUtil`)

// Classify returns the style of a module's content, in module_common's
// order of tests.
func Classify(data []byte) Style {
	switch {
	case isBinary(data):
		return Binary
	case bytes.Contains(data, []byte(replacer)):
		return NewPython
	case newStylePython.Match(data):
		return NewPython
	case bytes.Contains(data, []byte(replacerWindows)), powershellRequires.Match(data):
		return PowerShell
	case bytes.Contains(data, []byte(replacerJSONArgs)):
		return JSONArgs
	case bytes.Contains(data, []byte("WANT_JSON")):
		return WantJSON
	}
	return Old
}

// isBinary is module_common's _is_binary: a byte outside printable text
// and the usual control characters in the first 1024.
func isBinary(data []byte) bool {
	if len(data) > 1024 {
		data = data[:1024]
	}
	for _, b := range data {
		switch {
		case b == 7, b == 8, b == 9, b == 10, b == 12, b == 13, b == 27:
		case b >= 0x20 && b != 0x7f:
		default:
			return true
		}
	}
	return false
}

// Shebang returns the interpreter and its arguments from a module's first
// line ("#!/usr/bin/env bash" gives "/usr/bin/env", ["bash"]), or "" when
// it has none.
func Shebang(data []byte) (string, []string) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	if !bytes.HasPrefix(line, []byte("#!")) {
		return "", nil
	}
	f := strings.Fields(strings.TrimSpace(string(line[2:])))
	if len(f) == 0 {
		return "", nil
	}
	return f[0], f[1:]
}
