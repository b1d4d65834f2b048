// Command oidc-provider runs a real OpenID provider on loopback for the
// console's end-to-end run (scripts/e2e.sh): the zitadel OIDC library's op
// package with its login form, one web client and the users given by -user.
// It prints "issuer <url>" once it listens and runs until killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tollgate-dev/tollgate/internal/testoidc"
)

type users []testoidc.User

func (u *users) String() string { return fmt.Sprint(len(*u)) }

// Set parses username:password:email[:group+group].
func (u *users) Set(v string) error {
	p := strings.SplitN(v, ":", 4)
	if len(p) < 3 {
		return fmt.Errorf("-user %q: want username:password:email[:group+group]", v)
	}
	x := testoidc.User{ID: "user-" + p[0], Username: p[0], Password: p[1], Email: p[2], EmailVerified: true, Name: p[0]}
	if len(p) == 4 && p[3] != "" {
		x.Groups = strings.Split(p[3], "+")
	}
	*u = append(*u, x)
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	clientID := flag.String("client-id", "tollgate", "the client's id")
	secret := flag.String("client-secret", "", "the client's secret")
	redirect := flag.String("redirect-uri", "", "the client's redirect URI")
	var us users
	flag.Var(&us, "user", "username:password:email[:group+group] (repeatable)")
	flag.Parse()
	if !strings.HasPrefix(*addr, "127.0.0.1:") {
		log.Fatal("oidc-provider: listen on 127.0.0.1 only")
	}
	p, err := testoidc.Listen(*addr, testoidc.Options{Users: us,
		Clients: []testoidc.Client{{ID: *clientID, Secret: *secret, RedirectURIs: []string{*redirect}}}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("issuer", p.Issuer)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	_ = p.Close()
}
