// Command crowd sends one burst of hostile and harmless programs to a
// playground's /api/run at once, each request from its own loopback
// address (127.B.x.y, so the per-client rate limit does not apply), and
// counts the outcomes per kind: HTTP status (503 with its Retry-After),
// exit code and reason, the sleepers' output, and the slowest sleeper's
// time from request to exit. It checks admission and containment under a
// crowd: sleepers must finish beside memory hogs (240 and 350 MiB), fork,
// goroutine and thread bombs, and output floods.
//
//	playdoc playground --addr 127.0.0.1:8081 --rate -1 &
//	go run ./bench/crowd -mix sleeper:300,hog240:20,hog350:10,forkbomb:3,gorobomb:3,threadbomb:3
//
// Each kind is run once alone first (-warm), so that the burst finds its
// binary built.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"playdoc/bench/internal/loopback"
)

var progs = withHogs(map[string]string{
	"flood": "package main\n\nimport (\n\t\"bufio\"\n\t\"os\"\n\t\"strings\"\n)\n\nfunc main() {\n\tw := bufio.NewWriter(os.Stdout)\n\tline := strings.Repeat(\"x\", 100) + \"\\n\"\n\tfor {\n\t\tw.WriteString(line)\n\t}\n}\n",

	"sleeper": `package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("asleep")
	time.Sleep(3 * time.Second)
	fmt.Println("awake")
}
`,
	"forkbomb": `package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	exe, _ := os.Executable()
	fmt.Println("forking", exe)
	for i := 0; i < 4; i++ {
		go func() {
			for {
				syscall.ForkExec(exe, []string{exe}, &syscall.ProcAttr{})
			}
		}()
	}
	for {
		syscall.ForkExec(exe, []string{exe}, &syscall.ProcAttr{})
	}
}
`,
	"gorobomb": `package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("spawning")
	for i := 0; ; i++ {
		go func() { time.Sleep(time.Hour) }()
		if i%1000000 == 0 {
			fmt.Println(i)
		}
	}
}
`,
	"threadbomb": `package main

import (
	"fmt"
	"runtime"
	"syscall"
)

func main() {
	fmt.Println("threads")
	for i := 0; i < 10000; i++ {
		go func() {
			runtime.LockOSThread()
			var fds [2]int
			syscall.Pipe(fds[:])
			b := make([]byte, 1)
			syscall.Read(fds[0], b)
		}()
	}
	select {}
}
`,
})

// withHogs adds the memory hogs to progs: "hog240" and "hog350" take and
// touch that many MiB (one byte per page), hold it 5 s and print how much.
// The playground's limit per run is 256 MiB: hog350 passes it alone.
func withHogs(progs map[string]string) map[string]string {
	for _, mib := range []int{240, 350} {
		progs[fmt.Sprintf("hog%d", mib)] = fmt.Sprintf(`package main

import (
	"fmt"
	"time"
)

func main() {
	var keep [][]byte
	for i := 0; i < %d; i++ {
		b := make([]byte, 4<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		keep = append(keep, b)
	}
	fmt.Println("took", len(keep)*4, "MiB")
	time.Sleep(5 * time.Second)
	fmt.Println(len(keep))
}
`, mib/4)
	}
	return progs
}

type res struct {
	kind       string
	status     int
	retryAfter string
	code       int
	reason     string
	stdout     string
	err        string
	first, end time.Duration
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "crowd:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("url", "http://127.0.0.1:8081", "playground base URL")
	mix := flag.String("mix", "sleeper:20,hog350:10,forkbomb:5,gorobomb:5,threadbomb:5", "kind:count,... of "+strings.Join(slices.Sorted(maps.Keys(progs)), ", "))
	base := flag.Int("base", 10, "second octet of the clients' addresses (127.BASE.x.y)")
	warm := flag.Bool("warm", true, "run each kind once alone first, so that the burst finds it built")
	disc := flag.Duration("disconnect", 0, "drop each stream after this long (0: read to the end)")
	flag.Parse()
	counts := map[string]int{}
	var order []string
	for _, p := range strings.Split(*mix, ",") {
		k, ns, ok := strings.Cut(strings.TrimSpace(p), ":")
		n, err := strconv.Atoi(ns)
		if _, known := progs[k]; !ok || err != nil || n < 0 || !known {
			return fmt.Errorf("-mix: %q is not KIND:COUNT with a kind among %s", p, strings.Join(slices.Sorted(maps.Keys(progs)), ", "))
		}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k] += n
		if *warm {
			r := one(*url, client(0, *base), k, *disc)
			fmt.Printf("warm %s: %+v\n", k, r)
		}
	}
	// Interleaved, so that every kind is among the first requests.
	var kinds []string
	for {
		added := false
		for _, k := range order {
			if counts[k] > 0 {
				kinds, counts[k], added = append(kinds, k), counts[k]-1, true
			}
		}
		if !added {
			break
		}
	}
	out := make([]res, len(kinds))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, k := range kinds {
		c := client(i+1, *base)
		wg.Add(1)
		go func() { defer wg.Done(); <-start; out[i] = one(*url, c, k, *disc) }()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	fmt.Printf("burst of %d done in %v\n", len(kinds), time.Since(t0).Round(time.Millisecond))
	type key struct{ kind, outcome string }
	count := map[key]int{}
	var maxSleeperEnd time.Duration
	for _, r := range out {
		o := fmt.Sprintf("status=%d", r.status)
		if r.status == 503 {
			o += " retry-after=" + r.retryAfter
		}
		if r.status == 200 {
			o += fmt.Sprintf(" code=%d reason=%q", r.code, r.reason)
			if r.kind == "sleeper" {
				o += fmt.Sprintf(" stdout=%q", r.stdout)
				if r.end > maxSleeperEnd {
					maxSleeperEnd = r.end
				}
			}
		}
		if r.err != "" {
			o += " err=" + r.err
		}
		count[key{r.kind, o}]++
	}
	var ks []key
	for k := range count {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].kind+ks[i].outcome < ks[j].kind+ks[j].outcome })
	for _, k := range ks {
		fmt.Printf("%4d  %-10s %s\n", count[k], k.kind, k.outcome)
	}
	fmt.Println("slowest sleeper exit:", maxSleeperEnd.Round(time.Millisecond))
	return nil
}

// client is loopback.Client with room for a run's whole stream.
func client(i, base int) *http.Client {
	c := loopback.Client(i, base)
	c.Timeout = 120 * time.Second
	return c
}

// one runs a program of kind and reads its stream to the exit event, or
// drops it after disconnect (when > 0).
func one(url string, c *http.Client, kind string, disconnect time.Duration) (r res) {
	r.kind = kind
	t0 := time.Now()
	body, _ := json.Marshal(map[string]string{"code": progs[kind]})
	ctx := context.Background()
	if disconnect > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, disconnect)
		defer cancel()
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/api/run", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		r.err = err.Error()
		return
	}
	defer resp.Body.Close()
	r.status = resp.StatusCode
	r.retryAfter = resp.Header.Get("Retry-After")
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 503 {
			r.err = strings.TrimSpace(string(b))
		}
		return
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			r.err = fmt.Sprintf("bad event %q: %v", sc.Bytes(), err)
			return
		}
		switch ev["kind"] {
		case "stdout":
			if r.first == 0 {
				r.first = time.Since(t0)
			}
			if s, ok := ev["data"].(string); ok {
				r.stdout += s
			} else if s, ok := ev["text"].(string); ok {
				r.stdout += s
			}
		case "exit":
			r.end = time.Since(t0)
			if c, ok := ev["code"].(float64); ok {
				r.code = int(c)
			}
			r.reason, _ = ev["reason"].(string)
			if m, _ := ev["message"].(string); m != "" && r.reason != "oom" && r.reason != "" {
				r.err = m
			}
			return
		case "error", "compile-error":
			r.err = fmt.Sprint(ev)
			return
		}
	}
	r.err = "no exit event: " + fmt.Sprint(sc.Err())
	return
}
