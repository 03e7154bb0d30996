package facts

import (
	"regexp"
	"sort"
	"strings"
)

var (
	dockerCgroup = regexp.MustCompile(`/docker(/|-[0-9a-f]+\.scope)`)
	lxcCgroup    = regexp.MustCompile(`/lxc/|/machine.slice/machine-lxc`)
)

// virt follows Ansible's Linux virtual collector: the first finding sets
// virtualization_type and _role, every finding adds to the guest or host
// technology lists.
type virt struct {
	typ, role   string
	found       bool
	guest, host map[string]bool
}

func (v *virt) guestTech(tech, typ string) {
	v.guest[tech] = true
	if !v.found {
		v.typ, v.role, v.found = typ, "guest", true
	}
}

func (v *virt) hostTech(tech, typ string) {
	v.host[tech] = true
	if !v.found {
		v.typ, v.role, v.found = typ, "host", true
	}
}

// parseVirtual reads the virt-* sections.
func parseVirtual(f map[string]any, sec map[string][]string) {
	v := &virt{guest: map[string]bool{}, host: map[string]bool{}}
	files := virtContainers(v, sec)
	virtDMI(v, sec["virt-dmi"])
	virtLate(v, sec, files)
	if !v.found {
		v.typ, v.role = "NA", "NA"
	}
	f["virtualization_type"] = v.typ
	f["virtualization_role"] = v.role
	f["virtualization_tech_guest"] = sortedSet(v.guest)
	f["virtualization_tech_host"] = sortedSet(v.host)
}

// virtContainers is the first part of the collector: containers (cgroup,
// PID 1's environment, systemd, marker files), OpenVZ and Xen. It returns
// the marker files found.
func virtContainers(v *virt, sec map[string][]string) map[string]bool {
	for _, l := range sec["virt-cgroup"] {
		if dockerCgroup.MatchString(l) {
			v.guestTech("docker", "docker")
		}
		if lxcCgroup.MatchString(l) {
			v.guestTech("lxc", "lxc")
		}
		if strings.Contains(l, "/system.slice/containerd.service") {
			v.guestTech("containerd", "containerd")
		}
	}
	for _, l := range sec["virt-environ"] {
		if strings.Contains(l, "container=lxc") {
			v.guestTech("lxc", "lxc")
		}
		if strings.Contains(l, "container=podman") {
			v.guestTech("podman", "podman")
		}
		if strings.HasPrefix(l, "container=") && len(l) > len("container=") {
			v.guestTech("container", "container")
		}
	}
	files := map[string]bool{}
	for _, l := range sec["virt-files"] {
		files[strings.TrimSpace(l)] = true
	}
	if files["/proc/vz"] && !files["/proc/lve"] {
		v.typ = "openvz"
		if files["/proc/bc"] {
			v.host["openvz"] = true
			if !v.found {
				v.role = "host"
			}
		} else {
			v.guest["openvz"] = true
			if !v.found {
				v.role = "guest"
			}
		}
		v.found = true
	}
	container := line(sec, "virt", 0)
	if container != "" {
		v.guestTech(container, container)
	}
	if files["/.dockerenv"] || files["/.dockerinit"] {
		v.guestTech("docker", "docker")
	}
	if v.guest["docker"] || v.guest["lxc"] || v.guest["podman"] || v.guest["openvz"] || v.guest["containerd"] || container != "" {
		v.guest["container"] = true
	}
	if files["/proc/xen"] {
		if files["xen-host"] {
			v.hostTech("xen", "xen")
		} else {
			v.guestTech("xen", "xen")
		}
	}
	return files
}

// virtLate is the last part of the collector: Linux-VServer, CPU model,
// kernel modules and /dev/kvm.
func virtLate(v *virt, sec map[string][]string, files map[string]bool) {
	for _, l := range sec["virt-status"] {
		if !strings.HasPrefix(l, "VxID:") {
			continue
		}
		if strings.TrimSpace(strings.TrimPrefix(l, "VxID:")) == "0" {
			v.hostTech("linux_vserver", "linux_vserver")
		} else {
			v.guestTech("linux_vserver", "linux_vserver")
		}
	}
	for _, l := range sec["virt-cpuinfo"] {
		switch {
		case strings.HasPrefix(l, "model name") && strings.Contains(l, "QEMU Virtual CPU"):
			v.guestTech("kvm", "kvm")
		case strings.HasPrefix(l, "vendor_id") && strings.Contains(l, "User Mode Linux"),
			strings.HasPrefix(l, "model name") && strings.Contains(l, "UML"):
			v.guestTech("uml", "uml")
		case strings.HasPrefix(l, "vendor_id") && strings.Contains(l, "PowerVM Lx86"):
			v.guestTech("powervm_lx86", "powervm_lx86")
		}
	}
	mods := map[string]bool{}
	for _, l := range sec["virt-modules"] {
		if name, _, _ := strings.Cut(l, " "); name != "" {
			mods[name] = true
		}
	}
	if mods["kvm"] {
		v.hostTech("kvm", "kvm")
	}
	if mods["vboxdrv"] {
		v.hostTech("virtualbox", "virtualbox")
	}
	if mods["virtio"] {
		v.host["kvm"] = true
		if !v.found {
			v.typ, v.role, v.found = "kvm", "guest", true
		}
	}
	if files["/dev/kvm"] {
		v.hostTech("kvm", "kvm")
	}
}

// virtDMI is the DMI part of the virtual collector: the guest technology
// from product name, vendor and BIOS vendor. A guest found this way keeps
// the role found before (Ansible sets it to guest before these checks).
func virtDMI(v *virt, lines []string) {
	kv := map[string]string{}
	for _, l := range lines {
		k, val, _ := strings.Cut(l, " ")
		kv[k] = val
	}
	product, vendor, family, bios := kv["product_name"], kv["sys_vendor"], kv["product_family"], kv["bios_vendor"]
	g := func(tech string) { v.guestTech(tech, tech) }
	switch product {
	case "KVM", "KVM Server", "Bochs", "AHV":
		v.guestTech("kvm", "kvm")
	}
	if vendor == "oVirt" {
		g("oVirt")
	}
	if vendor == "Red Hat" {
		if family == "RHV" {
			g("RHV")
		} else if product == "RHEV Hypervisor" {
			g("RHEV")
		}
	}
	if product == "VMware Virtual Platform" || product == "VMware7,1" {
		g("VMware")
	}
	if product == "OpenStack Compute" || product == "OpenStack Nova" {
		g("openstack")
	}
	switch bios {
	case "Xen":
		g("xen")
	case "innotek GmbH":
		g("virtualbox")
	case "Amazon EC2", "DigitalOcean", "Hetzner":
		v.guestTech("kvm", "kvm")
	}
	switch vendor {
	case "QEMU", "Amazon EC2", "DigitalOcean", "Google", "Scaleway", "Nutanix":
		v.guestTech("kvm", "kvm")
	case "KubeVirt":
		g("KubeVirt")
	case "Microsoft Corporation":
		g("VirtualPC")
	case "Parallels Software International Inc.":
		g("parallels")
	case "OpenStack Foundation":
		g("openstack")
	}
}

func sortedSet(m map[string]bool) []any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strList(keys)
}
