package posit_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// lbURL is a product's URL through the load balancer (same port as the
// product).
func (e *env) lbURL(group, path string) string {
	return fmt.Sprintf("https://%s:%s%s", e.addr(e.roles["load_balancer"][0]), productPort[group], path)
}

func (e *env) checkSharedData(t *testing.T) {
	cn := e.roles["connect"]
	a, b := e.info(cn[0]), e.info(cn[1])
	if a.Config.DataDir != b.Config.DataDir {
		t.Errorf("DataDir differs: %s %s", a.Config.DataDir, b.Config.DataDir)
	}
	if a.Config.Metrics == b.Config.Metrics {
		t.Errorf("[Metrics] DataPath is the same on both nodes: %s", a.Config.Metrics)
	}
	t.Logf("%s: DataDir %s on %s", cn[0], a.Config.DataDir, e.ssh(cn[0], "findmnt -n -o SOURCE,FSTYPE -T "+shq(a.Config.DataDir)))
	name := fmt.Sprintf("written-via-%s-%d.txt", cn[0], time.Now().UnixNano())
	body := "hello from " + cn[0]
	req := e.nodeURL(cn[0], "/__tend__/files/"+name)
	if out, err := e.putFile(req, body); err != nil {
		t.Fatalf("PUT %s: %v %s", req, err, out)
	}
	code, got, hdr, err := get(e.client(), e.nodeURL(cn[1], "/__tend__/files/"+name))
	if err != nil || code != 200 || got != body || hdr.Get("X-Tend-Node") != cn[1] {
		t.Errorf("file written via %s read via %s: %d %q %v (node %s)", cn[0], cn[1], code, got, err, hdr.Get("X-Tend-Node"))
	}
}

func (e *env) checkWorkbenchCluster(t *testing.T) {
	wb := e.roles["workbench"]
	infos := []standinInfo{e.info(wb[0]), e.info(wb[1])}
	key := func(in standinInfo) any { return in.Config.Settings["secure-cookie-key-sha256"] }
	if key(infos[0]) == nil || key(infos[0]) != key(infos[1]) {
		t.Errorf("secure-cookie-key differs or is missing: %v %v", key(infos[0]), key(infos[1]))
	}
	for i, in := range infos {
		if in.Config.Settings["load-balancing"] != true || in.Config.Shared == "" {
			t.Errorf("%s: load balancing %v, shared storage path %q", wb[i], in.Config.Settings["load-balancing"], in.Config.Shared)
		}
		t.Logf("%s: www-host-name %v, shared %s, warnings %q", wb[i], in.Config.Settings["lb-www-host-name"], in.Config.Shared, in.Config.Warnings)
	}
	if infos[0].Config.Settings["lb-www-host-name"] == infos[1].Config.Settings["lb-www-host-name"] {
		t.Errorf("both nodes have www-host-name %v", infos[0].Config.Settings["lb-www-host-name"])
	}
	// Posit: /etc/rstudio identical on every node apart from the per-node
	// www-host-name in load-balancer; launcher keys and the cookie key
	// included.
	const listing = `cd /etc/rstudio && for f in $(find . -type f | sort); do
  if [ "$f" = ./load-balancer ]; then c=$(grep -v '^www-host-name=' "$f" | sha256sum | cut -c1-16); else c=$(sha256sum < "$f" | cut -c1-16); fi
  echo "$f $(stat -c '%U %G %a' "$f") $c"; done`
	a, b := e.ssh(wb[0], listing), e.ssh(wb[1], listing)
	if d := lineDiff(a, b); d != "" {
		t.Errorf("/etc/rstudio differs between %s (-) and %s (+) beyond www-host-name:\n%s", wb[0], wb[1], d)
	}
	for _, f := range []string{"./launcher.pem", "./launcher.pub", "./secure-cookie-key"} {
		if !strings.Contains(a, f+" ") {
			t.Errorf("%s: /etc/rstudio has no %s:\n%s", wb[0], f, a)
		}
	}
	// The nodes reach each other on 8787 (rserver) and 5559 (launcher).
	for i, h := range wb {
		peer := wb[1-i]
		for _, port := range []string{"8787", "5559"} {
			if out, err := e.bed.SSH(e.ctx, h, fmt.Sprintf("timeout 5 bash -c 'exec 3<>/dev/tcp/%s/%s' && echo open", e.addr(peer), port)); err != nil {
				t.Errorf("%s cannot reach %s:%s: %v %s", h, peer, port, err, out)
			}
		}
	}
	nodes := e.ssh(wb[0], "rstudio-server list-nodes")
	for _, h := range wb {
		if !strings.Contains(nodes, h) {
			t.Errorf("rstudio-server list-nodes lacks %s:\n%s", h, nodes)
		}
	}
	// A file written through one node's shared storage path is on the other.
	name := fmt.Sprintf("wb-%d.txt", time.Now().UnixNano())
	if out, err := e.putFile(e.nodeURL(wb[0], "/__tend__/files/"+name), "shared"); err != nil {
		t.Fatalf("PUT: %v %s", err, out)
	}
	if code, got, _, _ := get(e.client(), e.nodeURL(wb[1], "/__tend__/files/"+name)); code != 200 || got != "shared" {
		t.Errorf("file written via %s not visible via %s: %d %q", wb[0], wb[1], code, got)
	}
}

func (e *env) checkBalancing(t *testing.T) {
	paths := map[string]string{"workbench": "/", "connect": "/", "package_manager": "/__ping__"}
	for group, path := range paths {
		seen := map[string]int{}
		for i := 0; i < 30; i++ {
			code, _, hdr, err := get(e.client(), e.lbURL(group, path))
			if err != nil || code != 200 {
				t.Errorf("%s via load balancer: %d %v", group, code, err)
				break
			}
			seen[hdr.Get("X-Tend-Node")]++
		}
		nodes := keys(seen)
		if !slices.Equal(nodes, sorted(e.roles[group])) {
			t.Errorf("%s: 30 requests without cookies reached %v, want both of %v", group, seen, e.roles[group])
		}
		if group == "package_manager" {
			continue
		}
		c := e.jarClient()
		sticky := map[string]int{}
		for i := 0; i < 15; i++ {
			code, _, hdr, err := get(c, e.lbURL(group, "/"))
			if err != nil || code != 200 {
				t.Errorf("%s sticky: %d %v", group, code, err)
				break
			}
			sticky[hdr.Get("X-Tend-Node")]++
		}
		if len(sticky) != 1 {
			t.Errorf("%s: a client with cookies reached %v, want one node", group, sticky)
		}
		t.Logf("%s: spread %v, sticky %v", group, seen, sticky)
	}
}

func (e *env) checkFailover(t *testing.T) {
	stopped := map[string]string{}
	for _, group := range []string{"workbench", "connect", "package_manager"} {
		h := e.roles[group][0]
		unit := services[group][0]
		e.ssh(h, "systemctl stop "+unit)
		stopped[group] = h
	}
	defer func() {
		for group, h := range stopped {
			e.ssh(h, "systemctl start "+services[group][0])
		}
		// Back to both nodes before the next steps.
		deadline := time.Now().Add(60 * time.Second)
		for group := range stopped {
			for {
				seen := map[string]bool{}
				for i := 0; i < 10; i++ {
					if code, _, hdr, err := get(e.client(), e.lbURL(group, healthPath[group])); err == nil && code == 200 {
						seen[hdr.Get("X-Tend-Node")] = true
					}
				}
				if len(seen) == len(e.roles[group]) || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Second)
			}
		}
	}()
	for group, down := range stopped {
		ok, last := 0, ""
		deadline := time.Now().Add(45 * time.Second)
		for ok < 10 && time.Now().Before(deadline) {
			code, body, hdr, err := get(e.client(), e.lbURL(group, healthPath[group]))
			if err == nil && code == 200 && hdr.Get("X-Tend-Node") != down {
				ok++
				continue
			}
			ok, last = 0, fmt.Sprintf("%d %v %s node %s", code, err, strings.TrimSpace(body), hdr.Get("X-Tend-Node"))
			time.Sleep(500 * time.Millisecond)
		}
		if ok < 10 {
			t.Errorf("%s with %s stopped: not reachable through the load balancer (last: %s)", group, down, last)
		}
	}
}

func (e *env) putFile(url, body string) (string, error) {
	req, _ := newPut(url, body)
	resp, err := e.client().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return resp.Status, fmt.Errorf("status %s", resp.Status)
	}
	return "", nil
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}
