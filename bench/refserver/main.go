// Command refserver is the reference for tsprov's start-up benchmark: the
// smallest net/http server that prints a ready line and answers /healthz.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "{\"msg\":\"tsprov serving\",\"url\":\"http://%s/AdminService/wmi/\"}\n", ln.Addr())
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	_ = http.Serve(ln, nil)
}
