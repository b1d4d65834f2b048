package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// cliPasswordParams hash CLI-created passwords like serve does.
func cliPasswordParams() tenants.PasswordParams { return tenants.PasswordParams{} }

func newUsersCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Create users and give them roles"}
	var email, name, password, tenant, role string
	var superadmin, asJSON bool
	create := &cobra.Command{
		Use:   "create --email E [--password P] [--tenant T --role R] [--superadmin]",
		Short: "Create a user (a generated password is printed once when --password is empty)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if tenant == "" && !superadmin {
				return errkind.New(errkind.Invalid, "give --tenant T --role R, or --superadmin, or both")
			}
			if tenant != "" && !tenants.Role(role).Valid() {
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
			pw, generated := tenants.SecretString(password), false
			if pw == "" {
				gen, err := tenants.GeneratePassword()
				if err != nil {
					return err
				}
				pw, generated = gen, true
			}
			u, err := svc.users.Create(ctx, tenants.CreateUserInput{Email: email, Name: name, Password: pw, Superadmin: superadmin})
			if err != nil {
				return err
			}
			if tenant != "" {
				if err := svc.users.AddMember(ctx, t.ID, u.ID, tenants.Role(role), tenants.CLIActor()); err != nil {
					return err
				}
			}
			out := map[string]any{"id": u.ID, "email": u.Email, "superadmin": u.Superadmin}
			if tenant != "" {
				out["tenant"], out["role"] = t.Slug, role
			}
			if generated {
				out["password"] = pw.Reveal()
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
			if generated {
				cmd.Printf("password (shown once): %s\n", pw.Reveal())
			}
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&email, "email", "", "the user's email (sign-in name)")
	f.StringVar(&name, "name", "", "display name")
	f.StringVar(&password, "password", "", "initial password (10+ characters); empty generates one")
	f.StringVar(&tenant, "tenant", "", "tenant slug or id to add the user to")
	f.StringVar(&role, "role", "", "role in --tenant: owner, admin, developer, viewer or billing")
	f.BoolVar(&superadmin, "superadmin", false, "make the user a platform superadmin")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	_ = create.MarkFlagRequired("email")
	cmd.AddCommand(create)
	return cmd
}
