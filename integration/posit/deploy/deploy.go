package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tend-dev/tend/integration/posit/standin"
)

// ModuleRoot finds the tend checkout (the directory with tend's go.mod)
// from the working directory upwards.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/tend-dev/tend\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("tend module root (go.mod) not found above the working directory")
		}
		dir = parent
	}
}

// Artifacts are the built programs and packages.
type Artifacts struct {
	Root     string // tend checkout
	Dir      string // where everything was built; served over HTTP
	Tend     string // tend binary
	Packages map[string]standin.Artifact
	Versions standin.Versions
}

// Build compiles tend and the stand-in and packages the three .debs into
// dir.
func Build(ctx context.Context, root, dir string, v standin.Versions) (*Artifacts, error) {
	a := &Artifacts{Root: root, Dir: dir, Tend: filepath.Join(dir, "tend"), Versions: v}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", a.Tend, "./cmd/tend")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build tend: %w\n%s", err, out)
	}
	bin, err := standin.BuildBinary(ctx, root, dir)
	if err != nil {
		return nil, err
	}
	a.Packages, err = standin.BuildPackages(bin, dir, v)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Server serves the artifact directory over HTTP.
type Server struct {
	URL string // base URL, no trailing slash
	srv *http.Server
}

// Serve listens on addr (an address of the bed's bridge, any port) and
// serves only the .deb files of dir.
func Serve(addr, dir string) (*Server, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return nil, fmt.Errorf("serve packages on %s: %w", addr, err)
	}
	fsrv := http.FileServer(http.Dir(dir))
	s := &Server{URL: "http://" + ln.Addr().String(), srv: &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, ".deb") || strings.Count(r.URL.Path, "/") != 1 {
				http.NotFound(w, r)
				return
			}
			fsrv.ServeHTTP(w, r)
		}),
	}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Passwords are the test database passwords, with characters that need
// quoting in URLs, gcfg and key=value files.
func Passwords() map[string]string {
	return map[string]string{
		"workbench":       "wb-p@ss/w;rd#1",
		"connect":         "cn p@ss%20&2",
		"package_manager": "pm:p@ss?3",
	}
}

// LicenseKey is the test license key given to every product.
const LicenseKey = "TEND-TEST-LICENSE-0042"

// ExtraVars returns the variables that point the roles at the served
// packages, set test passwords and adapt to the testbed.
func (a *Artifacts) ExtraVars(baseURL string) map[string]any {
	vars := map[string]any{
		"common_ntp_enabled":   false,
		"shared_storage_type":  "sshfs",
		"postgresql_passwords": Passwords(),
	}
	for product, prefix := range map[string]string{standin.Workbench: "workbench", standin.Connect: "connect", standin.PackageManager: "package_manager"} {
		p := a.Packages[product]
		vars[prefix+"_package_url"] = baseURL + "/" + p.Name
		vars[prefix+"_package_checksum"] = "sha256:" + p.SHA256
		vars[prefix+"_version"] = p.Version
		vars[prefix+"_license_key"] = LicenseKey
	}
	return vars
}

// WriteVars writes vars as a JSON file (YAML accepts it) for -e @FILE.
func WriteVars(path string, vars map[string]any) error {
	data, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// Result is one `tend play` run.
type Result struct {
	Args     []string
	ExitCode int
	Stdout   string // the JSON document with --output json
	Stderr   string
	Duration time.Duration
	Report   *Report // nil when the output was not JSON
}

// Report is the part of tend's JSON document the tests read.
type Report struct {
	Plays []struct {
		Play struct {
			Name string `json:"name"`
		} `json:"play"`
		Tasks []struct {
			Task struct {
				Name    string `json:"name"`
				Role    string `json:"role"`
				Module  string `json:"module"`
				Handler bool   `json:"handler"`
			} `json:"task"`
			Hosts map[string]struct {
				Status  string            `json:"status"`
				Changed bool              `json:"changed"`
				Failed  bool              `json:"failed"`
				Msg     string            `json:"msg"`
				Result  map[string]any    `json:"result"`
				Diff    []json.RawMessage `json:"diff"`
				Items   []struct {
					Item    any            `json:"item"`
					Status  string         `json:"status"`
					Changed bool           `json:"changed"`
					Failed  bool           `json:"failed"`
					Msg     string         `json:"msg"`
					Result  map[string]any `json:"result"`
				} `json:"items"`
			} `json:"hosts"`
		} `json:"tasks"`
	} `json:"plays"`
	Stats map[string]struct {
		OK          int `json:"ok"`
		Changed     int `json:"changed"`
		Unreachable int `json:"unreachable"`
		Failed      int `json:"failed"`
		Skipped     int `json:"skipped"`
	} `json:"stats"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// TaskOutcome is a task's status on one host.
type TaskOutcome struct {
	Host, Role, Task, Status, Msg string
	Changed, Failed, Handler      bool
	Diffs                         int
}

// Outcomes flattens the report, in run order.
func (r *Report) Outcomes() []TaskOutcome {
	var out []TaskOutcome
	for _, p := range r.Plays {
		for _, t := range p.Tasks {
			for _, h := range slices.Sorted(maps.Keys(t.Hosts)) {
				o := t.Hosts[h]
				msg := o.Msg
				for _, it := range o.Items {
					if it.Failed {
						msg += fmt.Sprintf(" [item %v: %s]", it.Item, firstNonEmpty(it.Msg, it.Result))
					}
				}
				if o.Failed && msg == "" {
					msg = firstNonEmpty("", o.Result)
				}
				out = append(out, TaskOutcome{Host: h, Role: t.Task.Role, Task: t.Task.Name, Status: o.Status, Msg: msg,
					Changed: o.Changed, Failed: o.Failed, Handler: t.Task.Handler, Diffs: len(o.Diff)})
			}
		}
	}
	return out
}

// Changed lists "host: role: task" of every changed task.
func (r *Report) Changed() []string {
	var out []string
	for _, o := range r.Outcomes() {
		if o.Changed {
			out = append(out, fmt.Sprintf("%s: %s: %s", o.Host, o.Role, o.Task))
		}
	}
	return out
}

// Failures lists "host: role: task: msg" of every failed task.
//
// A failure the play ignored (ignore_errors, status "ignored") is not one:
// the roles ignore, in check mode only, what cannot be predicted before a
// package is installed.
func (r *Report) Failures() []string {
	var out []string
	for _, o := range r.Outcomes() {
		if o.Failed && o.Status != "ignored" {
			out = append(out, fmt.Sprintf("%s: %s: %s: %s", o.Host, o.Role, o.Task, o.Msg))
		}
	}
	return out
}

// TotalChanged sums the recap's changed counters.
func (r *Report) TotalChanged() int {
	n := 0
	for _, s := range r.Stats {
		n += s.Changed
	}
	return n
}

// Play runs `tend play --output json ARGS...` in the checkout (so
// playbooks/ and roles/ resolve) and parses the report.
func (a *Artifacts) Play(ctx context.Context, args ...string) (*Result, error) {
	return a.Run(ctx, "play", args...)
}

// Run runs a tend command that reports a run (play, apply) with JSON
// output, as Play does.
func (a *Artifacts) Run(ctx context.Context, command string, args ...string) (*Result, error) {
	full := append([]string{command, "--output", "json", "--color", "never"}, args...)
	cmd := exec.CommandContext(ctx, a.Tend, full...)
	cmd.Dir = a.Root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := &Result{Args: full, Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	case err != nil:
		return res, fmt.Errorf("run tend: %w", err)
	}
	var rep Report
	if jerr := json.Unmarshal(stdout.Bytes(), &rep); jerr == nil {
		res.Report = &rep
	}
	return res, nil
}

// Summary is a short description of a run for logs and failures.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tend %s: exit %d in %s\n", strings.Join(r.Args, " "), r.ExitCode, r.Duration.Round(100*time.Millisecond))
	if r.Report == nil {
		fmt.Fprintf(&b, "stdout (not JSON):\n%s\n", tail(r.Stdout, 4000))
	} else {
		for _, f := range r.Report.Failures() {
			fmt.Fprintf(&b, "FAILED %s\n", f)
		}
		hosts := make([]string, 0, len(r.Report.Stats))
		for h := range r.Report.Stats {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		for _, h := range hosts {
			s := r.Report.Stats[h]
			fmt.Fprintf(&b, "%-12s ok=%d changed=%d unreachable=%d failed=%d skipped=%d\n", h, s.OK, s.Changed, s.Unreachable, s.Failed, s.Skipped)
		}
	}
	if strings.TrimSpace(r.Stderr) != "" {
		fmt.Fprintf(&b, "stderr:\n%s\n", tail(r.Stderr, 4000))
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// firstNonEmpty returns msg, or the result's msg, stderr or stdout.
func firstNonEmpty(msg string, result map[string]any) string {
	if msg != "" {
		return msg
	}
	for _, k := range []string{"msg", "stderr", "stdout"} {
		if s, ok := result[k].(string); ok && strings.TrimSpace(s) != "" {
			return tail(strings.TrimSpace(s), 1500)
		}
	}
	if len(result) > 0 {
		b, _ := json.Marshal(result)
		return tail(string(b), 1500)
	}
	return ""
}
