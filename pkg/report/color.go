package report

import (
	"fmt"
	"strings"
)

// SGR parameters of Ansible's default colours (ansible.constants COLOR_*,
// names resolved through ansible.utils.color.codeCodes).
const (
	colorOK          = "0;32" // green
	colorChanged     = "0;33" // yellow
	colorSkip        = "0;36" // cyan
	colorError       = "0;31" // red
	colorUnreachable = "1;31" // bright red
	colorWarn        = "1;35" // bright purple
	colorDeprecate   = "0;35" // purple
	colorDebug       = "1;30" // dark gray
	colorVerbose     = "0;34" // blue
	colorDiffAdd     = "0;32" // green
	colorDiffRemove  = "0;31" // red
	colorDiffLines   = "0;36" // cyan
)

// painter applies colours when enabled; the zero value paints nothing.
type painter struct{ on bool }

// stringc is Ansible's stringc: every line of text wrapped in the colour,
// so a trailing newline yields an empty coloured segment exactly as
// ansible-playbook prints it.
func (p painter) stringc(text, color string) string {
	if !p.on || color == "" {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = "\033[" + color + "m" + l + "\033[0m"
	}
	return strings.Join(lines, "\n")
}

// colorize is Ansible's colorize: "lead=num" left-aligned in four
// columns for the number, coloured only when num is not zero.
func (p painter) colorize(lead string, num int, color string) string {
	s := fmt.Sprintf("%s=%-4d", lead, num)
	if num != 0 {
		s = p.stringc(s, color)
	}
	return s
}

// hostcolor is Ansible's hostcolor: the host padded to 26 visible
// columns, red when anything failed, yellow when something changed,
// green otherwise. Python pads the coloured string to 37 characters,
// which is 26 plus the 11 bytes of escape codes; we do the same.
func (p painter) hostcolor(host string, s Stats) string {
	if !p.on {
		return fmt.Sprintf("%-26s", host)
	}
	color := colorOK
	switch {
	case s.Failed != 0 || s.Unreachable != 0:
		color = colorError
	case s.Changed != 0:
		color = colorChanged
	}
	return fmt.Sprintf("%-37s", p.stringc(host, color))
}
