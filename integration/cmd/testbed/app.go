package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/urfave/cli/v2"
)

// exitError carries the exit code of a command run for the user (ssh).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	var e exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	nameFlag := &cli.StringFlag{Name: "name", Aliases: []string{"n"}, Value: "tend", Usage: "bed name"}
	dirFlag := &cli.StringFlag{Name: "dir", Usage: "state directory (default " + testbed.DefaultStateRoot + "/NAME)"}
	dirOf := func(c *cli.Context) string {
		if d := c.String("dir"); d != "" {
			return d
		}
		return filepath.Join(testbed.DefaultStateRoot, c.String("name"))
	}
	load := func(c *cli.Context) (*testbed.Bed, error) {
		b, err := testbed.Load(dirOf(c))
		if err != nil {
			return nil, fmt.Errorf("bed %s is not up (testbed up -n %s HOST...): %w", c.String("name"), c.String("name"), err)
		}
		return b, nil
	}
	return &cli.App{
		Name:      "testbed",
		Usage:     "boot real Debian hosts on this machine for tend (needs root)",
		Reader:    stdin,
		Writer:    stdout,
		ErrWriter: stderr,
		Commands: []*cli.Command{
			{
				Name:      "up",
				Usage:     "boot hosts: HOST[:ROLE]..., web[1:3] expands to web1 web2 web3",
				ArgsUsage: "HOST[:ROLE]...",
				Flags: []cli.Flag{nameFlag, dirFlag,
					&cli.BoolFlag{Name: "python", Usage: "hosts get python3 (for reference Ansible runs)"},
					&cli.StringFlag{Name: "subnet", Usage: "IPv4 /24 for the bed (default: a free 10.231.X.0/24)"},
					&cli.StringFlag{Name: "image-cache", Value: testbed.DefaultImageCache, Usage: "where base images are cached"},
				},
				Action: func(c *cli.Context) error {
					specs, err := parseHosts(c.Args().Slice(), c.Bool("python"))
					if err != nil {
						return err
					}
					start := time.Now()
					b, err := testbed.Up(c.Context, testbed.Options{
						Name: c.String("name"), Dir: c.String("dir"), Subnet: c.String("subnet"),
						ImageCache: c.String("image-cache"), Log: stderr,
					}, specs...)
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "bed %s: %d hosts up in %s on %s\n\n", b.Name, len(b.Hosts), time.Since(start).Round(100*time.Millisecond), b.Subnet)
					printHosts(stdout, b)
					fmt.Fprintf(stdout, "\nlog in:     testbed ssh -n %s %s\n", b.Name, b.Hosts[0].Name)
					args, _ := b.SSHArgs(b.Hosts[0].Name)
					fmt.Fprintf(stdout, "or:         ssh %s\n", strings.Join(args, " "))
					fmt.Fprintf(stdout, "inventory:  %s (also %s)\n", b.InventoryINI, b.InventoryYAML)
					fmt.Fprintf(stdout, "tear down:  testbed down -n %s\n", b.Name)
					return nil
				},
			},
			{
				Name:  "down",
				Usage: "stop the bed's hosts and remove everything it created",
				Flags: []cli.Flag{nameFlag, dirFlag},
				Action: func(c *cli.Context) error {
					if b, err := testbed.Load(dirOf(c)); err == nil {
						if err := b.Down(c.Context); err != nil {
							return err
						}
					} else if err := testbed.Cleanup(c.Context, c.String("name"), dirOf(c)); err != nil {
						return err // no state: still sweep leftovers of the name
					}
					fmt.Fprintf(stdout, "bed %s: down\n", c.String("name"))
					return nil
				},
			},
			{
				Name:  "status",
				Usage: "list the beds under " + testbed.DefaultStateRoot + " and their hosts",
				Action: func(c *cli.Context) error {
					dirs, _ := filepath.Glob(filepath.Join(testbed.DefaultStateRoot, "*", "bed.json"))
					if len(dirs) == 0 {
						fmt.Fprintln(stdout, "no beds")
						return nil
					}
					for i, f := range dirs {
						b, err := testbed.Load(filepath.Dir(f))
						if err != nil {
							return err
						}
						if i > 0 {
							fmt.Fprintln(stdout)
						}
						fmt.Fprintf(stdout, "bed %s (%s, %s)\n", b.Name, b.Subnet, b.Dir)
						printHosts(stdout, b)
					}
					return nil
				},
			},
			{
				Name:      "ssh",
				Usage:     "log in to a host as root, or run a command there",
				ArgsUsage: "HOST [COMMAND...]",
				Flags:     []cli.Flag{nameFlag, dirFlag},
				Action: func(c *cli.Context) error {
					if c.NArg() < 1 {
						return errors.New("ssh: which host?")
					}
					b, err := load(c)
					if err != nil {
						return err
					}
					args, err := b.SSHArgs(c.Args().First())
					if err != nil {
						return err
					}
					if c.NArg() > 1 {
						args = append(args, "--", strings.Join(c.Args().Tail(), " "))
					}
					cmd := exec.CommandContext(c.Context, "ssh", args...)
					cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
					if err := cmd.Run(); err != nil {
						var ee *exec.ExitError
						if errors.As(err, &ee) {
							return exitError{ee.ExitCode()}
						}
						return err
					}
					return nil
				},
			},
			{
				Name:  "inventory",
				Usage: "print the paths of the bed's inventories, key and known_hosts",
				Flags: []cli.Flag{nameFlag, dirFlag},
				Action: func(c *cli.Context) error {
					b, err := load(c)
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "ini          %s\nyaml         %s\nkey          %s\nknown_hosts  %s\n",
						b.InventoryINI, b.InventoryYAML, b.KeyFile, b.KnownHostsFile)
					return nil
				},
			},
		},
	}
}

func printHosts(w io.Writer, b *testbed.Bed) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tROLE\tADDRESS\tSTATE")
	for _, h := range b.Hosts {
		state := "off"
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)), 300*time.Millisecond); err == nil {
			c.Close()
			state = "up"
		} else if h.PID > 0 && pidAlive(h.PID) {
			state = "unreachable"
		}
		role := h.Role
		if role == "" {
			role = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Name, role, h.Addr, state)
	}
	tw.Flush()
}

func pidAlive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

var hostRange = regexp.MustCompile(`^([a-z0-9-]*)\[(\d+):(\d+)\]([a-z0-9-]*)$`)

// parseHosts turns HOST[:ROLE] arguments into host specs; NAME[A:B]
// expands to NAME{A..B}.
func parseHosts(args []string, python bool) ([]testbed.HostSpec, error) {
	if len(args) == 0 {
		return nil, errors.New("up: name at least one host, e.g. testbed up web1:web db1:db")
	}
	var specs []testbed.HostSpec
	for _, a := range args {
		// The role follows the last colon outside a [A:B] range.
		name, role := a, ""
		if i := strings.LastIndexByte(a, ':'); i > strings.LastIndexByte(a, ']') {
			name, role = a[:i], a[i+1:]
		}
		if m := hostRange.FindStringSubmatch(name); m != nil {
			from, _ := strconv.Atoi(m[2])
			to, _ := strconv.Atoi(m[3])
			if to < from || to-from >= 240 {
				return nil, fmt.Errorf("up: bad host range %q", name)
			}
			for i := from; i <= to; i++ {
				specs = append(specs, testbed.HostSpec{Name: m[1] + strconv.Itoa(i) + m[4], Role: role, Python: python})
			}
			continue
		}
		specs = append(specs, testbed.HostSpec{Name: name, Role: role, Python: python})
	}
	return specs, nil
}
