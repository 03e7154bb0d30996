package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/modules"
)

func docCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "doc",
		Usage:     "show a module's documentation",
		ArgsUsage: "MODULE",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "list", Aliases: []string{"l"}, Usage: "list all modules"},
		},
		Action: func(c *ucli.Context) error {
			reg := modules.Registry()
			w := c.App.Writer
			if c.Bool("list") || c.NArg() == 0 {
				for _, n := range reg.Names() {
					m, _ := reg.Lookup(n)
					fmt.Fprintf(w, "%-22s %s\n", n, m.Spec().Short)
				}
				return nil
			}
			for _, name := range c.Args().Slice() {
				m, ok := reg.Lookup(name)
				if !ok {
					return exitWith(ExitError, fmt.Errorf("doc: no module %q (tend doc --list shows them all)", name))
				}
				printDoc(w, m.Spec())
			}
			return nil
		},
	}
}

// printDoc prints a module's spec the way ansible-doc lays it out.
func printDoc(w io.Writer, s *module.Spec) {
	fmt.Fprintf(w, "> %s: %s\n\n", strings.ToUpper(s.Name), s.Short)
	fmt.Fprintf(w, "%s\n\n", wrap(s.Description, 78, "  "))
	fmt.Fprintf(w, "  check mode: %s    diff mode: %s    runs on: %s\n\n", s.Check, yesNo(s.Diff), where(s))
	if s.AnyArgs {
		fmt.Fprintf(w, "ARGUMENTS: any name=value pairs\n\n")
	}
	if len(s.Args) > 0 {
		fmt.Fprintf(w, "ARGUMENTS (= is mandatory, - is optional):\n\n")
		args := append([]module.Arg(nil), s.Args...)
		sort.Slice(args, func(i, j int) bool { return args[i].Name < args[j].Name })
		for _, a := range args {
			if strings.HasPrefix(a.Name, "_") {
				continue
			}
			mark := "-"
			if a.Required {
				mark = "="
			}
			fmt.Fprintf(w, "%s %s\n", mark, a.Name)
			if a.Doc != "" {
				fmt.Fprintf(w, "%s\n", wrap(a.Doc, 76, "        "))
			}
			var meta []string
			if a.Type != "" {
				t := string(a.Type)
				if a.Elements != "" {
					t += " of " + string(a.Elements)
				}
				meta = append(meta, "type: "+t)
			}
			if a.Default != nil {
				meta = append(meta, fmt.Sprintf("default: %v", a.Default))
			}
			if len(a.Choices) > 0 {
				meta = append(meta, "choices: "+strings.Join(a.Choices, ", "))
			}
			if len(a.Aliases) > 0 {
				var al []string
				for _, x := range a.Aliases {
					if !strings.HasPrefix(x, "_") {
						al = append(al, x)
					}
				}
				if len(al) > 0 {
					meta = append(meta, "aliases: "+strings.Join(al, ", "))
				}
			}
			if a.NoLog {
				meta = append(meta, "secret: never printed")
			}
			if a.Expand {
				e := "$VAR and ${VAR} expanded with the host's environment"
				if a.ExpandIf != "" {
					e += " (with " + a.ExpandIf + ")"
				}
				meta = append(meta, e)
			}
			if len(meta) > 0 {
				fmt.Fprintf(w, "        %s\n", strings.Join(meta, "; "))
			}
			fmt.Fprintln(w)
		}
	}
	if s.FreeForm != "" {
		fmt.Fprintf(w, "FREE FORM: text after the module name goes to %s.\n\n", strings.TrimPrefix(s.FreeForm, "_"))
	}
	for _, g := range s.MutuallyExclusive {
		fmt.Fprintf(w, "MUTUALLY EXCLUSIVE: %s\n", strings.Join(g, ", "))
	}
	for _, g := range s.RequiredOneOf {
		fmt.Fprintf(w, "ONE OF THESE IS REQUIRED: %s\n", strings.Join(g, ", "))
	}
	for _, g := range s.RequiredTogether {
		fmt.Fprintf(w, "REQUIRED TOGETHER: %s\n", strings.Join(g, ", "))
	}
	if s.Examples != "" {
		fmt.Fprintf(w, "\nEXAMPLES:\n\n%s\n", s.Examples)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func where(s *module.Spec) string {
	if s.Controller {
		return "controller"
	}
	return "host (POSIX sh)"
}

func wrap(text string, width int, indent string) string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := indent
		for _, w := range strings.Fields(para) {
			if len(line)+len(w)+1 > width && strings.TrimSpace(line) != "" {
				lines = append(lines, line)
				line = indent
			}
			if strings.TrimSpace(line) != "" {
				line += " "
			}
			line += w
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
