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
)

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
