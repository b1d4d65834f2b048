import { useEffect, useId, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import type { Provider } from "../api/types";
import { EmptyState, ErrorState, PageHeader, Skeleton } from "../ui/page";
import { Badge, When } from "../ui/display";
import { Field } from "../ui/controls";
import { ConfirmDialog, Dialog, FormError } from "../ui/dialog";
import { useToast } from "../ui/toast";
import { envVarsOf, keySourceLabel, PROVIDER_LABEL, validateProviderForm } from "../providers/providers";

export default function ProvidersPage() {
  const { can } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const allowed = can("providers.manage");
  const providers = useQuery({ queryKey: qk.providers, queryFn: api.providers, enabled: allowed });
  const [editing, setEditing] = useState<Provider | null>(null);
  const [removing, setRemoving] = useState<Provider | null>(null);
  if (!allowed) return <EmptyState title="Superadmins only" />;
  const rows = listOf(providers.data);
  return (
    <>
      <PageHeader title="Providers" description="The upstream APIs Tollgate forwards requests to, and where each one's key and address come from." />
      <div className="note" role="note">
        <p>
          <strong>Environment variables win.</strong> A key set in the server's environment (<code>OPENAI_API_KEY</code>, …) is used instead of the one
          stored here, with the environment's base URL (<code>OPENAI_BASE_URL</code> or the default): a key and its base URL always come from the same
          place, so no key is ever sent to an address set elsewhere. Stored keys are encrypted with{" "}
          <code>TOLLGATE_MASTER_KEY</code> and never shown again, here or in the API.
        </p>
        <p className="muted small">Changes apply at once on this instance and on the others within 30 seconds; requests in flight finish on the old settings.</p>
      </div>
      {providers.isPending ? (
        <Skeleton lines={6} />
      ) : providers.isError ? (
        <ErrorState error={providers.error} onRetry={() => providers.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="No providers" body="This server reports no configurable providers." />
      ) : (
        <div className="providers">
          {rows.map((p) => (
            <ProviderCard key={p.name} p={p} onEdit={() => setEditing(p)} onRemove={() => setRemoving(p)} />
          ))}
        </div>
      )}
      <ProviderDialog provider={editing} onClose={() => setEditing(null)} />
      <ConfirmDialog
        open={!!removing}
        title={`Remove the stored settings of ${removing ? (PROVIDER_LABEL[removing.name] ?? removing.name) : ""}?`}
        body={
          <p>
            The stored key and base URL are deleted.{" "}
            {removing?.key_source === "env"
              ? "The key from the environment stays in force."
              : "Without a key in the environment, requests to its models stop being served at once."}
          </p>
        }
        confirmLabel="Remove stored settings"
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          const after = await api.deleteProvider(removing!.name);
          toast.success("Stored settings removed", `${PROVIDER_LABEL[after.name] ?? after.name}: ${after.key_set ? `key from ${keySourceLabel(after.key_source)}` : "no key, disabled"}`);
          await qc.invalidateQueries({ queryKey: qk.providers });
          // Which models are served changed.
          void qc.invalidateQueries({ queryKey: ["t"] });
        }}
      />
    </>
  );
}

function ProviderCard({ p, onEdit, onRemove }: { p: Provider; onEdit: () => void; onRemove: () => void }) {
  const label = PROVIDER_LABEL[p.name] ?? p.name;
  const env = envVarsOf(p.name);
  const hId = `provider-${p.name}`;
  return (
    <section className="card" aria-labelledby={hId} data-testid={`provider-${p.name}`}>
      <div className="card-head">
        <h2 id={hId}>{label}</h2>
        {p.enabled ? <Badge tone="green">Enabled</Badge> : <Badge>Disabled</Badge>}
      </div>
      <dl className="kv">
        <div>
          <dt>API key</dt>
          <dd data-testid="key-source">
            {p.key_set ? (
              <>
                set · <Badge tone={p.key_source === "env" ? "purple" : "blue"}>{keySourceLabel(p.key_source)}</Badge>
              </>
            ) : (
              <span className="muted">not set</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Base URL</dt>
          <dd>
            <code className="small">{p.base_url || "—"}</code>{" "}
            <Badge tone={p.base_url_source === "env" ? "purple" : p.base_url_source === "stored" ? "blue" : "neutral"}>{keySourceLabel(p.base_url_source)}</Badge>
          </dd>
        </div>
        <div>
          <dt>Stored</dt>
          <dd data-testid="stored">{p.stored ? <>yes{p.updated_at && <>, updated <When iso={p.updated_at} relative /></>}</> : <span className="muted">no</span>}</dd>
        </div>
      </dl>
      {p.stored_error && (
        <div className="form-error" role="alert">
          Stored credentials can't be used: {p.stored_error}
        </div>
      )}
      {p.stored && p.key_source === "env" && (
        <p className="muted small">
          A stored key exists but <code>{env.key}</code> is set in the environment, which wins.
        </p>
      )}
      <div className="dialog-actions left">
        <button type="button" className="btn btn-sm" onClick={onEdit} aria-label={`${p.stored ? "Change" : "Configure"} ${label}`}>
          {p.stored ? "Change" : "Configure"}
        </button>
        {p.stored && (
          <button type="button" className="btn btn-sm btn-danger-ghost" onClick={onRemove} aria-label={`Remove stored settings of ${label}`}>
            Remove stored
          </button>
        )}
      </div>
    </section>
  );
}

function ProviderDialog({ provider, onClose }: { provider: Provider | null; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [apiKey, setApiKey] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    if (!provider) return;
    // The key is never sent back by the server and never prefilled; the base URL only when it is the stored one.
    setApiKey("");
    setBaseUrl(provider.base_url_source === "stored" ? provider.base_url : "");
    setErr(null);
  }, [provider]);

  const p = provider;
  const label = p ? (PROVIDER_LABEL[p.name] ?? p.name) : "";
  const env = envVarsOf(p?.name ?? "");

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!p) return;
    const v = validateProviderForm({ apiKey, baseUrl }, p);
    if (!v.body) {
      setErr(v.error);
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const after = await api.setProvider(p.name, v.body);
      setApiKey(""); // drop the secret from memory as soon as it is stored
      toast.success(`${label} saved`, after.applied ? `Applied ${after.applied}.` : undefined);
      await qc.invalidateQueries({ queryKey: qk.providers });
      void qc.invalidateQueries({ queryKey: ["t"] });
      onClose();
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={!!p}
      onClose={onClose}
      title={`Configure ${label}`}
      description="The key is encrypted before it is stored and is never shown again. Leave it empty to keep the stored key and change only the base URL."
    >
      {p && (
        <form onSubmit={submit} noValidate autoComplete="off">
          {p.key_source === "env" && (
            <div className="note" role="note">
              <code>{env.key}</code> is set in the server's environment: it stays in use with <code>{env.baseUrl}</code> (or the default), a base URL
              cannot be stored, and a key stored here only takes effect once it is unset.
            </div>
          )}
          <Field id={`${id}-key`} label="API key" hint={p.stored ? "A key is stored. Type a new one to replace it, or leave empty to keep it." : "Required when nothing is stored yet."}>
            <input
              id={`${id}-key`}
              type="password"
              value={apiKey}
              onChange={(e) => setApiKey(e.target.value)}
              autoComplete="new-password"
              spellCheck={false}
              placeholder={p.stored ? "•••••••• (stored, not shown)" : ""}
              aria-describedby={`${id}-key-hint`}
            />
          </Field>
          <Field
            id={`${id}-url`}
            label="Base URL"
            hint={
              p.base_url_source === "env" ? (
                <>
                  <code>{env.baseUrl}</code> is set in the environment; it only applies to the environment's key.
                </>
              ) : (
                "Empty uses the public default. An http(s) API root without credentials."
              )
            }
          >
            <input
              id={`${id}-url`}
              type="url"
              inputMode="url"
              value={baseUrl}
              onChange={(e) => setBaseUrl(e.target.value)}
              placeholder={p.base_url_source === "default" ? p.base_url : ""}
              spellCheck={false}
              aria-describedby={`${id}-url-hint`}
            />
          </Field>
          {err && <FormError message={err} />}
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? "Saving…" : "Save"}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
