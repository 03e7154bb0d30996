package modules

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// copySource is one entry of a controller directory that copy copies.
type copySource struct {
	// rel is the destination path relative to the copied root ("/"
	// separated).
	rel string
	// dir: a directory to create.
	dir bool
	// link, when isLink, is the target of a symbolic link to create.
	link   string
	isLink bool
	// local is the controller file to copy (a followed link's target).
	local string
	perm  uint32
}

// devIno identifies a directory, to recognise a link back into the copy.
type devIno struct{ dev, ino uint64 }

func dirID(fi os.FileInfo) (devIno, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return devIno{}, false
	}
	return devIno{uint64(st.Dev), st.Ino}, true
}

// walkCopySource lists a controller directory the way Ansible's copy
// action (_walk_dirs) does. Without localFollow every symbolic link is
// copied as a link. With it, a link to a file is copied as that file and
// a link to a directory as a copy of that directory's tree, except a link
// that cannot be followed (dangling, a loop) or that points back to a
// directory the copy is already inside: those stay links.
func walkCopySource(top string, localFollow bool) ([]copySource, error) {
	var out []copySource
	topInfo, err := os.Stat(top)
	if err != nil {
		return nil, err
	}
	parents := map[devIno]bool{}
	if id, ok := dirID(topInfo); ok {
		parents[id] = true
	}
	out = append(out, copySource{rel: ".", dir: true})
	var walk func(dir, rel string, parents map[devIno]bool) error
	walk = func(dir, rel string, parents map[devIno]bool) error {
		des, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, de := range des {
			p := filepath.Join(dir, de.Name())
			r := path.Join(rel, de.Name())
			isLink := de.Type()&os.ModeSymlink != 0
			fi, statErr := os.Stat(p) // follows links
			switch {
			case statErr == nil && fi.IsDir() && !isLink:
				out = append(out, copySource{rel: r, dir: true})
				if err := walk(p, r, parents); err != nil {
					return err
				}
			case statErr == nil && fi.IsDir() && localFollow:
				id, _ := dirID(fi)
				newParents := ancestorsUntil(dir, parents)
				if parents[id] || newParents[id] {
					// A link back up the tree being copied.
					if err := appendLink(&out, p, r); err != nil {
						return err
					}
					continue
				}
				real, err := filepath.EvalSymlinks(p)
				if err != nil {
					return err
				}
				out = append(out, copySource{rel: r, dir: true})
				all := map[devIno]bool{}
				for k := range parents {
					all[k] = true
				}
				for k := range newParents {
					all[k] = true
				}
				if err := walk(real, r, all); err != nil {
					return err
				}
			case isLink && (!localFollow || statErr != nil || !fi.Mode().IsRegular()):
				if err := appendLink(&out, p, r); err != nil {
					return err
				}
			case statErr != nil:
				return statErr
			default:
				out = append(out, copySource{rel: r, local: p, perm: uint32(fi.Mode().Perm())})
			}
		}
		return nil
	}
	if err := walk(top, ".", parents); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, nil
}

// appendLink adds the symbolic link at p, to be created at rel.
func appendLink(out *[]copySource, p, rel string) error {
	target, err := os.Readlink(p)
	if err != nil {
		return fmt.Errorf("read link %s: %w", p, err)
	}
	*out = append(*out, copySource{rel: rel, isLink: true, link: target})
	return nil
}

// ancestorsUntil returns the directories from dir up to, not including,
// the first one already in known (Ansible's new_parents).
func ancestorsUntil(dir string, known map[devIno]bool) map[devIno]bool {
	found := map[devIno]bool{}
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			break
		}
		id, ok := dirID(fi)
		if !ok || known[id] {
			break
		}
		found[id] = true
		if d == filepath.Dir(d) {
			break
		}
	}
	return found
}

// linkCopyStep plans the symbolic link to target at p (inspected as st)
// of a directory copy, as Ansible's copy action does with the file
// module (state=link, force, follow=no): nothing when the link is there,
// else a step that replaces what is there (but a directory).
func linkCopyStep(h *module.Host, args module.Args, p, target string, st *RemoteStat) (func(context.Context) error, module.Diff, string) {
	if st.Type == "link" && st.LinkTarget == target {
		return nil, module.Diff{}, ""
	}
	if st.IsDir() {
		return nil, module.Diff{}, fmt.Sprintf("the directory %s is not empty, refusing to convert it", p)
	}
	cmd := "ln -sfn -- " + shell.Quote(target) + " " + shell.Quote(p)
	if a := attrCommand(p, args.String("owner"), args.String("group"), 0, false, true, false); a != "" {
		cmd += " && " + a
	}
	diff := attrDiff(p, map[string]any{"state": stateOf(st)}, map[string]any{"state": "link", "src": target})
	return func(ctx context.Context) error { return runOK(ctx, h, cmd, "link "+p+" to "+target) }, diff, ""
}

// walkOrder returns the indexes of srcs in os.walk's top-down order: the
// entries of a directory before those of its subdirectories, names in
// order at each level.
func walkOrder(srcs []copySource) []int {
	idx := make([]int, len(srcs))
	for i := range idx {
		idx[i] = i
	}
	dirs := func(rel string) []string {
		d := path.Dir(rel)
		if d == "." {
			return nil
		}
		return strings.Split(d, "/")
	}
	sort.SliceStable(idx, func(x, y int) bool {
		a, b := srcs[idx[x]].rel, srcs[idx[y]].rel
		da, db := dirs(a), dirs(b)
		for i := 0; i < len(da) && i < len(db); i++ {
			if da[i] != db[i] {
				return da[i] < db[i]
			}
		}
		if len(da) != len(db) {
			return len(da) < len(db)
		}
		return path.Base(a) < path.Base(b)
	})
	return idx
}
