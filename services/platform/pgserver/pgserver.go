// Package pgserver runs a private PostgreSQL cluster from the server binaries on this machine:
// initdb into a folder of ours, pg_ctl start on a loopback port, create databases, stop. Tests,
// `houqin dev` and the benchmarks use it; nothing is installed or configured system-wide.
package pgserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"houqin.dev/platform/netutil"
)

// Options say how to run the cluster.
type Options struct {
	// Dir holds the cluster (Dir/data) and its log (Dir/postgres.log).
	Dir string
	// Port to listen on, 127.0.0.1 only; 0 picks a free one (remembered in Dir/port).
	Port int
	// Durable keeps fsync on. Tests turn it off for speed; `houqin dev` and benchmarks keep it.
	Durable bool
	// Settings are extra postgresql.conf settings passed with -c.
	Settings map[string]string
}

// Server is a running cluster.
type Server struct {
	opts    Options
	bin     string
	port    int
	cred    *syscall.Credential
	started bool
}

// User is the superuser name of clusters made here.
const User = "houqin"

// Major is the PostgreSQL major version Houqin is built and tested against.
const Major = 15

// FindBin returns the directory holding initdb and pg_ctl: $HOUQIN_PG_BIN, Debian's
// PostgreSQL 15, the PATH, or the newest /usr/lib/postgresql/*/bin.
func FindBin() (string, error) {
	if d := os.Getenv("HOUQIN_PG_BIN"); d != "" {
		return d, nil
	}
	if d := fmt.Sprintf("/usr/lib/postgresql/%d/bin", Major); fileExists(filepath.Join(d, "initdb")) {
		return d, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		// Debian links a few binaries into the PATH; pg_ctl and pgbench live beside the
		// real one.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("pgserver: PostgreSQL server binaries not found (run `make deps` or set HOUQIN_PG_BIN)")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func pgMajor(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start creates the cluster if Dir has none, then starts it. A cluster left running by a
// previous process on the same folder is stopped and started again.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	// pg_ctl runs in Dir: every path handed to it must be absolute.
	if opts.Dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, err
	}
	s := &Server{opts: opts, bin: bin}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	// PostgreSQL refuses to run as root: run it as the postgres (or nobody) user then.
	if os.Geteuid() == 0 {
		cred, err := unprivileged()
		if err != nil {
			return nil, err
		}
		s.cred = cred
		if err := openPath(opts.Dir); err != nil {
			return nil, err
		}
		if err := os.Chown(opts.Dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := s.DataDir()
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		if err := s.run(ctx, "initdb", "-D", data, "-U", User, "-A", "trust", "-E", "UTF8",
			"--locale=C.UTF-8", "-N"); err != nil {
			return nil, fmt.Errorf("pgserver: initdb: %w", err)
		}
	}
	s.port = opts.Port
	if s.port == 0 {
		if s.port, err = netutil.StickyPort(filepath.Join(opts.Dir, "port")); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
		_ = s.run(ctx, "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
	}

	settings := map[string]string{
		"listen_addresses":          "127.0.0.1",
		"port":                      strconv.Itoa(s.port),
		"unix_socket_directories":   data,
		"max_connections":           "200",
		"shared_buffers":            "256MB",
		"max_wal_size":              "2GB",
		"log_min_messages":          "warning",
		"log_min_error_statement":   "panic",
		"autovacuum_naptime":        "10s",
		"max_prepared_transactions": "0",
	}
	if !opts.Durable {
		settings["fsync"] = "off"
		settings["synchronous_commit"] = "off"
		settings["full_page_writes"] = "off"
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var o []string
	for _, k := range keys {
		o = append(o, fmt.Sprintf("-c %s=%s", k, settings[k]))
	}
	if err := s.run(ctx, "pg_ctl", "-D", data, "-l", filepath.Join(opts.Dir, "postgres.log"), "-w", "-t", "60",
		"-o", strings.Join(o, " "), "start"); err != nil {
		return nil, fmt.Errorf("pgserver: start: %w (log: %s)", err, filepath.Join(opts.Dir, "postgres.log"))
	}
	s.started = true
	return s, nil
}

// DataDir is the cluster's data directory.
func (s *Server) DataDir() string { return filepath.Join(s.opts.Dir, "data") }

// Port is the TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Bin is the directory of the server binaries (pgbench lives there too).
func (s *Server) Bin() string { return s.bin }

// URL returns the connection URL of database db.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", User, s.port, db)
}

// CreateDatabase creates db unless it exists.
func (s *Server) CreateDatabase(ctx context.Context, db string) error {
	return EnsureDatabase(ctx, s.URL("postgres"), db)
}

// EnsureDatabase creates database db on the server of adminURL unless it exists.
func EnsureDatabase(ctx context.Context, adminURL, db string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname=$1)`, db).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	return err
}

// Stop shuts the cluster down (fast mode: sessions end, committed work is kept).
func (s *Server) Stop() error {
	if !s.started {
		return nil
	}
	s.started = false
	return s.run(context.Background(), "pg_ctl", "-D", s.DataDir(), "-m", "fast", "-w", "stop")
}

func (s *Server) run(ctx context.Context, prog string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, prog), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = s.opts.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", prog, err, strings.TrimSpace(out.String()))
	}
	return nil
}

func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pgserver: running as root and no postgres or nobody user to run PostgreSQL as")
}

// openPath makes every parent of dir traversable, so the unprivileged server can reach it.
func openPath(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := filepath.Dir(abs); p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o011); err != nil {
				return err
			}
		}
	}
	return nil
}

// WaitReady polls until the server accepts connections or the deadline passes.
func (s *Server) WaitReady(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
