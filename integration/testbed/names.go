package testbed

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
)

// validName is what a bed or host name may look like: it ends up in
// hostnames, file names and network namespace names.
var validName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)

func checkName(kind, name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("invalid %s name %q: use 1-40 lowercase letters, digits and inner dashes", kind, name)
	}
	return nil
}

// names derives the kernel object names of a bed from its name. Interface
// names are limited to 15 bytes, so they use a hash of the bed name; the
// same hash prefixes every object so leftovers of a crashed run can be
// found without its state file.
type names struct{ tag string }

func namesFor(bed string) names {
	h := sha256.Sum256([]byte(bed))
	return names{tag: "tb" + hex.EncodeToString(h[:4])}
}

// bridge is the bed's bridge ("tb" + 8 hex digits).
func (n names) bridge() string { return n.tag }

// veth is the controller-side end of host i's veth pair.
func (n names) veth(i int) string { return n.tag + "v" + strconv.Itoa(i) }

// netns is host's network namespace under /run/netns.
func (n names) netns(host string) string { return n.tag + "-" + host }

// linkPrefix and netnsPrefix match every object of the bed.
func (n names) linkPrefix() string  { return n.tag }
func (n names) netnsPrefix() string { return n.tag + "-" }
