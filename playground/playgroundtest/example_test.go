package playgroundtest_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"playdoc/playground"
	"playdoc/playground/api"
	"playdoc/playground/playgroundtest"
)

// A client of the playground API tested against the real server: the
// //fake: lines script what the fake sandbox's program prints.
func Example() {
	srv, err := playgroundtest.Start(playground.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	code := "package main\n\n//fake:out stdout 10ms hello\n//fake:exit 3\n\nfunc main() {}\n"
	body, _ := json.Marshal(map[string]string{"code": code})
	resp, err := http.Post(srv.URL+"/api/run", "application/json", strings.NewReader(string(body)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var ev api.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			fmt.Println(err)
			return
		}
		switch ev.Kind {
		case api.KindStdout:
			fmt.Printf("stdout %q\n", ev.Data)
		case api.KindExit:
			fmt.Println("exit", ev.Code, ev.Message)
		}
	}
	fmt.Println("builds:", srv.Exec.Builds() > 0, "runs:", srv.Exec.Runs())
	// Output:
	// stdout "hello\n"
	// exit 3 exit status 3
	// builds: true runs: 1
}
