package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Getent reads a name service database with getent.
type Getent struct{}

var _ module.Module = (*Getent)(nil)

// Spec implements module.Module.
func (*Getent) Spec() *module.Spec {
	return &module.Spec{
		Name:  "getent",
		Short: "Read passwd, group, hosts and other name service databases",
		Description: "Runs getent on the host and sets the fact getent_<database>: each entry's first field " +
			"mapped to the list of its other fields (a list of such lists when the first field repeats). " +
			"Never changes anything.",
		Args: []module.Arg{
			{Name: "database", Type: module.String, Required: true, NotOption: true, Doc: "The database: passwd, group, shadow, hosts, services..."},
			{Name: "key", Type: module.String, NotOption: true, Doc: "The entry to look up; all entries when unset."},
			{Name: "service", Type: module.String, NotOption: true, Doc: "The NSS service to use (getent -s)."},
			{Name: "split", Type: module.String, Doc: "The field separator; : for passwd, shadow, group and gshadow, whitespace for the rest."},
			{Name: "fail_key", Type: module.Bool, Default: true, Doc: "Fail when key is not found; when false the fact maps key to null."},
		},
		Examples: `- getent:
    database: passwd
    key: root
- debug:
    msg: "{{ getent_passwd.root[4] }}"`,
	}
}

// colonDatabases are the databases getent prints with : between fields.
var colonDatabases = map[string]bool{"passwd": true, "shadow": true, "group": true, "gshadow": true}

// Plan implements module.Module. Reading the database changes nothing, so
// it runs in check mode too.
func (*Getent) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	db := a.String("database")
	cmd := "getent"
	if a.Has("service") {
		cmd += " -s " + shell.Quote(a.String("service"))
	}
	cmd += " " + shell.Quote(db)
	if a.Has("key") {
		cmd += " " + shell.Quote(a.String("key"))
	}
	r, err := h.Run(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("run getent %s: %w", db, err)
	}
	split := a.String("split")
	if !a.Has("split") && colonDatabases[db] {
		split = ":"
	}
	tree := map[string]any{}
	facts := map[string]any{"getent_" + db: tree}
	switch r.ExitCode {
	case 0:
		parseGetent(string(r.Stdout), split, tree)
		return module.Unchanged(module.Result{"ansible_facts": facts}), nil
	case 1:
		return module.Unchanged(module.Failed("Missing arguments, or database unknown.")), nil
	case 2:
		msg := "One or more supplied key could not be found in the database."
		if a.Bool("fail_key") {
			return module.Unchanged(module.Failed("%s", msg)), nil
		}
		tree[a.String("key")] = nil
		return module.Unchanged(module.Result{"ansible_facts": facts, "msg": msg}), nil
	case 3:
		return module.Unchanged(module.Failed("Enumeration not supported on this database.")), nil
	}
	res := module.CommandResult(r)
	res["failed"] = true
	res["msg"] = "Unexpected failure!"
	return module.Unchanged(res), nil
}

// parseGetent fills tree as Ansible's getent module does: a repeated first
// field turns its value into a list of the entries' field lists.
func parseGetent(out, split string, tree map[string]any) {
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var rec []string
		if split == "" {
			rec = strings.Fields(line)
		} else {
			rec = strings.Split(line, split)
		}
		if len(rec) == 0 {
			continue
		}
		fields := make([]any, 0, len(rec)-1)
		for _, f := range rec[1:] {
			fields = append(fields, f)
		}
		k := rec[0]
		switch seen[k] {
		case 0:
			tree[k] = fields
		case 1:
			tree[k] = []any{tree[k], fields}
		default:
			tree[k] = append(tree[k].([]any), fields)
		}
		seen[k]++
	}
}
