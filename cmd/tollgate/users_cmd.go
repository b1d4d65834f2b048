package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// cliPasswordParams hash CLI-created passwords like serve does.
func cliPasswordParams() accounts.PasswordParams { return accounts.PasswordParams{} }

func newUsersCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Create, invite and manage users"}
	cmd.AddCommand(newUsersCreateCmd(g), newUsersInviteCmd(g), newUsersSetPasswordCmd(g), newUsersResetPasswordCmd(g),
		newUsersDeleteCmd(g))
	for _, op := range []userOp{
		{"disable", "Disable a user: they cannot sign in, and their sessions end at once", func(s identityServices, cmd *cobra.Command, u accounts.User) error {
			_, err := s.users.SetDisabled(cmd.Context(), accounts.SetDisabledInput{UserID: u.ID, Disabled: true, Actor: audit.CLIActor()})
			return err
		}, "disabled"},
		{"enable", "Enable a disabled user", func(s identityServices, cmd *cobra.Command, u accounts.User) error {
			_, err := s.users.SetDisabled(cmd.Context(), accounts.SetDisabledInput{UserID: u.ID, Actor: audit.CLIActor()})
			return err
		}, "enabled"},
		{"sign-out", "Sign a user out everywhere (refresh and access tokens stop working)", func(s identityServices, cmd *cobra.Command, u accounts.User) error {
			return s.users.SignOutEverywhere(cmd.Context(), u.ID, audit.CLIActor())
		}, "signed out everywhere"},
		{"grant-superadmin", "Make a user a platform superadmin", func(s identityServices, cmd *cobra.Command, u accounts.User) error {
			return s.users.SetSuperadmin(cmd.Context(), accounts.SetSuperadminInput{UserID: u.ID, Superadmin: true, Actor: audit.CLIActor()})
		}, "is now a superadmin"},
		{"revoke-superadmin", "Take the platform superadmin role away from a user (not the last one)", func(s identityServices, cmd *cobra.Command, u accounts.User) error {
			return s.users.SetSuperadmin(cmd.Context(), accounts.SetSuperadminInput{UserID: u.ID, Actor: audit.CLIActor()})
		}, "is no longer a superadmin"},
	} {
		cmd.AddCommand(op.command(g))
	}
	return cmd
}

// consoleBaseURL is where one-time links point: TOLLGATE_PUBLIC_URL, else the
// local console on serve's port.
func consoleBaseURL(a *app) string {
	if a.cfg.HTTP.PublicURL != "" {
		return strings.TrimRight(a.cfg.HTTP.PublicURL, "/")
	}
	port := "8080"
	if _, p, err := net.SplitHostPort(a.cfg.Addr); err == nil && p != "" && p != "0" {
		port = p
	}
	return "http://localhost:" + port
}

// printLink prints a one-time link: alone on stdout (or as JSON), the explanation
// on stderr.
func printLink(cmd *cobra.Command, a *app, l accounts.Link, asJSON bool, note string) error {
	link := consoleBaseURL(a) + l.Path()
	if asJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"id": l.Invitation.ID, "purpose": l.Invitation.Purpose,
			"email": l.Invitation.Email, "role": l.Invitation.Role, "expires_at": l.Invitation.ExpiresAt, "url": link})
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s (one-time link, shown once, expires %s):\n", note, l.Invitation.ExpiresAt.Format("2006-01-02 15:04 MST"))
	fmt.Fprintln(cmd.OutOrStdout(), link)
	return nil
}

func newUsersCreateCmd(g *globalFlags) *cobra.Command {
	var email, name, password, tenant, role string
	var superadmin, asJSON bool
	create := &cobra.Command{
		Use:   "create --email E [--password P] [--tenant T --role R] [--superadmin]",
		Short: "Create a user (without --password, prints a one-time link where they choose it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if tenant == "" && !superadmin {
				return errkind.New(errkind.Invalid, "give --tenant T --role R, or --superadmin, or both")
			}
			if tenant != "" && !access.Role(role).Valid() {
				return errkind.New(errkind.Invalid, "--role must be one of owner, admin, developer, viewer, billing")
			}
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx := cmd.Context()
			var t tenants.Tenant
			if tenant != "" {
				if t, err = a.registry.Get(ctx, tenant); err != nil {
					return fmt.Errorf("%w (list tenants with `tollgate tenants list`)", err)
				}
			}
			svc := newIdentityServices(a, cliPasswordParams())
			u, err := svc.users.Create(ctx, accounts.CreateUserInput{Email: email, Name: name, Password: seal.Secret(password), Superadmin: superadmin})
			if err != nil {
				if errkind.Of(err) == errkind.Conflict && tenant != "" {
					return fmt.Errorf("%w; to add an existing user to a tenant, invite them: tollgate users invite --email %s --tenant %s --role %s", err, email, tenant, role)
				}
				return err
			}
			if tenant != "" {
				if err := svc.users.AddMember(ctx, t.ID, u.ID, access.Role(role), audit.CLIActor()); err != nil {
					return err
				}
			}
			var link accounts.Link
			if password == "" {
				if link, err = svc.users.CreateResetLink(ctx, accounts.CreateResetLinkInput{Email: u.Email, Actor: audit.CLIActor()}); err != nil {
					return err
				}
			}
			out := map[string]any{"id": u.ID, "email": u.Email, "superadmin": u.Superadmin}
			if tenant != "" {
				out["tenant"], out["role"] = t.Slug, role
			}
			if password == "" {
				out["password_link"] = consoleBaseURL(a) + link.Path()
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
			}
			cmd.Printf("created user %s (%s)", u.Email, u.ID)
			if tenant != "" {
				cmd.Printf(", %s of %s", role, t.Slug)
			}
			if superadmin {
				cmd.Print(", superadmin")
			}
			cmd.Println()
			if password == "" {
				cmd.Printf("they choose their password at (one-time link, shown once): %s\n", out["password_link"])
			}
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&email, "email", "", "the user's email (sign-in name)")
	f.StringVar(&name, "name", "", "display name")
	f.StringVar(&password, "password", "", "initial password (10+ characters); empty prints a link where the user chooses it")
	f.StringVar(&tenant, "tenant", "", "tenant slug or id to add the user to")
	f.StringVar(&role, "role", "", "role in --tenant: owner, admin, developer, viewer or billing")
	f.BoolVar(&superadmin, "superadmin", false, "make the user a platform superadmin")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	_ = create.MarkFlagRequired("email")
	return create
}

func newUsersInviteCmd(g *globalFlags) *cobra.Command {
	var email, tenant, role string
	var asJSON bool
	c := &cobra.Command{
		Use:   "invite --email E --tenant T --role R",
		Short: "Invite someone to a tenant: prints a one-time link they accept (new users choose their password there)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			t, err := a.registry.Get(cmd.Context(), tenant)
			if err != nil {
				return fmt.Errorf("%w (list tenants with `tollgate tenants list`)", err)
			}
			svc := newIdentityServices(a, cliPasswordParams())
			l, err := svc.users.Invite(cmd.Context(), accounts.InviteInput{TenantID: t.ID, Email: email, Role: access.Role(role),
				MayManageOwners: true, Actor: audit.CLIActor()})
			if err != nil {
				return err
			}
			return printLink(cmd, a, l, asJSON, fmt.Sprintf("invited %s as %s of %s; send them this link", l.Invitation.Email, role, t.Slug))
		},
	}
	f := c.Flags()
	f.StringVar(&email, "email", "", "the invitee's email")
	f.StringVar(&tenant, "tenant", "", "tenant slug or id")
	f.StringVar(&role, "role", "", "role: owner, admin, developer, viewer or billing")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	for _, n := range []string{"email", "tenant", "role"} {
		_ = c.MarkFlagRequired(n)
	}
	return c
}

func newUsersResetPasswordCmd(g *globalFlags) *cobra.Command {
	var email string
	var asJSON bool
	c := &cobra.Command{
		Use:   "reset-password --email E",
		Short: "Sign a user out everywhere and print a one-time link where they choose a new password",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			svc := newIdentityServices(a, cliPasswordParams())
			l, err := svc.users.CreateResetLink(cmd.Context(), accounts.CreateResetLinkInput{Email: email, Actor: audit.CLIActor()})
			if err != nil {
				return err
			}
			return printLink(cmd, a, l, asJSON, fmt.Sprintf("signed %s out everywhere; send them this link to choose a new password", l.Invitation.Email))
		},
	}
	c.Flags().StringVar(&email, "email", "", "the user's email")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("email")
	return c
}

func newUsersSetPasswordCmd(g *globalFlags) *cobra.Command {
	var email string
	var fromStdin bool
	c := &cobra.Command{
		Use:   "set-password --email E [--password-stdin]",
		Short: "Set a user's password (prompted, or read from stdin) and sign them out everywhere",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw, err := readNewPassword(cmd, fromStdin)
			if err != nil {
				return err
			}
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			svc := newIdentityServices(a, cliPasswordParams())
			if err := svc.users.SetPassword(cmd.Context(), accounts.SetPasswordInput{Email: email, Password: pw, Actor: audit.CLIActor()}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "password of %s set; their sessions were signed out\n", strings.ToLower(strings.TrimSpace(email)))
			return nil
		},
	}
	c.Flags().StringVar(&email, "email", "", "the user's email")
	c.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin instead of prompting")
	_ = c.MarkFlagRequired("email")
	return c
}

// readNewPassword reads a password from the first line of stdin (--password-stdin)
// or prompts twice on the terminal without echo.
func readNewPassword(cmd *cobra.Command, fromStdin bool) (seal.Secret, error) {
	in := cmd.InOrStdin()
	if !fromStdin {
		f, ok := in.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", errkind.New(errkind.Invalid, "no terminal to prompt on: pipe the password with --password-stdin")
		}
		fmt.Fprint(cmd.ErrOrStderr(), "New password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", err
		}
		fmt.Fprint(cmd.ErrOrStderr(), "Repeat it: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errkind.New(errkind.Invalid, "the two passwords differ; nothing was changed")
		}
		return seal.Secret(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errkind.New(errkind.Invalid, "stdin held no password: pipe it as one line, e.g. printf '%%s\\n' \"$PW\" | tollgate users set-password --email E --password-stdin")
	}
	return seal.Secret(pw), nil
}

func newUsersDeleteCmd(g *globalFlags) *cobra.Command {
	var email string
	var keepKeys bool
	c := &cobra.Command{
		Use:   "delete --email E [--keep-keys]",
		Short: "Delete a user with their memberships and sessions; the API keys they created are revoked unless --keep-keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			svc := newIdentityServices(a, cliPasswordParams())
			u, err := svc.users.FindByEmail(cmd.Context(), email)
			if err != nil {
				return err
			}
			if err := svc.users.DeleteUser(cmd.Context(), accounts.DeleteUserInput{UserID: u.ID, KeepKeys: keepKeys, Actor: audit.CLIActor()}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted user %s (%s)\n", u.Email, u.ID)
			return nil
		},
	}
	c.Flags().StringVar(&email, "email", "", "the user's email")
	c.Flags().BoolVar(&keepKeys, "keep-keys", false, "keep the API keys the user created working")
	_ = c.MarkFlagRequired("email")
	return c
}

// userOp is a one-flag command acting on a user found by email.
type userOp struct {
	name, short string
	run         func(identityServices, *cobra.Command, accounts.User) error
	done        string
}

func (op userOp) command(g *globalFlags) *cobra.Command {
	var email string
	c := &cobra.Command{
		Use:   op.name + " --email E",
		Short: op.short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			svc := newIdentityServices(a, cliPasswordParams())
			u, err := svc.users.FindByEmail(cmd.Context(), email)
			if err != nil {
				return err
			}
			if err := op.run(svc, cmd, u); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", u.Email, op.done)
			return nil
		},
	}
	c.Flags().StringVar(&email, "email", "", "the user's email")
	_ = c.MarkFlagRequired("email")
	return c
}
