package modules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const mountinfoFixture = `22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/x
35 22 0:30 / /srv/my\040data rw,relatime - nfs4 nas:/export/data rw,vers=4.2
36 22 0:31 / /mnt/ssh rw,nosuid,nodev - fuse.sshfs user@host:/home rw,user_id=0
`

func TestParseMountinfo(t *testing.T) {
	m := parseMountinfo(mountinfoFixture)
	if e := m["/srv/my data"]; e.FSType != "nfs4" || e.Source != "nas:/export/data" {
		t.Errorf("nfs entry = %+v", e)
	}
	if e := m["/mnt/ssh"]; e.FSType != "fuse.sshfs" {
		t.Errorf("sshfs entry = %+v", e)
	}
}

func TestSetFstab(t *testing.T) {
	in := "# /etc/fstab\nUUID=abc / ext4 errors=remount-ro 0 1\nnas:/old /srv/data nfs defaults 0 0\n/swapfile none swap sw 0 0\n"
	nfs := fstabArgs{src: "nas:/export/data", name: "/srv/data", fstype: "nfs4", opts: "rw,hard", dump: "0", passno: "0"}
	got, changed := setFstab(in, nfs)
	want := "# /etc/fstab\nUUID=abc / ext4 errors=remount-ro 0 1\nnas:/export/data /srv/data nfs4 rw,hard 0 0\n/swapfile none swap sw 0 0\n"
	if !changed || got != want {
		t.Errorf("update:\ngot  %q\nwant %q", got, want)
	}
	if again, changed := setFstab(got, nfs); changed || again != got {
		t.Error("second set changed the file")
	}
	ssh := fstabArgs{src: "user@host:/home", name: escapeFstab("/mnt/my ssh"), fstype: "fuse.sshfs", opts: "defaults,_netdev", dump: "0", passno: "0"}
	got2, changed := setFstab(in, ssh)
	if !changed || got2 != in+"user@host:/home /mnt/my\\040ssh fuse.sshfs defaults,_netdev 0 0\n" {
		t.Errorf("append: %q", got2)
	}
	rm, changed := unsetFstab(in, fstabArgs{name: "/srv/data"})
	if !changed || rm != "# /etc/fstab\nUUID=abc / ext4 errors=remount-ro 0 1\n/swapfile none swap sw 0 0\n" {
		t.Errorf("unset: %q", rm)
	}
	if _, changed := unsetFstab(in, fstabArgs{name: "/nope"}); changed {
		t.Error("unset of a missing entry changed")
	}
}

func TestMountOpts(t *testing.T) {
	for _, tt := range []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"path": "/x", "state": "present"}, "defaults"},
		{map[string]any{"path": "/x", "state": "present", "boot": false}, "noauto"},
		{map[string]any{"path": "/x", "state": "present", "opts": "ro,defaults", "boot": false}, "ro,noauto"},
	} {
		args, _ := Mount{}.Spec().Validate(tt.raw, false)
		if got := mountOpts(args); got != tt.want {
			t.Errorf("%v: got %q want %q", tt.raw, got, tt.want)
		}
	}
}

// TestMountPresentLocal edits a scratch fstab on the controller
// (state=present touches only the file).
func TestMountPresentLocal(t *testing.T) {
	fstab := filepath.Join(t.TempDir(), "fstab")
	os.WriteFile(fstab, []byte("# static\n"), 0o644)
	args := map[string]any{"path": "/srv/nfs", "src": "nas:/e", "fstype": "nfs", "opts": "rw", "state": "present", "fstab": fstab, "backup": true}
	if r, _ := runLocal(t, Mount{}, args, true); r["changed"] != true {
		t.Fatalf("check: %v", r)
	}
	if b, _ := os.ReadFile(fstab); string(b) != "# static\n" {
		t.Fatal("check mode wrote fstab")
	}
	r, p := runLocal(t, Mount{}, args, false)
	if r["changed"] != true || p.Diff[0].After != "# static\nnas:/e /srv/nfs nfs rw 0 0\n" {
		t.Fatalf("first: %v %+v", r, p.Diff)
	}
	if bf, _ := r["backup_file"].(string); bf == "" {
		t.Error("no backup_file")
	} else if b, _ := os.ReadFile(bf); string(b) != "# static\n" {
		t.Errorf("backup = %q", b)
	}
	if r, _ := runLocal(t, Mount{}, args, false); r["changed"] != false {
		t.Fatalf("second: %v", r)
	}
	if r, _ := runLocal(t, Mount{}, map[string]any{"path": "/x", "state": "mounted", "fstab": fstab}, false); r["failed"] != true {
		t.Errorf("mounted without src: %v", r)
	}
}

// TestDecideMount covers what each state changes, from the fstab content,
// the mount table and the mount point.
func TestDecideMount(t *testing.T) {
	entry := "nas:/d /srv/data nfs4 rw 0 0\n"
	want := fstabArgs{src: "nas:/d", name: "/srv/data", fstype: "nfs4", opts: "rw", dump: "0", passno: "0"}
	cur := &mountEntry{Source: "nas:/d", FSType: "nfs4", Options: "rw"}
	other := &mountEntry{Source: "nas:/other", FSType: "nfs4", Options: "rw"}
	tests := []struct {
		name       string
		state      string
		fstab      string
		content    string
		cur        *mountEntry
		pathExists bool
		cmds       []string
		changed    bool
		fstabEdit  bool
		fail       string
	}{
		{name: "mounted converged", state: "mounted", content: entry, cur: cur, pathExists: true},
		{name: "mounted from nothing", state: "mounted", content: "", pathExists: false, changed: true, fstabEdit: true,
			cmds: []string{"mkdir -p /srv/data", "mount /srv/data"}},
		{name: "mounted, entry changed, remount", state: "mounted", content: "nas:/d /srv/data nfs4 ro 0 0\n", cur: cur, pathExists: true, changed: true, fstabEdit: true,
			cmds: []string{"{ mount -o remount /srv/data || { umount /srv/data && mount /srv/data; }; }"}},
		{name: "other fstab", state: "mounted", fstab: "/tmp/fstab", content: entry, pathExists: true, changed: true,
			cmds: []string{"mount -T /tmp/fstab /srv/data"}},
		{name: "present touches only the file", state: "present", content: "", cur: nil, changed: true, fstabEdit: true},
		{name: "unmounted", state: "unmounted", content: entry, cur: cur, changed: true, cmds: []string{"umount /srv/data"}},
		{name: "unmounted already", state: "unmounted", content: entry},
		{name: "absent", state: "absent", content: entry, cur: cur, pathExists: true, changed: true, fstabEdit: true,
			cmds: []string{"umount /srv/data", "{ [ ! -d /srv/data ] || rmdir /srv/data; }"}},
		{name: "absent not in fstab leaves the mount", state: "absent", content: "", cur: cur, pathExists: true},
		{name: "absent_from_fstab", state: "absent_from_fstab", content: entry, cur: cur, changed: true, fstabEdit: true},
		{name: "remounted", state: "remounted", content: entry, cur: cur, changed: true,
			cmds: []string{"{ mount -o remount /srv/data || { umount /srv/data && mount /srv/data; }; }"}},
		{name: "ephemeral", state: "ephemeral", content: "", pathExists: true, changed: true,
			cmds: []string{"mkdir -p -- /srv/data", "mount -t nfs4 -o rw -- nas:/d /srv/data"}},
		{name: "ephemeral mounted", state: "ephemeral", content: "", cur: cur},
		{name: "ephemeral other source", state: "ephemeral", content: "", cur: other, fail: "Ephemeral mount point /srv/data is already mounted with a different source (nas:/other)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fstab := tt.fstab
			if fstab == "" {
				fstab = "/etc/fstab"
			}
			req := mountRequest{state: tt.state, path: "/srv/data", fstab: fstab, src: "nas:/d", fstype: "nfs4", opts: "rw"}
			d, fail := decideMount(req, want, tt.content, tt.cur, tt.pathExists)
			if fail != tt.fail {
				t.Fatalf("fail = %q, want %q", fail, tt.fail)
			}
			if d.changed != tt.changed || d.fstabChanged != tt.fstabEdit {
				t.Errorf("changed %v, fstab changed %v; want %v, %v", d.changed, d.fstabChanged, tt.changed, tt.fstabEdit)
			}
			if diff := cmp.Diff(tt.cmds, d.cmds); diff != "" {
				t.Errorf("cmds (-want +got):\n%s", diff)
			}
		})
	}
}
