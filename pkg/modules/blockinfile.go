package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/pyre"
)

// BlockInFile is Ansible's blockinfile module: insert, update or remove a
// block of lines surrounded by marker lines.
type BlockInFile struct{}

var _ module.Module = (*BlockInFile)(nil)

var blockInFileSpec = &module.Spec{
	Name:  "blockinfile",
	Short: "Insert, update or remove a block of lines between marker lines",
	Description: `Manages a block of text surrounded by customizable marker lines. An existing block
(found by its two markers) is replaced in place; otherwise the block is inserted after the
last line matching insertafter (EOF by default) or before the last line matching
insertbefore (or BOF). state=absent removes the block and its markers. The file is
edited on the controller and written back atomically only when it changes.`,
	Args: append([]module.Arg{
		{Name: "path", Aliases: []string{"dest", "destfile", "name"}, Type: module.Path, Expand: true, Required: true, Doc: "The file to modify."},
		{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "Whether the block should be there or not."},
		{Name: "marker", Type: module.String, Default: "# {mark} ANSIBLE MANAGED BLOCK", Doc: "The marker line template; {mark} is replaced by marker_begin or marker_end. Use a distinct marker per block in the same file."},
		{Name: "block", Aliases: []string{"content"}, Type: module.String, Content: true, Default: "", Doc: "The text to insert between the markers. An empty block removes the block, like state=absent."},
		{Name: "insertafter", Type: module.String, Doc: "Without an existing block: insert after the last line matching this regular expression, or EOF (default)."},
		{Name: "insertbefore", Type: module.String, Doc: "Without an existing block: insert before the last line matching this regular expression, or BOF."},
		{Name: "create", Type: module.Bool, Default: false, Doc: "Create the file if it does not exist."},
		{Name: "backup", Type: module.Bool, Default: false, Doc: "Keep a copy of the old file named FILE.PID.YYYY-MM-DD@HH:MM:SS~."},
		{Name: "validate", Type: module.String, Doc: "Command run on the new file before it replaces the old one; %s is its path."},
		{Name: "marker_begin", Type: module.String, Default: "BEGIN", Doc: "Replaces {mark} in the opening marker."},
		{Name: "marker_end", Type: module.String, Default: "END", Doc: "Replaces {mark} in the closing marker."},
		{Name: "append_newline", Type: module.Bool, Default: false, Doc: "Add a blank line after the inserted block unless one is already there or the block ends the file (Ansible 2.16)."},
		{Name: "prepend_newline", Type: module.Bool, Default: false, Doc: "Add a blank line before the inserted block unless one is already there or the block starts the file (Ansible 2.16)."},
	}, fileAttrArgs()...),
	MutuallyExclusive: [][]string{{"insertbefore", "insertafter"}},
	Check:             module.CheckFull,
	Diff:              true,
	Examples: `- name: Add mappings to /etc/hosts
  blockinfile:
    path: /etc/hosts
    block: |
      192.0.2.10 db1
      192.0.2.11 db2
    marker: "# {mark} tend managed: db hosts"

- name: Insert a match block before the last Match line of sshd_config
  blockinfile:
    path: /etc/ssh/sshd_config
    insertbefore: '^Match '
    block: |
      PasswordAuthentication no
    validate: /usr/sbin/sshd -T -f %s

- name: Remove the block
  blockinfile:
    path: /etc/hosts
    marker: "# {mark} tend managed: db hosts"
    state: absent`,
}

// Spec implements module.Module.
func (*BlockInFile) Spec() *module.Spec { return blockInFileSpec }

// BlockEdit holds blockinfile's edit arguments; nil pointers were not
// given.
type BlockEdit struct {
	Present                        bool
	Block                          string
	Marker, MarkerBegin, MarkerEnd string
	InsertAfter, InsertBefore      *string
	AppendNewline, PrependNewline  bool
}

var multilineFlag = regexp.MustCompile(`^\(\?[a-zA-Z]*m[a-zA-Z]*\)`)

// blockApply applies a blockinfile edit to content (exists says whether
// the file exists) following Ansible's algorithm, and returns the new
// content and Ansible's message ("Block inserted", "Block removed", "File
// created", or "" when nothing changes): an old block between the markers
// is cut out and the new one goes where it was, or else at the anchor
// (blockInsertAt).
func blockApply(content string, exists bool, e BlockEdit) (string, string, error) {
	lines := splitLinesKeep(content)
	if e.InsertAfter == nil && e.InsertBefore == nil {
		eof := "EOF"
		e.InsertAfter = &eof
	}
	var insRe *pyre.Regexp
	var err error
	switch {
	case e.InsertAfter != nil && *e.InsertAfter != "EOF":
		insRe, err = compilePyRegexp("insertafter", *e.InsertAfter, bytesPattern)
	case e.InsertBefore != nil && *e.InsertBefore != "BOF":
		insRe, err = compilePyRegexp("insertbefore", *e.InsertBefore, bytesPattern)
	}
	if err != nil {
		return "", "", err
	}
	marker0 := strings.ReplaceAll(e.Marker, "{mark}", e.MarkerBegin) + "\n"
	marker1 := strings.ReplaceAll(e.Marker, "{mark}", e.MarkerEnd) + "\n"
	var blockLines []string
	if e.Present && e.Block != "" {
		block := e.Block
		if !strings.HasSuffix(block, "\n") {
			block += "\n"
		}
		blockLines = append([]string{marker0}, splitLinesKeep(block)...)
		blockLines = append(blockLines, marker1)
	}
	n0, n1 := -1, -1
	for i, l := range lines {
		if l == marker0 {
			n0 = i
		}
		if l == marker1 {
			n1 = i
		}
	}
	switch {
	case n0 == -1 || n1 == -1:
		if n0, err = blockInsertAt(content, lines, insRe, e); err != nil {
			return "", "", err
		}
	case n0 < n1:
		lines = append(lines[:n0], lines[n1+1:]...)
	default:
		lines = append(lines[:n1], lines[n0+1:]...)
		n0 = n1
	}
	result := strings.Join(placeBlock(lines, min(n0, len(lines)), blockLines, e), "")
	switch {
	case exists && content == result:
		return content, "", nil
	case !exists:
		if result == "" {
			return "", "", nil
		}
		return result, "File created", nil
	case len(blockLines) == 0:
		return result, "Block removed", nil
	}
	return result, "Block inserted", nil
}

// blockInsertAt returns the line a block without markers in the file
// goes before: after the last line insRe matches (before it, for
// insertbefore), at the end when nothing matches, at the top for
// insertbefore=BOF. A pattern with the (?m) flag is matched against the
// whole content, as Python's re.search would.
func blockInsertAt(content string, lines []string, insRe *pyre.Regexp, e BlockEdit) (int, error) {
	if insRe == nil {
		if e.InsertBefore != nil {
			return 0, nil
		}
		return len(lines), nil
	}
	n := -1
	if multilineFlag.MatchString(insRe.String()) {
		m, err := insRe.Search(content)
		if err != nil {
			return 0, err
		}
		if m != nil {
			if e.InsertAfter != nil && *e.InsertAfter != "" {
				n = strings.Count(content[:m[1]], "\n")
			} else if e.InsertBefore != nil && *e.InsertBefore != "" {
				n = strings.Count(content[:m[0]], "\n")
			}
		}
	} else {
		for i, l := range lines {
			hit, err := insRe.MatchString(l)
			if err != nil {
				return 0, err
			}
			if hit {
				n = i
			}
		}
	}
	switch {
	case n == -1:
		return len(lines), nil
	case e.InsertAfter != nil:
		return n + 1, nil
	}
	return n, nil
}

// placeBlock inserts blockLines at line n, ending the line before with a
// newline and adding the blank lines prepend_newline and append_newline
// ask for.
func placeBlock(lines []string, n int, blockLines []string, e BlockEdit) []string {
	if n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		lines[n-1] += "\n"
	}
	if e.PrependNewline && e.Present && len(blockLines) > 0 && n != 0 && lines[n-1] != "\n" {
		lines = insertLines(lines, n, "\n")
		n++
	}
	lines = insertLines(lines, n, blockLines...)
	if e.AppendNewline && e.Present && len(blockLines) > 0 {
		after := n + len(blockLines)
		if after < len(lines) && lines[after] != "\n" {
			lines = insertLines(lines, after, "\n")
		}
	}
	return lines
}

func insertLines(lines []string, at int, ins ...string) []string {
	out := make([]string, 0, len(lines)+len(ins))
	out = append(out, lines[:at]...)
	out = append(out, ins...)
	return append(out, lines[at:]...)
}

// Plan implements module.Module.
func (*BlockInFile) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	path := args.String("path")
	mode, msg := editArgs(args)
	if msg != "" {
		return module.Unchanged(module.Failed("%s", msg)), nil
	}
	st, isDir, err := readForEdit(ctx, h, path)
	if err != nil || isDir != nil {
		return isDir, err
	}
	present := args.String("state") == "present"
	if !st.Exists {
		if !present {
			return module.Unchanged(module.Result{"msg": fmt.Sprintf("File %s not present", path)}), nil
		}
		if !args.Bool("create") {
			return module.Unchanged(module.Result{"failed": true, "rc": 257, "msg": fmt.Sprintf("Path %s does not exist !", path)}), nil
		}
	} else if !st.HasContent {
		return module.Unchanged(module.Failed("cannot read %s: not a readable regular file", path)), nil
	}
	after, msg, err := blockApply(string(st.Content), st.Exists, BlockEdit{
		Present: present, Block: args.String("block"),
		Marker: args.String("marker"), MarkerBegin: args.String("marker_begin"), MarkerEnd: args.String("marker_end"),
		InsertAfter: optString(args, "insertafter"), InsertBefore: optString(args, "insertbefore"),
		AppendNewline: args.Bool("append_newline"), PrependNewline: args.Bool("prepend_newline"),
	})
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	dest := st.Path
	if st.RealPath != "" {
		dest = st.RealPath
	}
	cc := &contentChange{
		Path: dest, St: st, After: []byte(after),
		Owner: args.String("owner"), Group: args.String("group"), Mode: mode,
		Backup: args.Bool("backup"), Validate: args.String("validate"),
		DiffHeader: path + " (content)", AttrHeader: path + " (file attributes)",
	}
	if !st.Exists && msg == "" {
		// Nothing to write into a file that does not exist.
		return module.Unchanged(module.Result{"msg": ""}), nil
	}
	return planEdit(h, cc, module.Result{}, msg)
}
