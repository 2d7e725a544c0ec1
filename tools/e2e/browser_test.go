package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// browser drives headless Chromium through the DevTools protocol.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("HOUQIN_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	// `make test` installs Chromium; a missing browser is a failure, not a skip.
	t.Fatal("Chromium not found: run `make deps` (installs Debian's chromium) or set HOUQIN_CHROMIUM")
	return ""
}

// browse opens url in a fresh headless Chromium and runs steps.
func browse(t *testing.T, url string, steps func(*browser)) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	steps(&browser{t: t, ctx: ctx})
}

// waitText waits until the element's text contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var text string
	for time.Now().Before(deadline) {
		got, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
		text = got
		if err == nil && strings.Contains(text, want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	errText, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("#error")))
	b.t.Fatalf("%s shows %q, want it to contain %q (page error: %q)", sel, text, want, errText)
}

func (b *browser) click(sel string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
}

// download clicks sel and returns the file the page saved, once it is complete.
func (b *browser) download(sel, suffix string) []byte {
	b.t.Helper()
	dir := b.t.TempDir()
	t := true
	if err := chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: &t})
		return err
	})); err != nil {
		b.t.Fatalf("allow downloads: %v", err)
	}
	b.click(sel)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(dir, "*"+suffix))
		if len(files) == 1 {
			if data, err := os.ReadFile(files[0]); err == nil && len(data) > 0 {
				return data
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	errText, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("#error")))
	b.t.Fatalf("no %s file downloaded by %s (page error: %q)", suffix, sel, errText)
	return nil
}

// fill sets the value of a form field (input, textarea or select).
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.CSS(sel), value)); err != nil {
		b.t.Fatalf("fill %s: %v", sel, err)
	}
}

// until clicks the buttons of refresh, in turn, until the element's text satisfies ok (the read
// models follow a command within moments).
func (b *browser) until(sel string, ok func(string) bool, refresh ...string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var text string
	for time.Now().Before(deadline) {
		got, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
		text = got
		if err == nil && ok(text) {
			return
		}
		for _, r := range refresh {
			b.click(r)
		}
		time.Sleep(time.Second) // the page loads again; a hidden element has no text meanwhile
	}
	errText, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("#error")))
	b.t.Fatalf("%s still shows %q (page error: %q)", sel, text, errText)
}
