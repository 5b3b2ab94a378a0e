// Command corpus writes the synthetic benchmark corpus (see package
// playdoc/site/corpus) for playdoc or for Hugo, for bench/hugo.sh.
//
//	go run ./bench/corpus -form playdoc -n 1000 -out bench/out/playdoc
//	go run ./bench/corpus -form hugo -n 1000 -out bench/out/hugo
//	go run ./bench/corpus -form playdoc -n 1000 -sections 20 -out bench/out/playdoc
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
	sections := flag.Int("sections", 0, "number of section folders (0: one flat folder)")
	out := flag.String("out", "", "output folder (required; emptied first)")
	flag.Parse()
	if err := run(corpus.Shape{Pages: *n, Sections: *sections}, *form, *out); err != nil {
		fmt.Fprintln(os.Stderr, "corpus:", err)
		os.Exit(1)
	}
}

func run(shape corpus.Shape, form, out string) error {
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
	return shape.Write(out, f)
}
