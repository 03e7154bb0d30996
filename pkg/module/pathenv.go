package module

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
)

// Ansible's modules expand the arguments of type 'path' on the host with
// os.path.expanduser(os.path.expandvars(value)), in the module process's
// environment: "$HOME/.ssh" is the home of the user the module runs as,
// "${XDG_CONFIG_HOME}/app" whatever the task's environment: keyword or the
// login environment says. Arguments marked Arg.Expand get the same
// treatment here, before Plan; a leading "~" is left to the module, which
// expands it on the host as before.

// ExpandVars replaces $NAME and ${NAME} in s with their values in env,
// exactly as Python's os.path.expandvars does on POSIX: NAME is a run of
// ASCII letters, digits and underscores after "$", or anything but "}"
// between "${" and "}"; a variable env does not hold is left as written,
// and a substituted value is not scanned again. Nothing else is
// interpreted: no $(...), no default values, no quoting.
func ExpandVars(s string, env map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	i := 0
	for {
		d := strings.IndexByte(s[i:], '$')
		if d < 0 {
			break
		}
		start := i + d
		name, end := varName(s, start)
		if end < 0 {
			// No name after this "$": it stays, the scan goes on after it.
			b.WriteString(s[i : start+1])
			i = start + 1
			continue
		}
		b.WriteString(s[i:start])
		if v, ok := env[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[start:end])
		}
		i = end
	}
	b.WriteString(s[i:])
	return b.String()
}

// varName reads the variable reference at s[start] (a "$") as Python's
// pattern \$(\w+|\{[^}]*\}) with re.ASCII does: it returns the name and
// the index after the reference, or end -1 when none starts there.
func varName(s string, start int) (name string, end int) {
	j := start + 1
	if j < len(s) && s[j] == '{' {
		k := strings.IndexByte(s[j+1:], '}')
		if k < 0 {
			// "${" without "}": Python's \w+ alternative cannot match
			// "{" either.
			return "", -1
		}
		return s[j+1 : j+1+k], j + 1 + k + 1
	}
	k := j
	for k < len(s) && isWordByte(s[k]) {
		k++
	}
	if k == j {
		return "", -1
	}
	return s[j:k], k
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// ExpandPaths returns args with ExpandVars applied to every argument the
// spec marks Expand (strings, and the strings of a list), using the
// environment env returns. env is called at most once, and only when such
// an argument holds a "$"; args is returned unchanged when nothing needs
// expanding, else a copy.
func (s *Spec) ExpandPaths(args Args, env func() (map[string]string, error)) (Args, error) {
	var vars map[string]string
	out := args
	for i := range s.Args {
		a := &s.Args[i]
		v, given := args[a.Name]
		if !a.Expand || !given || !hasDollar(v) {
			continue
		}
		if a.ExpandIf != "" {
			if on, _ := ToBool(args[a.ExpandIf]); !on {
				continue
			}
		}
		if vars == nil {
			e, err := env()
			if err != nil {
				return args, err
			}
			vars = e
			if vars == nil {
				vars = map[string]string{}
			}
			out = make(Args, len(args))
			for k, v := range args {
				out[k] = v
			}
		}
		switch x := v.(type) {
		case string:
			out[a.Name] = ExpandVars(x, vars)
		case []any:
			l := make([]any, len(x))
			for j, e := range x {
				if es, ok := e.(string); ok {
					e = ExpandVars(es, vars)
				}
				l[j] = e
			}
			out[a.Name] = l
		}
	}
	return out, nil
}

// hasDollar reports whether v, a string or a list, holds a "$".
func hasDollar(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "$")
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && strings.Contains(s, "$") {
				return true
			}
		}
	}
	return false
}

// EnvCommand prints the environment a module's commands run in, each
// variable NUL-terminated (values may hold newlines). It takes no input
// from arguments.
const EnvCommand = "env -0"

// HostEnv reads the environment h's commands run in (the login user's, or
// the become user's, with the task's environment: on top), read-only.
func HostEnv(ctx context.Context, h *Host) (map[string]string, error) {
	res, err := h.Run(connection.ReadOnly(ctx), EnvCommand)
	if err != nil {
		return nil, fmt.Errorf("read the environment of %s to expand path arguments: %w", h.Name, err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("read the environment of %s to expand path arguments: %s: exit %d: %s",
			h.Name, EnvCommand, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return ParseEnv(res.Stdout), nil
}

// ParseEnv decodes EnvCommand's output: NUL-terminated NAME=VALUE entries.
func ParseEnv(out []byte) map[string]string {
	env := map[string]string{}
	for _, e := range bytes.Split(out, []byte{0}) {
		k, v, ok := bytes.Cut(e, []byte("="))
		if !ok || len(k) == 0 {
			continue
		}
		env[string(k)] = string(v)
	}
	return env
}

// ExpandUser replaces a leading "~" or "~/" of s with env's HOME, as
// Python's os.path.expanduser does when HOME is set ("~user" is left as
// written: looking users up is not done here).
func ExpandUser(s string, env map[string]string) string {
	if s != "~" && !strings.HasPrefix(s, "~/") {
		return s
	}
	home, ok := env["HOME"]
	if !ok {
		return s
	}
	home = strings.TrimRight(home, "/")
	if out := home + s[1:]; out != "" {
		return out
	}
	return "/"
}
