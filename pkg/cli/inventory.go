package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	ucli "github.com/urfave/cli/v2"

	"github.com/tend-dev/tend/pkg/inventory"
)

func inventoryCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "inventory",
		Usage: "show an inventory as tend reads it (like ansible-inventory)",
		Flags: append([]ucli.Flag{
			inventoryFlag(),
			&ucli.BoolFlag{Name: "list", Usage: "print all hosts, groups and variables as JSON"},
			&ucli.BoolFlag{Name: "graph", Usage: "print the group tree"},
			&ucli.StringFlag{Name: "host", Usage: "print one host's variables as JSON"},
			&ucli.StringFlag{Name: "playbook-dir", Usage: "also load group_vars/ and host_vars/ from this directory"},
		}, vaultFlags()...),
		Action: func(c *ucli.Context) error {
			kr, err := loadKeyring(c.Context, vaultSources(c), c.App.Reader, c.App.ErrWriter)
			if err != nil {
				return exitWith(ExitError, err)
			}
			inv, err := loadInventory(c.StringSlice("inventory"), c.App.ErrWriter, kr)
			if err != nil {
				return exitWith(ExitError, err)
			}
			if d := c.String("playbook-dir"); d != "" {
				if err := inv.AddVarsDir(d); err != nil {
					return exitWith(ExitError, err)
				}
			}
			w := c.App.Writer
			switch {
			case c.String("host") != "":
				name := c.String("host")
				if _, ok := inv.Host(name); !ok {
					return exitWith(ExitError, fmt.Errorf("inventory: no host %q", name))
				}
				return writeJSON(w, inv.HostVars(name))
			case c.Bool("graph"):
				printGraph(w, inv, "all", 0, map[string]bool{})
				return nil
			case c.Bool("list"):
				return writeJSON(w, inventoryList(inv))
			}
			return exitWith(ExitError, errors.New("inventory: give one of --list, --graph or --host HOST"))
		},
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	return enc.Encode(v)
}

// inventoryList mirrors ansible-inventory --list.
func inventoryList(inv *inventory.Inventory) map[string]any {
	out := map[string]any{}
	hostvars := map[string]any{}
	for _, h := range inv.Hosts() {
		hostvars[h.Name] = inv.HostVars(h.Name)
	}
	out["_meta"] = map[string]any{"hostvars": hostvars}
	for _, name := range inv.GroupNames() {
		g, _ := inv.Group(name)
		entry := map[string]any{}
		if len(g.Children) > 0 {
			ch := append([]string(nil), g.Children...)
			sort.Strings(ch)
			entry["children"] = ch
		}
		if len(g.Hosts) > 0 {
			entry["hosts"] = g.Hosts
		}
		if len(entry) > 0 || name == "all" {
			out[name] = entry
		}
	}
	return out
}

func printGraph(w io.Writer, inv *inventory.Inventory, name string, depth int, seen map[string]bool) {
	g, ok := inv.Group(name)
	if !ok {
		return
	}
	prefix := ""
	for i := 0; i < depth; i++ {
		prefix += "  |"
	}
	if depth == 0 {
		fmt.Fprintf(w, "@%s:\n", name)
	} else {
		fmt.Fprintf(w, "%s--@%s:\n", prefix, name)
	}
	children := append([]string(nil), g.Children...)
	sort.Strings(children)
	for _, c := range children {
		printGraph(w, inv, c, depth+1, seen)
	}
	hosts := append([]string(nil), g.Hosts...)
	sort.Strings(hosts)
	for _, h := range hosts {
		fmt.Fprintf(w, "%s  |--%s\n", prefix, h)
	}
}
