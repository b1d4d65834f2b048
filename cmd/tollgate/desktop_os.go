package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// openURL opens target (a URL or a local file) in the user's browser: the
// configured command (TOLLGATE_BROWSER) or the platform's opener. It does not wait
// for the browser.
func openURL(browser, target string) error {
	var cmd *exec.Cmd
	switch {
	case browser != "":
		fields := strings.Fields(browser)
		cmd = exec.Command(fields[0], append(fields[1:], target)...)
	case runtime.GOOS == "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", target)
	case runtime.GOOS == "darwin":
		cmd = exec.Command("open", target)
	default:
		cmd = exec.Command("xdg-open", target)
	}
	if err := cmd.Start(); err != nil {
		return errkind.Wrap(errkind.Unavailable, err, "cannot start a browser (set TOLLGATE_BROWSER to a command that opens URLs)")
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// copyToClipboard puts text on the clipboard with the platform's tool: clip on
// Windows, pbcopy on macOS, wl-copy, xclip or xsel on Linux.
func copyToClipboard(text string) error {
	var candidates [][]string
	switch runtime.GOOS {
	case "windows":
		candidates = [][]string{{"clip"}}
	case "darwin":
		candidates = [][]string{{"pbcopy"}}
	default:
		candidates = [][]string{{"wl-copy"}, {"xclip", "-selection", "clipboard"}, {"xsel", "--clipboard", "--input"}}
	}
	for _, c := range candidates {
		if _, err := exec.LookPath(c[0]); err != nil {
			continue
		}
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Stdin = strings.NewReader(text)
		return cmd.Run()
	}
	return errkind.New(errkind.Unavailable, "no clipboard tool found (install wl-clipboard, xclip or xsel)")
}

// autostartEntry is the platform's start-at-login entry for this executable.
type autostartEntry struct {
	// path is the file the entry lives in (empty on Windows: the registry).
	path string
	// args are the arguments after the executable ("desktop", maybe --data-dir).
	args []string
}

func executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return exe, nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
