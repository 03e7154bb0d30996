package facts

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// parseHardware sets the facts of Ansible's hardware subset: processor*,
// memory, DMI, devices, uptime, lvm and mounts.
func parseHardware(f map[string]any, sec map[string][]string) {
	cpuFacts(f, sec)
	memoryFacts(f, sec["meminfo"])
	if _, ok := sec["dmi"]; ok {
		dmiFacts(f, sec["dmi"])
	}
	if _, ok := sec["blockdevs"]; ok {
		deviceFacts(f, sec)
	}
	if up := strings.Fields(line(sec, "uptime", 0)); len(up) > 0 {
		if s, err := strconv.ParseFloat(up[0], 64); err == nil {
			f["uptime_seconds"] = int(s)
		}
	}
	if _, ok := sec["lvm"]; ok {
		f["lvm"] = lvmFacts(sec["lvm"])
	}
	if _, ok := sec["mounts"]; ok {
		f["mounts"] = mountFacts(sec)
	}
}

// cpuFacts follows Ansible's reading of /proc/cpuinfo (without its Xen
// paravirtualisation special case).
func cpuFacts(f map[string]any, sec map[string][]string) {
	lines := sec["cpuinfo"]
	if len(lines) == 0 {
		return
	}
	processor := []any{}
	i, vendorN, modelN, procN := 0, 0, 0, 0
	physid, coreid := "", ""
	var sockets, cores []string // keys in insertion order
	socketVal, coreVal := map[string]int{}, map[string]int{}
	add := func(keys *[]string, m map[string]int, k string, v int) {
		if _, ok := m[k]; !ok {
			*keys = append(*keys, k)
		}
		m[k] = v
	}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name", "Processor", "vendor_id", "cpu", "Vendor", "processor":
			processor = append(processor, v)
			switch k {
			case "vendor_id":
				vendorN++
			case "model name":
				modelN++
			case "processor":
				procN++
			}
			i++
		case "physical id":
			physid = v
			if _, ok := socketVal[physid]; !ok {
				add(&sockets, socketVal, physid, 1)
			}
		case "core id":
			coreid = v
			if _, ok := socketVal[coreid]; !ok {
				add(&cores, coreVal, coreid, 1)
			}
		case "cpu cores":
			add(&sockets, socketVal, physid, atoi(v))
		case "siblings":
			add(&cores, coreVal, coreid, atoi(v))
		case "# processors":
			f["processor_cores"] = atoi(v)
		case "ncpus active":
			i = atoi(v)
		}
	}
	f["processor"] = processor
	if vendorN > 0 && vendorN == modelN {
		i = vendorN
	}
	arch, _ := f["architecture"].(string)
	if strings.HasPrefix(arch, "armv") || strings.HasPrefix(arch, "aarch") || strings.HasPrefix(arch, "ppc") {
		i = procN
	}
	if arch == "s390x" {
		return
	}
	if len(sockets) > 0 {
		f["processor_count"] = len(sockets)
	} else {
		f["processor_count"] = i
	}
	nc := 1
	if len(sockets) > 0 && socketVal[sockets[0]] != 0 {
		nc = socketVal[sockets[0]]
	}
	f["processor_cores"] = nc
	tpc := 1 / nc
	if len(cores) > 0 {
		tpc = coreVal[cores[0]] / nc
	}
	f["processor_threads_per_core"] = tpc
	f["processor_vcpus"] = tpc * f["processor_count"].(int) * nc
	f["processor_nproc"] = procN
	if n := atoi(line(sec, "nproc", 0)); n > 0 {
		f["processor_nproc"] = n
	}
}

func memoryFacts(f map[string]any, lines []string) {
	if len(lines) == 0 {
		return
	}
	m := map[string]int{}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch k {
		case "MemTotal", "MemFree", "SwapTotal", "SwapFree", "Buffers", "Cached", "SwapCached":
		default:
			continue
		}
		mb := atoi(strings.Fields(v + " 0")[0]) / 1024
		m[k] = mb
		switch k {
		case "MemTotal", "MemFree", "SwapTotal", "SwapFree":
			f[strings.ToLower(k)+"_mb"] = mb
		}
	}
	get := func(keys ...string) []any {
		out := make([]any, len(keys))
		for i, k := range keys {
			if v, ok := m[k]; ok {
				out[i] = v
			}
		}
		return out
	}
	diff := func(a, b string) any {
		va, oka := m[a]
		vb, okb := m[b]
		if !oka || !okb {
			return nil
		}
		return va - vb
	}
	var nocacheFree, nocacheUsed any
	c, ok1 := m["Cached"]
	fr, ok2 := m["MemFree"]
	bu, ok3 := m["Buffers"]
	if ok1 && ok2 && ok3 {
		nocacheFree = c + fr + bu
		if t, ok := m["MemTotal"]; ok {
			nocacheUsed = t - (c + fr + bu)
		}
	}
	v := get("MemTotal", "MemFree", "SwapTotal", "SwapFree", "SwapCached")
	f["memory_mb"] = map[string]any{
		"real":    map[string]any{"total": v[0], "used": diff("MemTotal", "MemFree"), "free": v[1]},
		"nocache": map[string]any{"free": nocacheFree, "used": nocacheUsed},
		"swap":    map[string]any{"total": v[2], "free": v[3], "used": diff("SwapTotal", "SwapFree"), "cached": v[4]},
	}
}

var formFactors = []string{"Unknown", "Other", "Unknown", "Desktop",
	"Low Profile Desktop", "Pizza Box", "Mini Tower", "Tower",
	"Portable", "Laptop", "Notebook", "Hand Held", "Docking Station",
	"All In One", "Sub Notebook", "Space-saving", "Lunch Box",
	"Main Server Chassis", "Expansion Chassis", "Sub Chassis",
	"Bus Expansion Chassis", "Peripheral Chassis", "RAID Chassis",
	"Rack Mount Chassis", "Sealed-case PC", "Multi-system",
	"CompactPCI", "AdvancedTCA", "Blade", "Blade Enclosure",
	"Tablet", "Convertible", "Detachable", "IoT Gateway",
	"Embedded PC", "Mini PC", "Stick PC"}

// dmiFacts reads /sys/devices/virtual/dmi/id ("file value" lines); every
// fact is "NA" when the host has no DMI data (containers) or a file is
// unreadable (serial numbers for non-root users).
func dmiFacts(f map[string]any, lines []string) {
	kv := map[string]string{}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, " ")
		kv[k] = v
	}
	names := map[string]string{"chassis_type": "form_factor", "sys_vendor": "system_vendor"}
	for _, k := range []string{"bios_date", "bios_vendor", "bios_version", "board_asset_tag", "board_name", "board_serial",
		"board_vendor", "board_version", "chassis_asset_tag", "chassis_serial", "chassis_vendor", "chassis_version",
		"chassis_type", "product_name", "product_serial", "product_uuid", "product_version", "sys_vendor"} {
		name := k
		if n, ok := names[k]; ok {
			name = n
		}
		v, ok := kv[k]
		switch {
		case !ok:
			f[name] = "NA"
		case k == "chassis_type":
			if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < len(formFactors) {
				f[name] = formFactors[n]
			} else {
				f[name] = "unknown (" + v + ")"
			}
		default:
			f[name] = v
		}
	}
}

// bytesToHuman formats a size as Ansible's bytes_to_human does.
func bytesToHuman(size float64) string {
	suffixes := []string{"Bytes", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}
	limits := []float64{1, 1 << 10, 1 << 20, 1 << 30, 1 << 40, 1 << 50, 1 << 60, 1 << 70, 1 << 80}
	for i := len(limits) - 1; i >= 0; i-- {
		if size >= limits[i] {
			return fmt.Sprintf("%.2f %s", size/limits[i], suffixes[i])
		}
	}
	return fmt.Sprintf("%.2f Bytes", size)
}

var (
	schedulerRE = regexp.MustCompile(`.*?(\[(.*)\])`)
	pciRE       = regexp.MustCompile(`.+/([a-f0-9]{4}:[a-f0-9]{2}:[01][a-f0-9]\.[0-7])/`)
)

type blockDev struct {
	name, path string
	kv         map[string]string
	holders    []any
	parts      []*blockDev
}

// deviceFacts builds devices and device_links from the disklinks and
// blockdevs sections.
func deviceFacts(f map[string]any, sec map[string][]string) {
	links := map[string]map[string][]string{"ids": {}, "uuids": {}, "labels": {}, "masters": {}}
	for _, l := range sec["disklinks"] {
		p := strings.Fields(l)
		if len(p) != 3 || links[p[0]] == nil {
			continue
		}
		// masters: "masters HOLDER SLAVE" (the slave's masters); others:
		// "TYPE LINK TARGET".
		if p[0] == "masters" {
			links["masters"][p[2]] = append(links["masters"][p[2]], p[1])
		} else {
			links[p[0]][p[2]] = append(links[p[0]][p[2]], p[1])
		}
	}
	dl := map[string]any{}
	for t, m := range links {
		tm := map[string]any{}
		for k, v := range m {
			sort.Strings(v)
			tm[k] = strList(v)
		}
		dl[t] = tm
	}
	f["device_links"] = dl
	linksOf := func(name string) map[string]any {
		out := map[string]any{}
		for t, m := range links {
			out[t] = strList(m[name])
		}
		return out
	}
	wwn := map[string]string{}
	for target, ids := range links["ids"] {
		for _, id := range ids {
			if w, ok := strings.CutPrefix(id, "wwn-"); ok {
				wwn[target] = w
			}
		}
	}
	var devs []*blockDev
	var cur *blockDev
	for _, l := range sec["blockdevs"] {
		p := strings.SplitN(l, " ", 3)
		switch {
		case p[0] == "D" && len(p) >= 2:
			d := &blockDev{name: p[1], kv: map[string]string{}}
			if len(p) == 3 {
				d.path = p[2]
			}
			devs = append(devs, d)
			cur = d
		case p[0] == "P" && len(p) >= 2 && len(devs) > 0:
			cur = &blockDev{name: p[1], kv: map[string]string{}}
			devs[len(devs)-1].parts = append(devs[len(devs)-1].parts, cur)
		case p[0] == "holder" && cur != nil:
			name := ""
			if len(p) == 3 {
				name = strings.TrimSpace(p[2])
			}
			if name == "" && len(p) >= 2 {
				name = p[1]
			}
			cur.holders = append(cur.holders, name)
		case cur != nil && len(p) >= 1:
			k, v, _ := strings.Cut(l, " ")
			cur.kv[k] = v
		}
	}
	out := map[string]any{}
	for _, d := range devs {
		out[d.name] = blockDevice(d, linksOf, wwn)
	}
	f["devices"] = out
}

func blockDevice(d *blockDev, linksOf func(string) map[string]any, wwn map[string]string) map[string]any {
	opt := func(k string) any {
		if v, ok := d.kv[k]; ok {
			return v
		}
		return nil
	}
	m := map[string]any{
		"virtual":           1,
		"links":             linksOf(d.name),
		"vendor":            opt("device/vendor"),
		"model":             opt("device/model"),
		"sas_address":       opt("device/sas_address"),
		"sas_device_handle": opt("device/sas_device_handle"),
		"removable":         opt("removable"),
		"support_discard":   opt("queue/discard_granularity"),
		"rotational":        opt("queue/rotational"),
		"scheduler_mode":    "",
		"host":              "",
		"holders":           anyList(d.holders),
	}
	if d.path == "" {
		// A /sys/block entry that is not a link: a real device has a
		// "device" entry in it.
		if _, ok := d.kv["device/vendor"]; ok {
			m["virtual"] = 0
		}
	}
	if s := d.kv["device/serial"]; s != "" {
		m["serial"] = s
	}
	if w, ok := wwn[d.name]; ok {
		m["wwn"] = w
	}
	if s, ok := d.kv["queue/scheduler"]; ok {
		if mm := schedulerRE.FindStringSubmatch(s); mm != nil {
			m["scheduler_mode"] = mm[2]
		}
	}
	sectors := d.kv["size"]
	if sectors == "" {
		m["sectors"] = 0
	} else {
		m["sectors"] = sectors
	}
	m["sectorsize"] = sectorSize(d)
	n, _ := strconv.ParseFloat(sectors, 64)
	m["size"] = bytesToHuman(n * 512)
	parts := map[string]any{}
	partRE := regexp.MustCompile("(" + regexp.QuoteMeta(d.name) + `[p]?\d+)`)
	for _, p := range d.parts {
		if !partRE.MatchString(p.name) {
			continue
		}
		ps := p.kv["size"]
		if ps == "" {
			ps = "0"
		}
		start := p.kv["start"]
		if start == "" {
			start = "0"
		}
		pn, _ := strconv.ParseFloat(ps, 64)
		parts[p.name] = map[string]any{
			"links":      linksOf(p.name),
			"start":      start,
			"sectors":    ps,
			"sectorsize": sectorSize(p),
			"size":       bytesToHuman(pn * 512),
			"uuid":       uuidOf(linksOf(p.name)),
			"holders":    anyList(p.holders),
		}
	}
	m["partitions"] = parts
	_ = pciRE // the host's PCI description needs lspci, which tend does not run
	return m
}

func sectorSize(d *blockDev) any {
	if v := d.kv["queue/logical_block_size"]; v != "" {
		return v
	}
	if v := d.kv["queue/hw_sector_size"]; v != "" {
		return v
	}
	return 512
}

// uuidOf is Ansible's get_partition_uuid: the first /dev/disk/by-uuid
// link of the partition, else null.
func uuidOf(links map[string]any) any {
	if l, ok := links["uuids"].([]any); ok && len(l) > 0 {
		return l[0]
	}
	return nil
}

func strList(s []string) []any {
	out := make([]any, 0, len(s))
	for _, v := range s {
		out = append(out, v)
	}
	return out
}

func anyList(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}

// lvmFacts reads vgs, lvs and pvs output (after @vgs, @lvs, @pvs).
func lvmFacts(lines []string) any {
	if len(lines) == 0 {
		return "N/A"
	}
	vgs, lvs, pvs := map[string]any{}, map[string]any{}, map[string]any{}
	cur := ""
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "@") {
			cur = l
			continue
		}
		it := strings.Split(l, ",")
		switch {
		case cur == "@vgs" && len(it) >= 4:
			vgs[it[0]] = map[string]any{"size_g": it[len(it)-2], "free_g": it[len(it)-1], "num_lvs": it[2], "num_pvs": it[1]}
		case cur == "@lvs" && len(it) >= 4:
			lvs[it[0]] = map[string]any{"size_g": it[3], "vg": it[1]}
		case cur == "@pvs" && len(it) >= 6:
			pvs[it[0]] = map[string]any{"size_g": it[4], "free_g": it[5], "vg": it[1]}
		}
	}
	return map[string]any{"vgs": vgs, "lvs": lvs, "pvs": pvs}
}

var (
	octalEscape = regexp.MustCompile(`\\[0-7]{3}`)
	bindSource  = regexp.MustCompile(`.*\]`)
)

func unescapeOctal(s string) string {
	return octalEscape.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.ParseUint(m[1:], 8, 8)
		return string(rune(n))
	})
}

// mountFacts builds mounts from the mounts section ("M dev mnt fs opts"),
// the statfs section (stat -f of every mount point, the mount point last), findmnt's bind mounts and lsblk's UUIDs. A
// mount point listed twice is reported once, with its last entry, as in
// Ansible.
func mountFacts(sec map[string][]string) []any {
	binds := map[string]bool{}
	for _, l := range sec["findmnt"] {
		p := strings.Fields(l)
		if len(p) >= 2 && bindSource.MatchString(p[1]) {
			binds[p[0]] = true
		}
	}
	uuids := map[string]string{}
	for _, l := range sec["lsblk"] {
		p := strings.Fields(l)
		if len(p) >= 2 {
			if _, ok := uuids[p[0]]; !ok {
				uuids[p[0]] = p[len(p)-1]
			}
		}
	}
	stats := map[string][]int64{}
	for _, l := range sec["statfs"] {
		p := strings.SplitN(l, " ", 8)
		if len(p) != 8 {
			continue
		}
		n := make([]int64, 7)
		for k := range n {
			n[k], _ = strconv.ParseInt(p[k], 10, 64)
		}
		stats[p[7]] = n
	}
	var order []string
	byMount := map[string]map[string]any{}
	for _, l := range sec["mounts"] {
		p := strings.Fields(l)
		if len(p) != 5 || p[0] != "M" {
			continue
		}
		dev, mnt, fs, opts := unescapeOctal(p[1]), unescapeOctal(p[2]), unescapeOctal(p[3]), unescapeOctal(p[4])
		m := map[string]any{"mount": mnt, "device": dev, "fstype": fs, "options": opts}
		if binds[mnt] && !strings.Contains(opts, "bind") {
			m["options"] = opts + ",bind"
		}
		if n, ok := stats[mnt]; ok {
			frsize, bsize, blocks, bavail, files, ffree := n[0], n[1], n[2], n[4], n[5], n[6]
			m["size_total"] = frsize * blocks
			m["size_available"] = frsize * bavail
			m["block_size"] = bsize
			m["block_total"] = blocks
			m["block_available"] = bavail
			m["block_used"] = blocks - bavail
			m["inode_total"] = files
			m["inode_available"] = ffree
			m["inode_used"] = files - ffree
		}
		m["uuid"] = "N/A"
		if u, ok := uuids[dev]; ok && u != "" {
			m["uuid"] = u
		}
		if _, ok := byMount[mnt]; !ok {
			order = append(order, mnt)
		}
		byMount[mnt] = m
	}
	out := make([]any, 0, len(order))
	for _, mnt := range order {
		out = append(out, byMount[mnt])
	}
	return out
}
