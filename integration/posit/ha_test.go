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
	return fmt.Sprintf("http://%s:%s%s", e.addr(e.roles["load_balancer"][0]), productPort[group], path)
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
	req := fmt.Sprintf("http://%s:3939/__tend__/files/%s", e.addr(cn[0]), name)
	if out, err := putFile(req, body); err != nil {
		t.Fatalf("PUT %s: %v %s", req, err, out)
	}
	code, got, hdr, err := get(plainClient, fmt.Sprintf("http://%s:3939/__tend__/files/%s", e.addr(cn[1]), name))
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
	nodes := e.ssh(wb[0], "rstudio-server list-nodes")
	for _, h := range wb {
		if !strings.Contains(nodes, h) {
			t.Errorf("rstudio-server list-nodes lacks %s:\n%s", h, nodes)
		}
	}
	// A file written through one node's shared storage path is on the other.
	name := fmt.Sprintf("wb-%d.txt", time.Now().UnixNano())
	if out, err := putFile(fmt.Sprintf("http://%s:8787/__tend__/files/%s", e.addr(wb[0]), name), "shared"); err != nil {
		t.Fatalf("PUT: %v %s", err, out)
	}
	if code, got, _, _ := get(plainClient, fmt.Sprintf("http://%s:8787/__tend__/files/%s", e.addr(wb[1]), name)); code != 200 || got != "shared" {
		t.Errorf("file written via %s not visible via %s: %d %q", wb[0], wb[1], code, got)
	}
}

func (e *env) checkBalancing(t *testing.T) {
	paths := map[string]string{"workbench": "/", "connect": "/", "package_manager": "/__ping__"}
	for group, path := range paths {
		seen := map[string]int{}
		for i := 0; i < 30; i++ {
			code, _, hdr, err := get(plainClient, e.lbURL(group, path))
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
		c := newJarClient()
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
					if code, _, hdr, err := get(plainClient, e.lbURL(group, healthPath[group])); err == nil && code == 200 {
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
			code, body, hdr, err := get(plainClient, e.lbURL(group, healthPath[group]))
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

func putFile(url, body string) (string, error) {
	req, _ := newPut(url, body)
	resp, err := plainClient.Do(req)
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
