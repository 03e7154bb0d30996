// Package posit holds the end-to-end tests of the Posit Team roles and
// playbooks (roles/, playbooks/site.yml, playbooks/ha.yml): they deploy the
// stand-in products (package standin) onto testbed hosts with tend and
// check the deployed products (health, databases, wiring, clustering,
// failover, a second run changing nothing). See README.md for what runs and how long it
// takes.
package posit
