// Command modtable writes docs/modules.md: every module tend ships, the
// arguments its Spec accepts, the arguments Ansible 2.14 documents for the
// same module that tend does not accept yet, and check/diff support on
// both sides.
//
// Ansible's side comes from a cached extract of `ansible-doc -j`
// (testdata/ansible-2.14.json) so the table regenerates without Ansible
// installed; -refresh rebuilds the extract with the local ansible-doc.
// Run from the repository root:
//
//	go run ./cmd/modtable            # rewrite docs/modules.md
//	go run ./cmd/modtable -refresh   # query ansible-doc first
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/modules"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "modtable:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("modtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "docs/modules.md", "markdown file to write (- for standard output)")
	cache := fs.String("ansible-json", "cmd/modtable/testdata/ansible-2.14.json", "extract of ansible-doc -j")
	refresh := fs.Bool("refresh", false, "rebuild the extract with the local ansible-doc before writing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	reg := modules.Registry()
	if *refresh {
		docs, err := queryAnsibleDoc(ctx, reg.Names())
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(docs, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*cache, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *cache, err)
		}
	}
	docs, err := loadExtract(*cache)
	if err != nil {
		return err
	}
	md := generate(reg, docs)
	if *out == "-" {
		_, err := io.WriteString(os.Stdout, md)
		return err
	}
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	return nil
}

// Extract is what the table needs from ansible-doc -j, by tend module
// name.
type Extract struct {
	Ansible string                 `json:"ansible"` // ansible-doc --version, first line
	Modules map[string]*AnsibleMod `json:"modules"`
}

// AnsibleMod is one module as Ansible documents it.
type AnsibleMod struct {
	FQCN      string                `json:"fqcn"`
	Options   map[string]AnsibleOpt `json:"options"`
	CheckMode string                `json:"check_mode,omitempty"` // full, partial, none; empty when undocumented
	DiffMode  string                `json:"diff_mode,omitempty"`
}

// AnsibleOpt is one documented option.
type AnsibleOpt struct {
	Aliases []string `json:"aliases,omitempty"`
	Type    string   `json:"type,omitempty"`
}

// laterModules explains modules Ansible 2.14 does not have.
var laterModules = map[string]string{
	"deb822_repository": "ansible.builtin.deb822_repository first shipped in ansible-core 2.15",
	"helm":              kubernetesCore,
	"helm_repository":   kubernetesCore,
	"k8s":               kubernetesCore,
	"k8s_info":          kubernetesCore,
}

// kubernetesCore explains the Kubernetes modules' row: the collection is
// not installed with ansible-core, so the arguments were compared by hand.
const kubernetesCore = "kubernetes.core is not in this extract; names, aliases and defaults " +
	"follow the kubernetes.core 2.4 documentation (-refresh compares them where the collection is installed, as with Debian's ansible package)"

// collections are searched in this order for a module's documentation.
var collections = []string{"ansible.builtin", "ansible.posix", "community.general", "community.postgresql", "community.crypto", "kubernetes.core"}

// queryAnsibleDoc asks ansible-doc for every name in each collection (one
// call per collection: missing modules are only warnings) and keeps the
// first collection that documents each.
func queryAnsibleDoc(ctx context.Context, names []string) (*Extract, error) {
	ver, err := exec.CommandContext(ctx, "ansible-doc", "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("ansible-doc --version: %w", err)
	}
	ex := &Extract{Ansible: strings.TrimSpace(strings.SplitN(string(ver), "\n", 2)[0]), Modules: map[string]*AnsibleMod{}}
	for _, coll := range collections {
		var fqcns []string
		for _, n := range names {
			if ex.Modules[n] == nil {
				fqcns = append(fqcns, coll+"."+n)
			}
		}
		if len(fqcns) == 0 {
			break
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		cmd := exec.CommandContext(cctx, "ansible-doc", append([]string{"-j"}, fqcns...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("ansible-doc -j %s.*: %w: %s", coll, err, stderr.String())
		}
		var raw map[string]struct {
			Doc struct {
				Collection string                `json:"collection"`
				Module     string                `json:"module"`
				Filename   string                `json:"filename"`
				Options    map[string]AnsibleOpt `json:"options"`
				Attributes map[string]struct {
					Support string `json:"support"`
				} `json:"attributes"`
			} `json:"doc"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &raw); err != nil {
			return nil, fmt.Errorf("ansible-doc -j %s.*: decode: %w", coll, err)
		}
		for fqcn, d := range raw {
			name := strings.TrimPrefix(fqcn, coll+".")
			// Ansible 2.14 routes ansible.builtin.mount to
			// ansible.posix.mount and so on: keep the real name.
			m := &AnsibleMod{FQCN: fqcn, Options: d.Doc.Options}
			if d.Doc.Collection != "" && d.Doc.Module != "" {
				m.FQCN = d.Doc.Collection + "." + d.Doc.Module
			}
			if v := collectionVersion(d.Doc.Filename); v != "" {
				m.FQCN += " " + v
			}
			if m.Options == nil {
				m.Options = map[string]AnsibleOpt{}
			}
			m.CheckMode = d.Doc.Attributes["check_mode"].Support
			m.DiffMode = d.Doc.Attributes["diff_mode"].Support
			ex.Modules[name] = m
		}
	}
	return ex, nil
}

// collectionVersion reads the version of the collection holding a module
// file (ansible_collections/NS/NAME/MANIFEST.json); "" for ansible-core's
// own modules or when unknown.
func collectionVersion(moduleFile string) string {
	const marker = "/ansible_collections/"
	i := strings.Index(moduleFile, marker)
	if i < 0 {
		return ""
	}
	parts := strings.SplitN(moduleFile[i+len(marker):], "/", 3)
	if len(parts) < 3 {
		return ""
	}
	b, err := os.ReadFile(moduleFile[:i+len(marker)] + parts[0] + "/" + parts[1] + "/MANIFEST.json")
	if err != nil {
		return ""
	}
	var man struct {
		CollectionInfo struct {
			Version string `json:"version"`
		} `json:"collection_info"`
	}
	if json.Unmarshal(b, &man) != nil {
		return ""
	}
	return man.CollectionInfo.Version
}

func loadExtract(path string) (*Extract, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w (run with -refresh where ansible-doc is installed)", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var ex Extract
	if err := json.Unmarshal(b, &ex); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return &ex, nil
}

// ignoredArg reports whether tend's own documentation says it accepts an
// argument without acting on it ("Accepted for compatibility...", "Not
// supported; accepted when false", "...and ignored").
func ignoredArg(a module.Arg) bool {
	d := strings.ToLower(strings.TrimSpace(a.Doc))
	return strings.HasPrefix(d, "accepted for compatibility") || strings.HasPrefix(d, "not supported") ||
		strings.HasPrefix(d, "ignored") || strings.Contains(d, " ignored.") || strings.Contains(d, "; ignored")
}

// limitedArg reports whether an argument's doc names values or cases that
// are not supported yet (copy's remote_src for directories...).
func limitedArg(a module.Arg) bool {
	d := strings.ToLower(a.Doc)
	return !ignoredArg(a) && (strings.Contains(d, "not supported") || strings.Contains(d, "not implemented"))
}

// comparison is one module's row.
type comparison struct {
	name        string
	spec        *module.Spec
	ans         *AnsibleMod
	supported   []string // tend arguments that act (with aliases)
	ignored     []string // accepted for compatibility only
	missing     []string // Ansible options tend rejects
	tendOnly    []string // tend arguments Ansible does not document
	tendAliases map[string]bool
}

func compare(name string, spec *module.Spec, ans *AnsibleMod) comparison {
	c := comparison{name: name, spec: spec, ans: ans, tendAliases: map[string]bool{}}
	for _, a := range spec.Args {
		c.tendAliases[a.Name] = true
		for _, al := range a.Aliases {
			c.tendAliases[al] = true
		}
		if ignoredArg(a) {
			c.ignored = append(c.ignored, a.Name)
		} else {
			c.supported = append(c.supported, a.Name)
		}
	}
	if ans == nil {
		return c
	}
	known := map[string]bool{}
	for opt, o := range ans.Options {
		known[opt] = true
		for _, al := range o.Aliases {
			known[al] = true
		}
		if covered(spec, opt, o, c.tendAliases) {
			continue
		}
		c.missing = append(c.missing, opt)
	}
	for _, a := range spec.Args {
		if !known[a.Name] {
			c.tendOnly = append(c.tendOnly, a.Name)
		}
	}
	sort.Strings(c.missing)
	return c
}

// covered reports whether tend accepts Ansible's option opt: by name, by
// one of its aliases, or as the free-form / key=value pseudo-options.
func covered(spec *module.Spec, opt string, o AnsibleOpt, tend map[string]bool) bool {
	switch {
	case tend[opt]:
		return true
	case opt == "free_form" && spec.FreeForm != "":
		return true
	case opt == "key_value" && spec.AnyArgs:
		return true
	}
	return slices.ContainsFunc(o.Aliases, func(al string) bool { return tend[al] })
}

func tendCheck(s *module.Spec) string { return s.Check.String() }

func tendDiff(s *module.Spec) string {
	if s.Diff {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func codeList(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = "`" + s + "`"
	}
	return strings.Join(out, ", ")
}

// generate renders the markdown document.
func generate(reg *module.Registry, ex *Extract) string {
	var rows []comparison
	for _, name := range reg.Names() {
		m, _ := reg.Lookup(name)
		rows = append(rows, compare(name, m.Spec(), ex.Modules[name]))
	}
	var b strings.Builder
	b.WriteString(`# Module compatibility

Generated by ` + "`go run ./cmd/modtable`" + ` from each module's Spec (what ` + "`tend doc MODULE`" + `
prints) and from Ansible's own documentation (` + "`ansible-doc -j`" + `, ` + ex.Ansible + `; cached in
cmd/modtable/testdata, refresh with ` + "`-refresh`" + `). Do not edit by hand:
` + "`go test ./cmd/modtable`" + ` (part of ` + "`make unit`" + `) fails when this file is out of date.

Columns:
- **check / diff**: tend's support (check: full = exact prediction, partial = predicted for some
  arguments, skipped otherwise, none = skipped in check mode; diff: yes/no), then Ansible 2.14's
  documented support after the slash ("-" when Ansible's doc has no attributes section).
- **args**: arguments tend accepts and acts on; **ignored**: accepted for playbook compatibility
  but without effect, or only with Ansible's default value (their doc in tend says so; arguments
  whose doc names unsupported cases are listed under args as "limited"); **missing**: Ansible documents them, tend rejects them
  as unknown arguments today; "not compared" when no Ansible 2.14 documentation was found.
- **tend only**: arguments Ansible does not document for this module.

`)
	compared, missing, ignored := 0, 0, 0
	for _, r := range rows {
		if r.ans != nil {
			compared++
			missing += len(r.missing)
		}
		ignored += len(r.ignored)
	}
	fmt.Fprintf(&b, "%d modules; %d compared with Ansible's documentation; %d documented Ansible arguments not accepted by tend yet; %d accepted without effect.\n\n",
		len(rows), compared, missing, ignored)
	b.WriteString("| module | Ansible name | check | diff | args | ignored | missing in tend |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fqcn, missing := "not found", "not compared"
		ac, ad := "", ""
		if r.ans != nil {
			fqcn, missing = r.ans.FQCN, fmt.Sprint(len(r.missing))
			ac, ad = r.ans.CheckMode, r.ans.DiffMode
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s / %s | %s / %s | %d | %d | %s |\n",
			r.name, r.name, fqcn, tendCheck(r.spec), orDash(ac), tendDiff(r.spec), orDash(ad),
			len(r.supported), len(r.ignored), missing)
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "\n## %s\n\n%s", r.name, r.spec.Short)
		where := "host (POSIX sh)"
		if r.spec.Controller {
			where = "controller"
		}
		fmt.Fprintf(&b, ". Runs on the %s; check mode %s, diff %s.\n\n", where, tendCheck(r.spec), tendDiff(r.spec))
		if r.spec.AnyArgs {
			b.WriteString("- free-form variables: any `key: value` is accepted\n")
		}
		if r.spec.FreeForm != "" {
			fmt.Fprintf(&b, "- free form: the text after the module name goes to `%s`\n", r.spec.FreeForm)
		}
		fmt.Fprintf(&b, "- args: %s\n", argList(r.spec, r.supported))
		if len(r.ignored) > 0 {
			fmt.Fprintf(&b, "- accepted, no effect (or only the default): %s\n", codeList(r.ignored))
		}
		switch {
		case r.ans == nil && laterModules[r.name] != "":
			fmt.Fprintf(&b, "- Ansible: not compared (%s)\n", laterModules[r.name])
		case r.ans == nil:
			b.WriteString("- Ansible: not compared (no Ansible 2.14 documentation found for this name)\n")
		default:
			fmt.Fprintf(&b, "- missing (documented by %s): %s\n", r.ans.FQCN, codeList(r.missing))
			if len(r.tendOnly) > 0 {
				fmt.Fprintf(&b, "- tend only: %s\n", codeList(r.tendOnly))
			}
		}
	}
	return b.String()
}

// argList renders arguments with their aliases and required marks.
func argList(spec *module.Spec, names []string) string {
	if len(names) == 0 {
		return "-"
	}
	var out []string
	for _, n := range names {
		a, _ := spec.Arg(n)
		s := "`" + n + "`"
		if a.Required {
			s += " (required)"
		}
		if limitedArg(*a) {
			s += " (limited: " + strings.TrimSpace(strings.Join(strings.Fields(a.Doc), " ")) + ")"
		}
		if len(a.Aliases) > 0 {
			s += " (alias " + strings.Join(a.Aliases, ", ") + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}
