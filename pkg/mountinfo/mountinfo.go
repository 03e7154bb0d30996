// Package mountinfo decodes the octal escapes (\040 for a space, \134 for
// a backslash...) that the kernel's mount tables (/proc/mounts,
// /proc/self/mountinfo) and fstab use in paths and sources. The mount
// module and the testbed's cleanup both read those tables.
package mountinfo

import (
	"strconv"
	"strings"
)

// Unescape decodes every \NNN octal escape in s; a backslash not followed
// by three octal digits is kept as it is.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
