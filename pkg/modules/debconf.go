package modules

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Debconf sets answers in the debconf database.
type Debconf struct{}

var _ module.Module = (*Debconf)(nil)

// Spec implements module.Module.
func (*Debconf) Spec() *module.Spec {
	return &module.Spec{
		Name:  "debconf",
		Short: "Configure a .deb package (debconf answers)",
		Description: "Reads a package's answers with `debconf-show` and, when the question's answer differs (or " +
			"is missing), sets it with debconf-set-selections (the line goes through standard input, never " +
			"the command line), as Ansible 2.14 does: boolean answers compare case-insensitively; a " +
			"password question cannot be read back, so setting one always reports a change. Without a " +
			"question the task only returns the package's answers (current). Returns current and previous.",
		Args: []module.Arg{
			{Name: "name", Aliases: []string{"pkg"}, Required: true, Type: module.String, NotOption: true, Doc: "Package the question belongs to."},
			{Name: "question", Aliases: []string{"selection", "setting"}, Type: module.String, Doc: "The question, e.g. `tzdata/Areas`."},
			{Name: "vtype", Type: module.String, Choices: []string{"boolean", "error", "multiselect", "note", "password", "seen", "select", "string", "text", "title"}, Doc: "Type of the answer."},
			{Name: "value", Aliases: []string{"answer"}, Type: module.String, Doc: "The answer."},
			{Name: "unseen", Type: module.Bool, Default: false, Doc: "Do not mark the question as seen (debconf-set-selections -u)."},
		},
		RequiredTogether: [][]string{{"question", "vtype", "value"}},
		Check:            module.CheckFull,
		Diff:             true,
		Examples: `- name: Pre-answer the locale question
  debconf:
    name: locales
    question: locales/default_environment_locale
    value: fr_FR.UTF-8
    vtype: select
`,
	}
}

// parseDebconfShow is Ansible's get_selections: "* question: value" lines.
func parseDebconfShow(out string) map[string]any {
	sel := map[string]any{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		sel[strings.TrimSpace(strings.Trim(strings.TrimSpace(k), "*"))] = strings.TrimSpace(v)
	}
	return sel
}

// debconfDiffers is Ansible's comparison of an answer with the database.
func debconfDiffers(prev map[string]any, question, vtype, value string) bool {
	existing, ok := prev[question]
	if !ok {
		return true
	}
	cur := fmt.Sprint(existing)
	if vtype == "boolean" {
		value, cur = strings.ToLower(value), strings.ToLower(cur)
	}
	return value != cur
}

// Plan implements module.Module.
func (*Debconf) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	pkg := a.String("name")
	res, err := h.Run(ctx, "debconf-show "+shell.Quote(pkg))
	if err != nil {
		return nil, fmt.Errorf("read debconf answers of %s on %s: %w", pkg, h.Name, err)
	}
	if res.ExitCode != 0 {
		return module.Unchanged(module.Failed("%s", strings.TrimSpace(string(res.Stderr)))), nil
	}
	prev := parseDebconfShow(string(res.Stdout))
	question, vtype, value := a.String("question"), a.String("vtype"), a.String("value")
	if !a.Has("question") || !debconfDiffers(prev, question, vtype, value) {
		return module.Unchanged(module.Result{"msg": "", "current": prev}), nil
	}
	before := map[string]any{question: ""}
	if v, ok := prev[question]; ok {
		before[question] = v
	}
	result := module.Result{"msg": "", "current": map[string]any{question: value}, "previous": before}
	diff := module.Diff{Before: debconfText(before), After: debconfText(map[string]any{question: value})}
	if vtype == "boolean" {
		switch value {
		case "True":
			value = "true"
		case "False":
			value = "false"
		}
	}
	cmd := "debconf-set-selections"
	if a.Bool("unseen") {
		cmd += " -u"
	}
	line := strings.Join([]string{pkg, question, vtype, value}, " ") + "\n"
	return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
		Apply: func(ctx context.Context) (module.Result, error) {
			r, err := h.RunWith(ctx, connection.Command{Cmd: cmd, Stdin: strings.NewReader(line)})
			if err != nil {
				return nil, fmt.Errorf("debconf-set-selections on %s: %w", h.Name, err)
			}
			if r.ExitCode != 0 {
				return module.Failed("%s", strings.TrimSpace(string(r.Stderr))), nil
			}
			out := module.Result{}
			for k, v := range result {
				out[k] = v
			}
			out["msg"] = strings.TrimRight(string(r.Stdout), "\n")
			return out, nil
		}}, nil
}

// debconfText shows answers for a diff, one "question: value" a line.
func debconfText(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %v\n", k, m[k])
	}
	return b.String()
}
