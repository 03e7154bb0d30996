package modules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// fileAttrArgs returns the argument specs every file-writing module shares
// with Ansible's "files" document fragment: owner, group, mode, and the
// SELinux, attribute and unsafe_writes arguments that tend accepts and
// ignores (they are documented as such). It returns a fresh slice on every
// call, so callers may append to it.
func fileAttrArgs() []module.Arg {
	return []module.Arg{
		{Name: "owner", Type: module.String, Doc: "Name (or numeric uid) of the user that should own the file. Unset: left as is (new files belong to the connecting or become user)."},
		{Name: "group", Type: module.String, Doc: "Name (or numeric gid) of the group that should own the file. Unset: left as is."},
		{Name: "mode", Type: module.Raw, Doc: "Permissions, as Ansible reads them: an octal string (\"0644\", \"644\", \"u=rw,g=r,o=r\" symbolic with u/g/o/a, +,-,=, r/w/x/X/s/t/u/g/o) or a number. A YAML number is taken as it is: `mode: 0644` is 0644, but `mode: 644` is decimal 644 = 01204, exactly as in Ansible; quote modes to be safe."},
		{Name: "seuser", Type: module.String, Doc: "Accepted for compatibility and ignored (tend does not manage SELinux contexts)."},
		{Name: "serole", Type: module.String, Doc: "Accepted for compatibility and ignored."},
		{Name: "setype", Type: module.String, Doc: "Accepted for compatibility and ignored."},
		{Name: "selevel", Type: module.String, Doc: "Accepted for compatibility and ignored."},
		{Name: "attributes", Aliases: []string{"attr"}, Type: module.String, Doc: "Accepted for compatibility and ignored (chattr attributes are not managed)."},
		{Name: "unsafe_writes", Type: module.Bool, Default: false, Doc: "Accepted for compatibility and ignored: tend always writes atomically."},
	}
}

// permBits are the bits a mode argument may set (Python's PERM_BITS).
const permBits = 0o7777

// Mode is a resolved mode argument: Ansible accepts an octal number or a
// symbolic expression, and a symbolic one can only be resolved against the
// file's current mode. The zero Mode means "not given".
type Mode struct {
	set      bool
	octal    uint32
	symbolic string
}

// parseMode reads a mode argument the way Ansible's set_mode_if_different
// does: nil means unset; an int (a YAML number) is used as is, so `644`
// is decimal 644 = 0o1204; a string is first tried as octal ("0644",
// "644", "0o644") and otherwise as a symbolic mode ("u+rwX,g-w,o=").
// Symbolic modes are syntax-checked here and resolved later by Apply.
func parseMode(v any) (Mode, error) {
	switch x := v.(type) {
	case nil:
		return Mode{}, nil
	case int:
		return octalMode(int64(x), v)
	case int64:
		return octalMode(x, v)
	case uint64:
		if x > permBits {
			return Mode{}, fmt.Errorf("invalid mode %v: only permission bits (at most 07777) are allowed", v)
		}
		return octalMode(int64(x), v)
	case float64:
		if x != math.Trunc(x) {
			return Mode{}, fmt.Errorf("invalid mode %v: not an integer", v)
		}
		return octalMode(int64(x), v)
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return Mode{}, fmt.Errorf("mode must be in octal or symbolic form, got an empty string")
		}
		if n, ok := parsePythonOctal(s); ok {
			return octalMode(n, v)
		}
		if err := checkSymbolic(s); err != nil {
			return Mode{}, fmt.Errorf("mode must be in octal or symbolic form: %w", err)
		}
		return Mode{set: true, symbolic: s}, nil
	}
	return Mode{}, fmt.Errorf("mode must be in octal or symbolic form, got %T", v)
}

// parsePythonOctal mimics Python's int(s, 8): optional sign, optional
// 0o prefix, digits 0-7 with single underscores between them.
func parsePythonOctal(s string) (int64, bool) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "+"), "-")
	neg := strings.HasPrefix(s, "-")
	if len(t) > 2 && (t[:2] == "0o" || t[:2] == "0O") {
		t = t[2:]
	}
	if t == "" || strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") || strings.Contains(t, "__") {
		return 0, false
	}
	t = strings.ReplaceAll(t, "_", "")
	n, err := strconv.ParseInt(t, 8, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

func octalMode(n int64, orig any) (Mode, error) {
	if n < 0 || n > permBits {
		return Mode{}, fmt.Errorf("invalid mode %v: only permission bits (at most 07777) are allowed", orig)
	}
	return Mode{set: true, octal: uint32(n)}, nil
}

// IsSet reports whether a mode was given.
func (m Mode) IsSet() bool { return m.set }

// IsSymbolic reports whether the mode depends on the current mode.
func (m Mode) IsSymbolic() bool { return m.symbolic != "" }

// String returns the mode as given: "0644" style for numbers.
func (m Mode) String() string {
	switch {
	case !m.set:
		return ""
	case m.symbolic != "":
		return m.symbolic
	}
	return formatMode(m.octal)
}

// Apply returns the permission bits the file should have, given its
// current permission bits, whether it is a directory, and the umask that
// applies on the host (used by symbolic modes without a who part, like
// "+x"). For an unset Mode it returns cur.
func (m Mode) Apply(cur uint32, isDir bool, umask uint32) (uint32, error) {
	if !m.set {
		return cur & permBits, nil
	}
	if m.symbolic == "" {
		return m.octal, nil
	}
	return symbolicMode(m.symbolic, cur, isDir, umask)
}

// formatMode prints permission bits as Ansible does ('0%03o'): "0644",
// "01777".
func formatMode(m uint32) string { return fmt.Sprintf("0%03o", m&permBits) }

func checkSymbolic(s string) error {
	_, err := symbolicMode(s, 0, false, 0o22)
	return err
}

// symbolicMode applies a chmod-style symbolic mode ("u+rwX,g-w,o=",
// "a=r", "+x", "u=rw+x", "g=u") to cur exactly as Ansible's
// _symbolic_mode_to_octal does: clauses apply left to right, X adds
// execute only on directories or when some execute bit is already set, an
// empty who part means "a" restricted by umask for r/w/x. As in Ansible
// 2.14, X and the u/g/o copy sources look at the mode the file had before
// the whole expression, not at the result of earlier clauses.
func symbolicMode(s string, cur uint32, isDir bool, umask uint32) (uint32, error) {
	orig := cur & permBits
	mode := orig
	for _, clause := range strings.Split(s, ",") {
		idx := strings.IndexAny(clause, "+-=")
		if idx < 0 {
			// Ansible ignores a clause without an operator only if it is
			// made of valid who letters; anything else is an error.
			if strings.Trim(clause, "ugoa") != "" {
				return 0, fmt.Errorf("bad symbolic permission for mode: %q", clause)
			}
			continue
		}
		who := clause[:idx]
		useUmask := who == ""
		if who == "" || who == "a" {
			who = "ugo"
		}
		if strings.Trim(who, "ugo") != "" {
			return 0, fmt.Errorf("bad symbolic permission for mode: %q", clause)
		}
		rest := clause[idx:]
		for rest != "" {
			op := rest[0]
			rest = rest[1:]
			end := strings.IndexAny(rest, "+-=")
			if end < 0 {
				end = len(rest)
			}
			perms := rest[:end]
			rest = rest[end:]
			if strings.Trim(perms, "rwxXstugo") != "" {
				return 0, fmt.Errorf("bad symbolic permission for mode: %q", clause)
			}
			for _, u := range who {
				apply := symbolicPerms(byte(u), perms, useUmask, umask, orig, isDir)
				mode = applyOp(byte(u), op, apply, mode)
			}
		}
	}
	return mode, nil
}

func applyOp(user, op byte, apply, cur uint32) uint32 {
	switch op {
	case '=':
		var mask uint32
		switch user {
		case 'u':
			mask = 0o700 | 0o4000
		case 'g':
			mask = 0o070 | 0o2000
		case 'o':
			mask = 0o007 | 0o1000
		}
		return (cur & (mask ^ permBits)) | apply
	case '+':
		return cur | apply
	default:
		return cur - (cur & apply)
	}
}

func symbolicPerms(user byte, perms string, useUmask bool, umask, prev uint32, isDir bool) uint32 {
	revUmask := umask ^ permBits
	applyX := isDir || prev&0o111 != 0
	bit := func(b uint32) uint32 {
		if useUmask {
			return revUmask & b
		}
		return b
	}
	// shift positions the u/g/o triplets: user u is bits 6-8, g 3-5, o 0-2.
	shift := map[byte]uint{'u': 6, 'g': 3, 'o': 0}[user]
	triplet := func(from byte) uint32 {
		src := map[byte]uint{'u': 6, 'g': 3, 'o': 0}[from]
		t := (prev >> src) & 0o7
		return t << shift
	}
	var out uint32
	for i := 0; i < len(perms); i++ {
		switch perms[i] {
		case 'r':
			out |= bit(0o4 << shift)
		case 'w':
			out |= bit(0o2 << shift)
		case 'x':
			out |= bit(0o1 << shift)
		case 'X':
			if applyX {
				out |= 0o1 << shift
			}
		case 's':
			switch user {
			case 'u':
				out |= 0o4000
			case 'g':
				out |= 0o2000
			}
		case 't':
			if user == 'o' {
				out |= 0o1000
			}
		case 'u', 'g', 'o':
			out |= triplet(perms[i])
		}
	}
	return out
}

// AttrPlan is what applying owner/group/mode to one existing path would
// change. The zero value changes nothing.
type AttrPlan struct {
	// Owner and Group are the requested values when they differ from the
	// current ones, empty otherwise.
	Owner, Group string
	// Mode holds the new permission bits when ChangeMode is set.
	Mode       uint32
	ChangeMode bool
	// Before and After hold the differing attributes in Ansible's diff
	// shape ("mode": "0644", "owner": "root").
	Before, After map[string]any
}

// Changed reports whether anything would change.
func (p AttrPlan) Changed() bool { return p.Owner != "" || p.Group != "" || p.ChangeMode }

// planAttrs compares the requested owner, group and mode with a path's
// current state and returns what must change. owner and group may be
// names or numeric ids.
func planAttrs(st *RemoteStat, owner, group string, mode Mode) (AttrPlan, error) {
	p := AttrPlan{Before: map[string]any{}, After: map[string]any{}}
	if owner != "" && !sameID(owner, st.Owner, st.UID) {
		p.Owner = owner
		p.Before["owner"] = st.Owner
		p.After["owner"] = owner
	}
	if group != "" && !sameID(group, st.Group, st.GID) {
		p.Group = group
		p.Before["group"] = st.Group
		p.After["group"] = group
	}
	if mode.IsSet() && st.Type != "link" {
		newMode, err := mode.Apply(st.Mode, st.Type == "directory", st.Umask)
		if err != nil {
			return p, err
		}
		if newMode != st.Mode {
			p.ChangeMode = true
			p.Mode = newMode
			p.Before["mode"] = formatMode(st.Mode)
			p.After["mode"] = formatMode(newMode)
		}
	}
	return p, nil
}

func sameID(want, name string, id int) bool {
	if n, err := strconv.Atoi(want); err == nil {
		return n == id
	}
	return want == name
}

// Command returns the shell command that applies p to path, or "" when
// nothing changes. With noFollow set, ownership of a symbolic link itself
// is changed (chown -h) and its mode is left alone, as Linux has no lchmod.
func (p AttrPlan) Command(path string, noFollow bool) string {
	return attrCommand(path, p.Owner, p.Group, p.Mode, p.ChangeMode, noFollow, false)
}

// attrCommand builds the shell command that sets owner, group and mode on
// path (each only when given: empty owner/group, setMode false), optionally
// recursively (chown -R, chmod -R). It returns "" when nothing is asked.
// Every value is shell-quoted; "--" protects paths starting with "-".
func attrCommand(path, owner, group string, mode uint32, setMode, noFollow, recurse bool) string {
	var cmds []string
	flags := ""
	if recurse {
		flags += " -R"
	}
	if owner != "" || group != "" {
		og := owner
		if group != "" {
			og += ":" + group
		}
		h := ""
		if noFollow {
			h = " -h"
		}
		cmds = append(cmds, "chown"+h+flags+" -- "+shell.Quote(og)+" "+shell.Quote(path))
	}
	if setMode {
		cmds = append(cmds, "chmod"+flags+" -- "+fmt.Sprintf("%04o", mode&permBits)+" "+shell.Quote(path))
	}
	return strings.Join(cmds, " && ")
}

// attrDiff renders Ansible's dictionary diff (path plus changed
// attributes) the way ansible-playbook prints it: JSON with sorted keys
// and four-space indentation.
func attrDiff(path string, before, after map[string]any) module.Diff {
	return module.Diff{Before: dictDiffText(path, before), After: dictDiffText(path, after)}
}

func dictDiffText(path string, m map[string]any) string {
	d := map[string]any{"path": path}
	for k, v := range m {
		d[k] = v
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(d); err != nil {
		return fmt.Sprint(d) + "\n"
	}
	return b.String()
}
