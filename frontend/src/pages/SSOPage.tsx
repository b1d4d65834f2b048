import { useEffect, useId, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import type { SSOGroupRole, SSOSettings } from "../api/types";
import { ErrorState, PageHeader, Skeleton } from "../ui/page";
import { Badge, When } from "../ui/display";
import { CopyButton, Field } from "../ui/controls";
import { ConfirmDialog, FormError } from "../ui/dialog";
import { useToast } from "../ui/toast";
import { ROLES, type Role } from "../roles/permissions";
import { parseDomains, validateSSOForm, type SSOForm } from "../auth/sso";

const emptyForm: SSOForm = { issuer: "", clientId: "", clientSecret: "", domains: "", mapping: [], defaultRole: "", groupsClaim: "groups", enabled: true, required: false };

function formOf(s: SSOSettings): SSOForm {
  return {
    issuer: s.issuer,
    clientId: s.client_id,
    clientSecret: "",
    domains: s.allowed_domains.join(", "),
    mapping: s.role_mapping.map((m) => ({ group: m.group, role: m.role })),
    defaultRole: (s.default_role as Role) || "",
    groupsClaim: s.groups_claim || "groups",
    enabled: s.enabled,
    required: s.required,
  };
}

/** The tenant's identity provider (owners and admins). */
export default function SSOPage() {
  const { tenant, can } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const id = useId();
  const settings = useQuery({ queryKey: qk.sso(tenant), queryFn: () => api.sso(tenant) });
  const [form, setForm] = useState<SSOForm>(emptyForm);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const [removing, setRemoving] = useState(false);
  const editable = can("sso.edit") && settings.data?.source !== "environment";
  const canOwner = can("members.manageOwners");

  useEffect(() => {
    if (settings.data) setForm(settings.data.configured ? formOf(settings.data) : emptyForm);
  }, [settings.data]);

  if (settings.isPending) return <Skeleton lines={8} />;
  if (settings.isError) return <ErrorState error={settings.error} onRetry={() => settings.refetch()} />;
  const s = settings.data;
  const set = <K extends keyof SSOForm>(k: K, v: SSOForm[K]) => setForm((f) => ({ ...f, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const v = validateSSOForm(form, s.client_secret_set);
    if (!v.body) {
      setErr(v.error);
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const after = await api.setSSO(tenant, v.body);
      set("clientSecret", ""); // drop the secret from memory as soon as it is stored
      toast.success("Single sign-on saved", after.required ? "Members now sign in through your identity provider only." : undefined);
      qc.setQueryData(qk.sso(tenant), after);
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };

  const roleOptions = (ROLES as readonly Role[]).filter((r) => r !== "owner" || canOwner);
  const mapping = form.mapping;
  const setMapping = (m: SSOGroupRole[]) => set("mapping", m);

  return (
    <>
      <PageHeader
        title="Single sign-on"
        description="Members sign in through your identity provider (OpenID Connect). People in the allowed email domains become members on their first sign-in, with the role their groups map to."
      />
      <section className="card" aria-labelledby={`${id}-status`} data-testid="sso-status">
        <div className="card-head">
          <h2 id={`${id}-status`}>Status</h2>
          <span className="badges">
            {!s.configured ? <Badge>Not configured</Badge> : s.enabled ? <Badge tone="green">Enabled</Badge> : <Badge>Disabled</Badge>}{" "}
            {s.configured && s.required && <Badge tone="purple">Required</Badge>}{" "}
            {s.source === "environment" && <Badge tone="purple">environment</Badge>}
          </span>
        </div>
        <dl className="kv">
          <div>
            <dt>Redirect URL</dt>
            <dd>
              <code className="small break-all" data-testid="sso-redirect">
                {s.redirect_url}
              </code>{" "}
              <CopyButton text={s.redirect_url} label="Copy" />
            </dd>
          </div>
          {s.updated_at && (
            <div>
              <dt>Updated</dt>
              <dd>
                <When iso={s.updated_at} relative />
              </dd>
            </div>
          )}
        </dl>
        <p className="muted small">Register the redirect URL at your identity provider as a web application (authorization code flow). Tollgate uses PKCE and asks for the openid, email and profile scopes.</p>
        {s.source === "environment" && (
          <div className="note" role="note">
            This server's provider is set by its environment (<code>TOLLGATE_OIDC_*</code>) and can only be changed there.
          </div>
        )}
      </section>

      <form className="card" onSubmit={submit} noValidate autoComplete="off" aria-labelledby={`${id}-form`}>
        <h2 id={`${id}-form`}>Identity provider</h2>
        <fieldset disabled={!editable || busy} className="plain">
          <Field id={`${id}-issuer`} label="Issuer URL" hint="Its discovery document must be at <issuer>/.well-known/openid-configuration.">
            <input id={`${id}-issuer`} type="url" inputMode="url" value={form.issuer} onChange={(e) => set("issuer", e.target.value)} placeholder="https://login.example.com" spellCheck={false} />
          </Field>
          <Field id={`${id}-client`} label="Client ID">
            <input id={`${id}-client`} value={form.clientId} onChange={(e) => set("clientId", e.target.value)} spellCheck={false} />
          </Field>
          <Field
            id={`${id}-secret`}
            label="Client secret"
            hint={s.client_secret_set ? "A secret is stored (encrypted, never shown). Type a new one to replace it, or leave empty to keep it." : "Required the first time; stored encrypted."}
          >
            <input
              id={`${id}-secret`}
              type="password"
              value={form.clientSecret}
              onChange={(e) => set("clientSecret", e.target.value)}
              autoComplete="new-password"
              placeholder={s.client_secret_set ? "•••••••• (stored, not shown)" : ""}
              spellCheck={false}
            />
          </Field>
          <Field id={`${id}-domains`} label="Allowed email domains" hint="Comma-separated, like example.com, example.org. Only verified addresses in these domains may sign in.">
            <input id={`${id}-domains`} value={form.domains} onChange={(e) => set("domains", e.target.value)} placeholder="example.com" spellCheck={false} />
          </Field>
          <div className="field">
            <span className="field-label" id={`${id}-mapping`}>
              Group → role mapping
            </span>
            <div className="hint">A new member gets the most powerful role among their mapped groups (from the ID token's groups claim).</div>
            <div className="table-wrap">
            <table className="table compact cards" aria-labelledby={`${id}-mapping`}>
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Role</th>
                  <th scope="col">
                    <span className="sr-only">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {mapping.map((m, i) => (
                  <tr key={i}>
                    <td data-label="Group">
                      <input
                        aria-label={`Group ${i + 1}`}
                        value={m.group}
                        onChange={(e) => setMapping(mapping.map((x, j) => (j === i ? { ...x, group: e.target.value } : x)))}
                        spellCheck={false}
                      />
                    </td>
                    <td data-label="Role">
                      <select aria-label={`Role for group ${i + 1}`} value={m.role} onChange={(e) => setMapping(mapping.map((x, j) => (j === i ? { ...x, role: e.target.value as Role } : x)))}>
                        {roleOptions.concat(roleOptions.includes(m.role as Role) ? [] : [m.role as Role]).map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td className="cell-actions">
                      <div className="cell-v">
                        <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setMapping(mapping.filter((_, j) => j !== i))} aria-label={`Remove group ${m.group || i + 1}`}>
                          Remove
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            </div>
            <div>
              <button type="button" className="btn btn-sm" onClick={() => setMapping([...mapping, { group: "", role: "viewer" }])}>
                Add group
              </button>
            </div>
          </div>
          <Field id={`${id}-default`} label="Role when no group matches" hint="Leave as “refuse” to let only people in mapped groups in.">
            <select id={`${id}-default`} value={form.defaultRole} onChange={(e) => set("defaultRole", e.target.value as Role | "")}>
              <option value="">refuse sign-in</option>
              {roleOptions.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </Field>
          <Field id={`${id}-claim`} label="Groups claim" hint="The ID-token claim that lists the person's groups.">
            <input id={`${id}-claim`} value={form.groupsClaim} onChange={(e) => set("groupsClaim", e.target.value)} spellCheck={false} />
          </Field>
          <div className="field checkbox">
            <label>
              <input type="checkbox" checked={form.enabled} onChange={(e) => set("enabled", e.target.checked)} /> Enabled: members may sign in through this provider
            </label>
          </div>
          <div className="field checkbox">
            <label>
              <input type="checkbox" checked={form.required} onChange={(e) => set("required", e.target.checked)} /> Require single sign-on: turn off password sign-in for this tenant's members
            </label>
            <div className="hint">Platform administrators keep their password. Sign in through the provider once before turning this on.</div>
          </div>
        </fieldset>
        {parseDomains(form.domains).length > 0 && <p className="muted small">Domains: {parseDomains(form.domains).join(", ")}</p>}
        {err && <FormError message={err} />}
        {editable && (
          <div className="dialog-actions left">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? "Saving…" : "Save"}
            </button>
            {s.configured && (
              <button type="button" className="btn btn-danger-ghost" onClick={() => setRemoving(true)}>
                Remove single sign-on
              </button>
            )}
          </div>
        )}
      </form>
      <ConfirmDialog
        open={removing}
        title="Remove single sign-on?"
        body={<p>The provider settings and the stored secret are deleted. Members sign in with passwords again; those without one need a password reset link.</p>}
        confirmLabel="Remove"
        onClose={() => setRemoving(false)}
        onConfirm={async () => {
          await api.deleteSSO(tenant);
          toast.success("Single sign-on removed");
          await qc.invalidateQueries({ queryKey: qk.sso(tenant) });
        }}
      />
    </>
  );
}
