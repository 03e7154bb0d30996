// Command posit-standin is the multi-call program behind the stand-in
// Posit products (see package standin): installed under the products' real
// program names, it acts as the one it is run as.
package main

import (
	"os"

	"github.com/tend-dev/tend/integration/posit/standin"
)

func main() {
	os.Exit(standin.Main(os.Args, os.Stdout, os.Stderr))
}
