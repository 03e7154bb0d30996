// Package modules is tend's module library: one file per module, each
// holding its argument spec, its read-only Plan step, its Apply step and
// its documentation. Registry lists them all.
package modules
