package playground

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"strings"
	"testing"
	"time"
)

// TestRealGoPlaygroundKinds runs, through /compile as Go playground
// clients call it, programs of the kinds the Go playground ships as
// examples (our own programs, not copies): each must give what a reader
// who pastes it from go.dev/play expects.
func TestRealGoPlaygroundKinds(t *testing.T) {
	_, ts := newRealServer(t, nil)
	joined := func(r compileResponse) (all string, total time.Duration) {
		for _, e := range r.Events {
			all += e.Message
			total += e.Delay
		}
		return all, total
	}
	t.Run("http server over loopback", func(t *testing.T) {
		// A fixed port, as in the Go playground's example: each run has
		// its own network namespace with only a loopback interface.
		src := `package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

func main() {
	ln, err := net.Listen("tcp", "localhost:8080")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	http.HandleFunc("/greet", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "greetings over loopback") })
	go http.Serve(ln, nil)
	res, err := http.Get("http://localhost:8080/greet")
	if err != nil {
		fmt.Println("get:", err)
		os.Exit(1)
	}
	io.Copy(os.Stdout, res.Body)
}
`
		r := postCompile(t, ts.URL, map[string]string{"body": uniq(src), "version": "2"})
		if all, _ := joined(r); r.Errors != "" || r.Status != 0 || all != "greetings over loopback" {
			t.Errorf("response %+v", r)
		}
	})
	t.Run("image line", func(t *testing.T) {
		src := `package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

func main() {
	m := image.NewGray(image.Rect(0, 0, 5, 2))
	m.Set(2, 1, color.White)
	var b bytes.Buffer
	png.Encode(&b, m)
	fmt.Println("IMAGE:" + base64.StdEncoding.EncodeToString(b.Bytes()))
}
`
		r := postCompile(t, ts.URL, map[string]string{"body": uniq(src), "version": "2"})
		all, _ := joined(r)
		b64, ok := strings.CutPrefix(strings.TrimSuffix(all, "\n"), "IMAGE:")
		data, err := base64.StdEncoding.DecodeString(b64)
		if !ok || err != nil {
			t.Fatalf("output %q: %v", all, err)
		}
		if cfg, err := png.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width != 5 || cfg.Height != 2 {
			t.Errorf("the PNG printed: %+v, %v", cfg, err)
		}
	})
	t.Run("form feed frames in real time", func(t *testing.T) {
		// Real time, not the Go playground's fake clock: three 150-ms
		// sleeps take 450 ms of Delay, each frame an event of its own.
		src := `package main

import (
	"fmt"
	"strings"
	"time"
)

func main() {
	for i := 1; i <= 3; i++ {
		fmt.Printf("\f[%-3s]", strings.Repeat("=", i))
		time.Sleep(150 * time.Millisecond)
	}
	fmt.Print("\fdone")
}
`
		r := postCompile(t, ts.URL, map[string]string{"body": uniq(src), "version": "2"})
		all, total := joined(r)
		if want := "\f[=  ]\f[== ]\f[===]\fdone"; all != want {
			t.Errorf("output %q, want %q", all, want)
		}
		if len(r.Events) != 4 || total < 450*time.Millisecond {
			t.Errorf("%d events over %v, want 4 over at least 450ms", len(r.Events), total)
		}
	})
	t.Run("txtar with go.mod and packages", func(t *testing.T) {
		// The module's packages, a package's own test file (not run: the
		// program has main) and a go line of an old release (ignored).
		src := `package main

import (
	"fmt"

	"example.net/shop/cart"
	"example.net/shop/cart/price"
)

func main() {
	var c cart.Cart
	c.Add("tea", 350)
	c.Add("cake", 275)
	fmt.Println(len(c.Items), price.Format(c.Total()))
}
-- go.mod --
module example.net/shop

go 1.16
-- cart/cart.go --
package cart

type Cart struct{ Items map[string]int }

func (c *Cart) Add(name string, cents int) {
	if c.Items == nil {
		c.Items = map[string]int{}
	}
	c.Items[name] += cents
}

func (c *Cart) Total() (n int) {
	for _, v := range c.Items {
		n += v
	}
	return n
}
-- cart/cart_test.go --
package cart

import "testing"

func TestNeverRun(t *testing.T) { t.Fatal("a package's tests are not run") }
-- cart/price/price.go --
package price

import "fmt"

func Format(cents int) string { return fmt.Sprintf("$%d.%02d", cents/100, cents%100) }
`
		r := postCompile(t, ts.URL, map[string]string{"body": uniq(src), "version": "2"})
		if all, _ := joined(r); r.Errors != "" || r.IsTest || all != "2 $6.25\n" {
			t.Errorf("response %+v", r)
		}
	})
	t.Run("examples and TestMain run as tests", func(t *testing.T) {
		src := `package main

import (
	"fmt"
	"os"
	"testing"
)

func Half(n int) int { return n / 2 }

func TestMain(m *testing.M) {
	fmt.Println("before the tests")
	os.Exit(m.Run())
}

func TestHalf(t *testing.T) {
	if Half(9) != 4 {
		t.Error("Half(9)")
	}
}

func ExampleHalf() {
	fmt.Println(Half(10))
	// Output: 5
}

func ExampleHalf_wrong() {
	fmt.Println(Half(3))
	// Output: 1.5
}
`
		r := postCompile(t, ts.URL, map[string]string{"body": uniq(src), "version": "2"})
		all, _ := joined(r)
		if !r.IsTest || r.TestsFailed != 1 || r.Status != 1 || r.Errors != "" {
			t.Errorf("response %+v", r)
		}
		for _, want := range []string{"before the tests\n", "--- PASS: TestHalf", "--- PASS: ExampleHalf ", "--- FAIL: ExampleHalf_wrong", "got:\n1\nwant:\n1.5\n"} {
			if !strings.Contains(all, want) {
				t.Errorf("output %q lacks %q", all, want)
			}
		}
	})
}
