package template

import (
	"context"
	"fmt"
)

// Bounds on what one template may build, so that a template cannot
// exhaust memory; each fails like Python's MemoryError. See also maxDepth,
// maxRepeat and maxRendered (eval.go) and maxNesting (engine.go).
const (
	// maxRange bounds the length of range(), which tend builds as a list.
	maxRange = 1_000_000
	// maxWork bounds the steps of one render, its lookup('template') and
	// {% include %} renders included: loop iterations, macro calls and
	// range() items. Output and memory are bounded elsewhere, but nested
	// loops with an empty body produce neither and would run for hours
	// (three nested range(1000) loops are 10^9 iterations); a few million
	// steps take seconds, far more than any configuration file needs.
	maxWork = 2_000_000
)

// errTooMuchWork is returned once a render has used up maxWork.
var errTooMuchWork = fmt.Errorf("template does too much work: more than %d loop iterations, macro calls and range() items in one render", maxWork)

// workBudget is what is left of maxWork for one render; renders started by
// it (lookup('template'), include) share it.
type workBudget struct{ left int }

// budget is the render's work budget, made on first use and shared with
// the renders it starts (renderFile).
func (s *state) budget() *workBudget {
	if s.work == nil {
		s.work = &workBudget{left: s.e.workLimit}
	}
	return s.work
}

// spend takes n steps from the render's budget.
func (s *state) spend(n int) error {
	w := s.budget()
	w.left -= n
	if w.left < 0 {
		return errTooMuchWork
	}
	return nil
}

// tooLong reports whether n copies of something of length size exceed
// maxRepeat, without overflowing.
func tooLong(size, n int) bool {
	return size > 0 && n > 0 && n > maxRepeat/size
}

// rangeLen returns the number of items of range(start, stop, step), step
// not zero, without overflowing. Python's range is lazy, tend's is a list:
// counting first makes a huge range fail at once instead of after filling
// memory.
func rangeLen(start, stop, step int) uint64 {
	switch {
	case step > 0 && start < stop:
		return (uint64(stop)-uint64(start)-1)/uint64(step) + 1
	case step < 0 && start > stop:
		return (uint64(start)-uint64(stop)-1)/(uint64(-(step+1))+1) + 1
	}
	return 0
}

// canceled returns an error once the engine's context is cancelled, so
// loops, filters and recursion stop when tend is interrupted.
func (s *state) canceled() error {
	if s.e.ctx != nil && s.e.ctx.Err() != nil {
		return fmt.Errorf("rendering stopped: %w", context.Cause(s.e.ctx))
	}
	return nil
}

// spendOnResult charges what building an operator's result cost: one step
// per list item, one per KiB of text, so that a loop repeating a large
// 'x' * n or [x] * n (each bounded by maxRepeat) is bounded as a whole.
func (s *state) spendOnResult(v any) error {
	switch v := v.(type) {
	case []any:
		return s.spend(len(v))
	case string:
		return s.spend(len(v) >> 10)
	}
	return nil
}
