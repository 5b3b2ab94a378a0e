// Command corpus writes the synthetic benchmark corpus (see package
// playdoc/site/corpus) for playdoc or for Hugo, for bench/hugo.sh.
//
//	go run ./bench/corpus -form playdoc -n 1000 -out bench/out/playdoc
//	go run ./bench/corpus -form hugo -n 1000 -out bench/out/hugo
package main

import (
	"flag"
	"fmt"
	"os"

	"playdoc/site/corpus"
)

func main() {
	n := flag.Int("n", 1000, "number of pages")
	form := flag.String("form", "playdoc", "playdoc or hugo")
	out := flag.String("out", "", "output folder (required; emptied first)")
	flag.Parse()
	if err := run(*n, *form, *out); err != nil {
		fmt.Fprintln(os.Stderr, "corpus:", err)
		os.Exit(1)
	}
}

func run(n int, form, out string) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	var f corpus.Form
	switch form {
	case "playdoc":
		f = corpus.Playdoc
	case "hugo":
		f = corpus.Hugo
	default:
		return fmt.Errorf("unknown -form %q (playdoc or hugo)", form)
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	return corpus.Write(out, n, f)
}
