// Package plan holds tend's saved plans: what `tend play --check
// --plan-out FILE` predicted for every host and task, bound to the files
// it was computed from, and the gate `tend apply FILE` runs every module
// through so that a host is changed only where its new plan equals the
// saved one.
//
// The file is versioned JSON (Format "tend-plan", Version 1), written 0600
// and atomically. It never holds a secret: the values of -e are kept as
// hashes, and a no_log task keeps only its fingerprint, not its diff.
// docs/plans.md describes the format field by field.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tend-dev/tend/pkg/atomicfile"
	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/report"
)

// Format and Version identify a plan file; Read refuses other versions.
const (
	Format  = "tend-plan"
	Version = 1
)

// File is a saved plan.
type File struct {
	Format      string    `json:"format"`
	Version     int       `json:"version"`
	Created     time.Time `json:"created"`
	TendVersion string    `json:"tend_version"`
	// Command is the command line that made the plan, -e values hidden.
	Command []string `json:"command"`
	// Options are what tend apply runs the playbooks with.
	Options Options `json:"options"`
	// ExtraVars are the -e arguments: @file arguments by name (the file
	// is an input), the others only by hash, to be given again to apply.
	ExtraVars []ExtraVar `json:"extra_vars,omitempty"`
	// Inputs are the controller files the plan was computed from.
	Inputs []Input `json:"inputs"`
	// Hosts holds each host's steps, in the order they ran.
	Hosts map[string][]Step `json:"hosts"`
	// Events are the check run's report events (censored as every
	// output is), replayed by tend show.
	Events []Event `json:"events"`
}

// Options are the settings of the planned run that tend apply reuses.
// Paths are absolute.
type Options struct {
	Playbooks      []string      `json:"playbooks"`
	Inventories    []string      `json:"inventories,omitempty"`
	Limit          string        `json:"limit,omitempty"`
	Tags           []string      `json:"tags,omitempty"`
	SkipTags       []string      `json:"skip_tags,omitempty"`
	StartAtTask    string        `json:"start_at_task,omitempty"`
	Forks          int           `json:"forks,omitempty"`
	User           string        `json:"user,omitempty"`
	Connection     string        `json:"connection,omitempty"`
	PrivateKey     string        `json:"private_key,omitempty"`
	Become         bool          `json:"become,omitempty"`
	BecomeUser     string        `json:"become_user,omitempty"`
	BecomeMethod   string        `json:"become_method,omitempty"`
	AskPass        bool          `json:"ask_pass,omitempty"`
	AskBecomePass  bool          `json:"ask_become_pass,omitempty"`
	RolesPath      []string      `json:"roles_path,omitempty"`
	HostKeyPolicy  string        `json:"host_key_checking,omitempty"`
	KnownHosts     string        `json:"known_hosts,omitempty"`
	SSHConfig      string        `json:"ssh_config,omitempty"`
	ConnectTimeout time.Duration `json:"connect_timeout,omitempty"`
	TaskTimeout    time.Duration `json:"task_timeout,omitempty"`
}

// ExtraVar is one -e argument.
type ExtraVar struct {
	// File is the path of an @file argument (absolute).
	File string `json:"file,omitempty"`
	// SHA256 is the hash of any other argument's text.
	SHA256 string `json:"sha256,omitempty"`
}

// Input is a controller file a plan depends on.
type Input struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Step is one module run on a host, as check mode planned it.
type Step struct {
	executor.StepKey
	// Changed says the module would change the host.
	Changed bool `json:"changed"`
	// Unpredictable marks a task whose outcome check mode cannot know
	// (command or shell without creates/removes, modules without check
	// mode): apply runs it only with --allow-unpredictable.
	Unpredictable bool `json:"unpredictable,omitempty"`
	// AfterUnpredictable marks a step planned after an unpredictable one
	// on the same host: its plan may depend on what that one does.
	AfterUnpredictable bool `json:"after_unpredictable,omitempty"`
	// Why says why an unpredictable step could not be predicted.
	Why string `json:"why,omitempty"`
	// Skipped: the task's when: was false.
	Skipped bool `json:"skipped,omitempty"`
	// RanInPlan: a task with check_mode: false, run for real when the
	// plan was made; apply runs it without comparing.
	RanInPlan bool `json:"ran_in_plan,omitempty"`
	// NoLog: the diff is not kept, only the fingerprint.
	NoLog bool `json:"no_log,omitempty"`
	// Fingerprint is the hash of the module's plan: whether it changes
	// the host, its diff and, when it changes something, the state it
	// describes. apply compares it with the new plan's.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Change is the hash of what the module would do, without what it
	// found (ChangeFingerprint): compared once an earlier step changed
	// the host.
	Change string `json:"change,omitempty"`
	// Delta is the hash of the lines the change adds and removes
	// (DeltaFingerprint), the other comparison made then.
	Delta string        `json:"delta,omitempty"`
	Diff  []module.Diff `json:"diff,omitempty"`
}

// Event is one report event of the planned run.
type Event struct {
	Kind   string                   `json:"kind"` // playbook, play, task, result, warning, no_hosts_left, recap
	Name   string                   `json:"name,omitempty"`
	Hosts  []string                 `json:"hosts,omitempty"`
	Check  bool                     `json:"check,omitempty"`
	Task   *report.Task             `json:"task,omitempty"`
	Result *report.HostResult       `json:"result,omitempty"`
	Host   string                   `json:"host,omitempty"`
	Msg    string                   `json:"msg,omitempty"`
	Stats  map[string]*report.Stats `json:"stats,omitempty"`
}

// Read loads a plan file and checks its format and version.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("plan %s: not a tend plan file: %w", path, err)
	}
	if f.Format != Format {
		return nil, fmt.Errorf("plan %s: not a tend plan file (format %q)", path, f.Format)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("plan %s: format version %d; this tend reads version %d: make the plan again with this tend", path, f.Version, Version)
	}
	for _, e := range f.Events {
		if e.Result != nil {
			e.Result.Result, _ = wholeNumbers(map[string]any(e.Result.Result)).(map[string]any)
			e.Result.Item = wholeNumbers(e.Result.Item)
		}
	}
	return &f, nil
}

// wholeNumbers turns the float64 values JSON decoding gives into ints
// where they are whole, as the module results held them (rc: 0, not 0.0).
func wholeNumbers(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = wholeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = wholeNumbers(e)
		}
	}
	return v
}

// Write saves f at path, mode 0600, replacing any file there whole.
func (f *File) Write(path string) error {
	f.Format, f.Version = Format, Version
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding plan: %w", err)
	}
	if err := atomicfile.Write(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	return nil
}

// Changed reports whether any host would change (an unpredictable task
// counts: it runs).
func (f *File) Changed() bool {
	for _, steps := range f.Hosts {
		for _, s := range steps {
			if s.Changed {
				return true
			}
		}
	}
	return false
}

// Unpredictable lists the unpredictable steps as "host: task (location)".
func (f *File) Unpredictable() []string {
	var out []string
	for _, h := range slices.Sorted(maps.Keys(f.Hosts)) {
		for _, s := range f.Hosts[h] {
			if s.Unpredictable {
				out = append(out, fmt.Sprintf("%s: %s (%s): %s", h, displayTask(s.StepKey), s.Location, s.Why))
			}
		}
	}
	return out
}

// CheckAge refuses a plan older than maxAge (0: any age).
func (f *File) CheckAge(now time.Time, maxAge time.Duration) error {
	if maxAge > 0 && now.Sub(f.Created) > maxAge {
		return fmt.Errorf("the plan was made %s ago (%s), more than --max-age %s: make a new plan", now.Sub(f.Created).Round(time.Second), f.Created.Format(time.RFC3339), maxAge)
	}
	return nil
}

// CheckInputs refuses a plan whose inputs changed: every file is hashed
// again, and the first that differs or is gone is named.
func (f *File) CheckInputs() error {
	var errs []error
	for _, in := range f.Inputs {
		sum, err := hashFile(in.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			errs = append(errs, fmt.Errorf("%s was removed since the plan was made", in.Path))
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", in.Path, err))
		case sum != in.SHA256:
			errs = append(errs, fmt.Errorf("%s changed since the plan was made", in.Path))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("the plan's inputs changed; make a new plan:\n%w", errors.Join(errs...))
	}
	return nil
}

// CheckExtraVars refuses -e arguments other than the plan's: @file
// arguments must name the same files, the others must be given again
// with the same text.
func (f *File) CheckExtraVars(specs []string) error {
	want := make([]ExtraVar, len(specs))
	for i, s := range specs {
		want[i] = NewExtraVar(s)
	}
	if len(want) != len(f.ExtraVars) {
		return fmt.Errorf("the plan was made with %d -e arguments, apply got %d: give the same -e arguments (values other than @file are not stored in the plan)", len(f.ExtraVars), len(want))
	}
	for i := range want {
		if want[i] != f.ExtraVars[i] {
			return fmt.Errorf("-e argument %d differs from the plan's: give the same -e arguments, in the same order", i+1)
		}
	}
	return nil
}

// NewExtraVar is how a -e argument is kept in a plan.
func NewExtraVar(spec string) ExtraVar {
	if name, ok := strings.CutPrefix(spec, "@"); ok {
		if abs, err := filepath.Abs(name); err == nil {
			name = abs
		}
		return ExtraVar{File: name}
	}
	sum := sha256.Sum256([]byte(spec))
	return ExtraVar{SHA256: hex.EncodeToString(sum[:])}
}

// Fingerprint is the hash of a module's plan: changed, unpredictable, its
// diff and, when it changes the host, its result (the state it read and
// the one it wants). An unchanged plan's result is left out: apply does
// nothing for it, and a later task that depends on what it read is
// compared on its own.
func Fingerprint(p *module.Plan) string {
	v := map[string]any{"changed": p.Changed, "unpredictable": p.Unpredictable, "diff": p.Diff}
	if p.Changed && !p.Unpredictable {
		v["result"] = map[string]any(p.Result)
	}
	data, err := json.Marshal(v)
	if err != nil {
		data = fmt.Appendf(nil, "%#v", v)
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Inputs collects the files a run read, hashed once each. Directories
// (roles, group_vars) are walked; hidden entries in them are skipped.
// Safe for concurrent use.
type Inputs struct {
	mu    sync.Mutex
	seen  map[string]bool
	files map[string]string
	errs  []error
	// Skip are paths never recorded (the plan file itself).
	Skip []string
}

// Add records path, a file or a directory.
func (in *Inputs) Add(path string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.seen == nil {
		in.seen, in.files = map[string]bool{}, map[string]string{}
	}
	if in.seen[abs] {
		return
	}
	in.seen[abs] = true
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != abs && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() && !(d.Type()&fs.ModeSymlink != 0) {
			return nil
		}
		if slices.Contains(in.Skip, p) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(p); err != nil || st.IsDir() {
				return nil
			}
		}
		sum, err := hashFile(p)
		if err != nil {
			return err
		}
		in.files[p] = sum
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		in.errs = append(in.errs, fmt.Errorf("hashing the plan's input %s: %w", abs, err))
	}
}

// List returns the inputs sorted by path, or the first error met.
func (in *Inputs) List() ([]Input, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.errs) > 0 {
		return nil, errors.Join(in.errs...)
	}
	out := make([]Input, 0, len(in.files))
	for p, s := range in.files {
		out = append(out, Input{Path: p, SHA256: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func hashFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func displayTask(k executor.StepKey) string {
	name := k.Task
	if k.Role != "" {
		name = k.Role + " : " + name
	}
	if k.Item >= 0 {
		name += fmt.Sprintf(" (item %d)", k.Item)
	}
	return name
}
