package cli

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const chromiumPath = "/usr/bin/chromium"

// TestPlayReportHTMLInBrowser writes --report html= from a real run and
// loads the page in headless Chromium: the DOM it builds has a row per
// host and a cell per task and host, the page's own script ran (it marks
// the body only when the matrix is complete), no console error was
// logged, and a screenshot shows a rendered page.
func TestPlayReportHTMLInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %v (integration/prereqs installs the chromium package)", chromiumPath, err)
		}
		t.Skipf("%s missing: install Debian's chromium package to load the html report in a browser", chromiumPath)
	}
	const secret = "pw-7Hq2-never-shown"
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "a ansible_connection=local\nb ansible_connection=local\n")
	pb := writeFile(t, dir, "site.yml", `- hosts: all
  gather_facts: false
  tasks:
    - name: motd <for> "{{ inventory_hostname }}"
      copy:
        content: "hello {{ inventory_hostname }}\n"
        dest: "`+dir+`/motd-{{ inventory_hostname }}"
    - name: check
      command: 'true'
      changed_when: false
    - name: only on b
      debug: msg=b
      when: inventory_hostname == 'b'
    - name: secret
      copy:
        content: "`+secret+`"
        dest: "`+dir+`/secret-{{ inventory_hostname }}"
      no_log: true
`)
	page := filepath.Join(dir, "run.html")
	code, _, stderr := runCLI(t, "play", "-i", inv, pb, "--diff", "-e", "token="+secret, "--report", "html="+page)
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Fatalf("the html report shows a secret (no_log result or -e value):\n%s", b)
	}

	profile := filepath.Join(dir, "chromium")
	t.Cleanup(func() { checkNoChromiumLeft(t, profile) })
	url := "file://" + page
	dom, logs := runChromium(t, profile, "--enable-logging=stderr", "--v=0", "--dump-dom", url)
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "Uncaught") || strings.Contains(line, "ERROR:CONSOLE") {
			t.Errorf("console error: %s", line)
		}
	}
	if !strings.Contains(dom, `data-rendered="ok"`) {
		t.Errorf("the page's script did not find a complete matrix; DOM:\n%s", dom)
	}
	if got := strings.Count(dom, `<tr class="host">`); got != 2 {
		t.Errorf("%d host rows in the DOM, want 2", got)
	}
	if got := strings.Count(dom, `<td class="cell `); got != 8 {
		t.Errorf("%d matrix cells in the DOM, want 8 (4 tasks x 2 hosts)", got)
	}
	for _, want := range []string{`<td class="cell skipped"`, `<td class="cell changed"`, `<details class="diff">`, "motd &lt;for&gt;"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM lacks %q", want)
		}
	}

	shot := filepath.Join(dir, "shot.png")
	runChromium(t, profile, "--screenshot="+shot, "--window-size=1280,900", "--hide-scrollbars", url)
	checkScreenshot(t, shot)
}

// runChromium runs headless Chromium with its own profile directory,
// for at most a minute, killing its whole process group when the time
// is up; it returns stdout and stderr.
func runChromium(t *testing.T, profile string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir=" + profile}, args...)
	cmd := exec.CommandContext(ctx, chromiumPath, args...)
	cmd.Env = append(os.Environ(), "HOME="+profile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if cmd.Process != nil {
		// Helpers (zygote, GPU, network service) share the group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("chromium %s: %v (timed out: %v); stderr:\n%s", strings.Join(args, " "), err, errors.Is(ctx.Err(), context.DeadlineExceeded), errOut.String())
	}
	return out.String(), errOut.String()
}

// checkScreenshot checks the PNG decodes and is not one colour.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(b))
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	r := img.Bounds()
	if r.Dx() != 1280 || r.Dy() != 900 {
		t.Errorf("screenshot is %dx%d, want 1280x900", r.Dx(), r.Dy())
	}
	first := img.At(r.Min.X, r.Min.Y)
	colours := map[[4]uint32]bool{}
	for y := r.Min.Y; y < r.Max.Y; y += 3 {
		for x := r.Min.X; x < r.Max.X; x += 3 {
			c := img.At(x, y)
			r1, g1, b1, a1 := c.RGBA()
			colours[[4]uint32{r1, g1, b1, a1}] = true
		}
	}
	if len(colours) < 4 {
		t.Errorf("screenshot has %d colours (first pixel %v): the page did not render", len(colours), first)
	}
}

// checkNoChromiumLeft fails if a process started with profile still
// runs after the test, and kills it.
func checkNoChromiumLeft(t *testing.T, profile string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := processesWith(profile)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Errorf("chromium processes left running: %v", left)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processesWith lists the pids whose command line contains s.
func processesWith(s string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(s)) {
			pids = append(pids, pid)
		}
	}
	return pids
}
