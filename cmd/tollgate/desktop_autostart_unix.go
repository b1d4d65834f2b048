//go:build !windows && !darwin

package main

import (
	"os"
	"path/filepath"
	"strings"
)

// newAutostart is the XDG autostart entry: $XDG_CONFIG_HOME/autostart/tollgate.desktop,
// which desktop sessions (GNOME, KDE, Xfce, …) launch at login.
func newAutostart(args []string) (autostartEntry, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return autostartEntry{}, err
	}
	return autostartEntry{path: filepath.Join(base, "autostart", "tollgate.desktop"), args: args}, nil
}

func (e autostartEntry) enabled() bool { return fileExists(e.path) }

func (e autostartEntry) enable() error {
	exe, err := executable()
	if err != nil {
		return err
	}
	quoted := []string{quoteExec(exe)}
	for _, a := range e.args {
		quoted = append(quoted, quoteExec(a))
	}
	text := strings.Join([]string{
		"[Desktop Entry]",
		"Type=Application",
		"Name=Tollgate",
		"Comment=LLM gateway with budgets (tray)",
		"Exec=" + strings.Join(quoted, " "),
		"Icon=tollgate",
		"Terminal=false",
		"X-GNOME-Autostart-enabled=true",
		"",
	}, "\n")
	if err := os.MkdirAll(filepath.Dir(e.path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(e.path, []byte(text), 0o644)
}

func (e autostartEntry) disable() error { return removeIfExists(e.path) }

// quoteExec quotes an Exec= argument per the Desktop Entry specification.
func quoteExec(s string) string {
	if !strings.ContainsAny(s, " \t\"'\\$`<>|;&*?#()") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", `$`, `\$`)
	return `"` + r.Replace(s) + `"`
}
