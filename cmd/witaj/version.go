package main

import (
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/witaj/witaj/knowledge"
)

// version prints the build (module version and VCS revision) and the
// built-in FAQ's version.
func (env *environment) version(args []string) error {
	fl := env.flagSet("version")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	build := "unknown build"
	if info, ok := debug.ReadBuildInfo(); ok {
		build = info.Main.Version
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				build += " " + s.Value
			case "vcs.modified":
				if s.Value == "true" {
					build += " (modified)"
				}
			}
		}
		build += ", " + info.GoVersion
	}
	base, _, err := knowledge.Load(knowledge.DefaultFS(), knowledge.Options{})
	faq := "built-in FAQ does not load: " + fmt.Sprint(err)
	if err == nil {
		faq = "built-in FAQ " + base.Version().String()
	}
	fmt.Fprintf(env.stdout, "witaj %s; %s\n", build, faq)
	return nil
}

// healthcheck asks the local admin listener whether the service is ready
// (/readyz answers 200): the container's health check, which distroless
// images cannot do with curl.
func (env *environment) healthcheck(args []string) error {
	fl := env.flagSet("healthcheck")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	addr := or(env.getenv("WITAJ_ADMIN_LISTEN"), "127.0.0.1:9090")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("WITAJ_ADMIN_LISTEN=%q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/readyz")
	if err != nil {
		fmt.Fprintln(env.stderr, "witaj healthcheck: not reachable:", err)
		return exitError(1)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(env.stderr, "witaj healthcheck: not ready:", resp.Status)
		return exitError(1)
	}
	return nil
}
