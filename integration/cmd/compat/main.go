// Command compat runs the compatibility corpus (integration/compat/corpus)
// under ansible-playbook and tend on twin testbed hosts and regenerates
// docs/compatibility.md. Run it as root from the repository's root:
//
//	go run ./integration/cmd/compat                      # the whole corpus, 2 roles at a time
//	go run ./integration/cmd/compat -roles geerlingguy.ntp,oefenweb.htop
//	go run ./integration/cmd/compat -docs                # only re-render the page from results.json
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/tend-dev/tend/integration/compat"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "compat:", err)
		os.Exit(1)
	}
}

func run() error {
	rolesFlag := flag.String("roles", "", "comma-separated role names (default: the whole corpus)")
	jobs := flag.Int("j", 2, "roles run at a time (each boots two hosts)")
	docsOnly := flag.Bool("docs", false, "only render docs/compatibility.md from results.json")
	work := flag.String("work", "", "scratch folder for playbooks and run logs (default: a new temporary folder, kept)")
	flag.Parse()

	const corpusDir = "integration/compat/corpus"
	resultsPath := "integration/compat/results.json"
	docPath := "docs/compatibility.md"
	roles, err := compat.LoadCorpus(corpusDir)
	if err != nil {
		return fmt.Errorf("%w (run from the repository's root)", err)
	}
	results, err := compat.ReadResults(resultsPath)
	if err != nil {
		return err
	}
	if !*docsOnly {
		sel, err := selectRoles(roles, *rolesFlag)
		if err != nil {
			return err
		}
		if err := runCorpus(sel, results, resultsPath, *jobs, *work); err != nil {
			return err
		}
	}
	for name := range results {
		if !known(roles, name) {
			delete(results, name)
		}
	}
	if err := compat.WriteResults(resultsPath, results); err != nil {
		return err
	}
	return os.WriteFile(docPath, []byte(compat.Render(roles, results)), 0o644)
}

func known(roles []*compat.Role, name string) bool {
	for _, r := range roles {
		if r.Name == name {
			return true
		}
	}
	return false
}

func selectRoles(roles []*compat.Role, list string) ([]*compat.Role, error) {
	if list == "" {
		return roles, nil
	}
	var sel []*compat.Role
	for _, n := range strings.Split(list, ",") {
		found := false
		for _, r := range roles {
			if r.Name == strings.TrimSpace(n) {
				sel = append(sel, r)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no role %q in the corpus", n)
		}
	}
	return sel, nil
}

func runCorpus(sel []*compat.Role, results compat.Results, resultsPath string, jobs int, work string) error {
	ap, err := exec.LookPath("ansible-playbook")
	if err != nil {
		return fmt.Errorf("ansible-playbook 2.14 is needed: %w", err)
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "tend-compat-"); err != nil {
			return err
		}
	}
	if work, err = filepath.Abs(work); err != nil {
		return err
	}
	tend := filepath.Join(work, "tend")
	if out, err := exec.Command("go", "build", "-o", tend, "./cmd/tend").CombinedOutput(); err != nil {
		return fmt.Errorf("build tend: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "compat: %d roles, %d at a time; playbooks and logs in %s\n", len(sel), jobs, work)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := compat.Options{Tend: tend, Ansible: ap, Work: work, Log: os.Stderr}
	var mu sync.Mutex
	queue := make(chan *compat.Role)
	var wg sync.WaitGroup
	for range max(1, jobs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range queue {
				res := compat.RunRole(ctx, r, opts)
				mu.Lock()
				if ctx.Err() == nil {
					results[r.Name] = res
					_ = compat.WriteResults(resultsPath, results)
				}
				mu.Unlock()
			}
		}()
	}
	for _, r := range sel {
		if ctx.Err() != nil {
			break
		}
		queue <- r
	}
	close(queue)
	wg.Wait()
	return ctx.Err()
}
