// Package netutil picks loopback ports for the servers Houqin runs itself.
package netutil

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// FreePort returns a port free on 127.0.0.1 now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PortFree reports whether port can be listened on at 127.0.0.1.
func PortFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// StickyPort returns the port remembered in file if it is free, else a new free one, and
// remembers the result in file: a server of a data folder keeps its address across runs, and
// other commands (houqin token, verify) can find it.
func StickyPort(file string) (int, error) {
	if b, err := os.ReadFile(file); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 && PortFree(p) {
			return p, nil
		}
	}
	p, err := FreePort()
	if err != nil {
		return 0, err
	}
	return p, os.WriteFile(file, []byte(strconv.Itoa(p)), 0o644)
}
