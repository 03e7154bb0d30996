// Package posit holds the end-to-end tests of the Posit Team roles and
// playbooks (roles/, playbooks/site.yml, playbooks/ha.yml): they deploy the
// stand-in products (package standin) onto testbed hosts with tend and
// check what issue 6 asks for. See README.md for what runs and how long it
// takes.
package posit
