// Package deploy drives a Posit Team deployment onto testbed hosts with
// the stand-in packages: it builds tend and the stand-in .debs, serves
// them over HTTP on the bed's bridge, writes the extra variables that
// point the roles at them, and runs `tend play` with the JSON report.
// The integration tests (package posit) and the demo command use it.
package deploy
