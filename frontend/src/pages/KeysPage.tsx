import { useEffect, useId, useState, type FormEvent } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import { KEY_SCOPES, type ApiKey, type KeyScope, type KeyWithSecret } from "../api/types";
import { usdToNano } from "../format/money";
import { formatInt } from "../format/numbers";
import { EmptyState, PageHeader } from "../ui/page";
import { Badge, When } from "../ui/display";
import { CopyButton, Field } from "../ui/controls";
import { PagedTable } from "../ui/PagedTable";
import { ConfirmDialog, Dialog, FormError } from "../ui/dialog";
import { useToast } from "../ui/toast";
import { usePagedSearch } from "../ui/usePagedSearch";
import { KeyPlayground } from "../keys/KeyPlayground";

function keyStatus(k: ApiKey, now = Date.now()): { label: string; tone: "green" | "red" | "amber" | "neutral" } {
  if (k.revoked_at && new Date(k.revoked_at).getTime() <= now) return { label: "Revoked", tone: "red" };
  if (k.revoked_at) return { label: "Rotating", tone: "amber" };
  if (k.expires_at && new Date(k.expires_at).getTime() <= now) return { label: "Expired", tone: "neutral" };
  return { label: "Active", tone: "green" };
}

export default function KeysPage() {
  const { tenant, can } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const paging = usePagedSearch();
  const { q: debounced, cursor } = paging;

  const keys = useQuery({
    queryKey: qk.keys(tenant, debounced, cursor),
    queryFn: () => api.keys(tenant, { q: debounced, cursor }),
    placeholderData: keepPreviousData,
  });

  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ title: string; data: KeyWithSecret } | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [rotating, setRotating] = useState<ApiKey | null>(null);

  const refresh = () => qc.invalidateQueries({ queryKey: qk.keysAll(tenant) });
  const showActions = can("keys.revoke") || can("keys.rotate");

  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys authenticate your apps against Tollgate's OpenAI-compatible API. Secrets are shown once."
        actions={
          can("keys.create") && (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              Create key
            </button>
          )
        }
      />
      <PagedTable
        query={keys}
        paging={paging}
        search={{ label: "Search keys", placeholder: "Search by name or prefix…" }}
        caption="API keys"
        rowKey={(k) => k.id}
        empty={
          <EmptyState
            title={debounced ? `No keys match “${debounced}”` : "No API keys yet"}
            body={debounced ? "Try another search." : "Create a key, then call /v1/chat/completions with it as a Bearer token."}
            action={
              !debounced &&
              can("keys.create") && (
                <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
                  Create your first key
                </button>
              )
            }
          />
        }
        columns={[
          {
            header: "Name",
            cell: (k) => (
              <>
                <strong>{k.name}</strong>
                <div className="muted small">
                  created <When iso={k.created_at} relative />
                </div>
              </>
            ),
          },
          { header: "Key", cell: (k) => <code>{k.prefix}…</code> },
          {
            header: "Status",
            cell: (k) => {
              const st = keyStatus(k);
              return <Badge tone={st.tone}>{st.label}</Badge>;
            },
          },
          {
            header: "Scopes",
            className: "hide-sm",
            cell: (k) => (
              <>
                {(k.scopes ?? []).length ? (k.scopes ?? []).map((s) => <Badge key={s}>{s}</Badge>) : <span className="muted">all</span>}
                {(k.models ?? []).length > 0 && <div className="muted small">models: {(k.models ?? []).join(", ")}</div>}
              </>
            ),
          },
          {
            header: "Limits",
            className: "hide-sm",
            td: "small",
            cell: (k) => (
              <>
                {k.rpm_limit ? `${formatInt(k.rpm_limit)} rpm` : "—"}
                {k.tpm_limit ? ` · ${formatInt(k.tpm_limit)} tpm` : ""}
              </>
            ),
          },
          { header: "Last used", cell: (k) => <When iso={k.last_used_at} relative /> },
          { header: "Expires", className: "hide-sm", cell: (k) => (k.expires_at ? <When iso={k.expires_at} relative /> : <span className="muted">never</span>) },
          showActions && {
            header: <span className="sr-only">Actions</span>,
            actions: true,
            className: "r",
            td: "nowrap",
            cell: (k) => {
              const st = keyStatus(k);
              return (
                <>
                  {st.label === "Active" && can("keys.rotate") && (
                    <button type="button" className="btn btn-sm" onClick={() => setRotating(k)} aria-label={`Rotate key ${k.name}`}>
                      Rotate
                    </button>
                  )}{" "}
                  {st.label !== "Revoked" && can("keys.revoke") && (
                    <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setRevoking(k)} aria-label={`Revoke key ${k.name}`}>
                      Revoke
                    </button>
                  )}
                </>
              );
            },
          },
        ]}
      />

      <CreateKeyDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(data) => {
          setCreating(false);
          setSecret({ title: "Key created", data });
          void refresh();
        }}
      />
      <SecretDialog value={secret} onClose={() => setSecret(null)} />
      <ConfirmDialog
        open={!!revoking}
        title={`Revoke “${revoking?.name}”?`}
        body={
          <p>
            Requests using <code>{revoking?.prefix}…</code> will be refused within a second on every instance. This can't be undone.
          </p>
        }
        confirmLabel="Revoke key"
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          await api.revokeKey(tenant, revoking!.id);
          toast.success("Key revoked", revoking!.name);
          await refresh();
        }}
      />
      <RotateDialog
        keyItem={rotating}
        onClose={() => setRotating(null)}
        onRotated={(data) => {
          setRotating(null);
          setSecret({ title: "Key rotated", data });
          void refresh();
        }}
      />
    </>
  );
}

const EXPIRY = [
  { value: "", label: "Never" },
  { value: "7", label: "7 days" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "custom", label: "Custom date…" },
];

function CreateKeyDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (d: KeyWithSecret) => void }) {
  const { tenant, can } = useTenant();
  const id = useId();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<KeyScope[]>(["inference"]);
  const [models, setModels] = useState("");
  const [expiry, setExpiry] = useState("");
  const [customDate, setCustomDate] = useState("");
  const [rpm, setRpm] = useState("");
  const [tpm, setTpm] = useState("");
  const [budget, setBudget] = useState("");
  const [hard, setHard] = useState(true);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);

  useEffect(() => {
    if (open) {
      setName("");
      setScopes(["inference"]);
      setModels("");
      setExpiry("");
      setCustomDate("");
      setRpm("");
      setTpm("");
      setBudget("");
      setHard(true);
      setErr(null);
    }
  }, [open]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems: string[] = [];
    if (!name.trim()) problems.push("Give the key a name.");
    if (scopes.length === 0) problems.push("Pick at least one scope.");
    const intOrNull = (s: string, what: string) => {
      if (!s.trim()) return null;
      const n = Number(s);
      if (!Number.isInteger(n) || n <= 0) problems.push(`${what} must be a whole number above 0.`);
      return n;
    };
    const rpmN = intOrNull(rpm, "Requests per minute");
    const tpmN = intOrNull(tpm, "Tokens per minute");
    if (budget.trim() && (usdToNano(budget) === null || usdToNano(budget)! <= 0n)) problems.push("Monthly budget must be a dollar amount like 25 or 12.50.");
    let expires_at: string | null = null;
    if (expiry === "custom") {
      if (!customDate) problems.push("Pick an expiry date.");
      else expires_at = new Date(`${customDate}T23:59:59`).toISOString(); // end of that day, viewer's zone
    } else if (expiry) {
      expires_at = new Date(Date.now() + Number(expiry) * 86_400_000).toISOString();
    }
    if (problems.length) {
      setErr(problems.join(" "));
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const created = await api.createKey(tenant, {
        name: name.trim(),
        scopes,
        models: models
          .split(",")
          .map((m) => m.trim())
          .filter(Boolean),
        expires_at,
        rpm_limit: rpmN,
        tpm_limit: tpmN,
      });
      if (budget.trim() && can("budgets.edit")) {
        try {
          await api.createBudget(tenant, {
            scope: "key",
            scope_id: created.key.id,
            period: "month",
            limit_usd: budget.trim(),
            hard,
            alert_at: [50, 80, 100],
            downgrade_at: null,
          });
        } catch (x) {
          // The key exists and its secret must still be shown once; report the budget separately.
          setErr(`Key created, but its budget was not: ${errorMessage(x)}`);
        }
      }
      onCreated(created);
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onClose={onClose} title="Create API key" wide>
      <form onSubmit={submit} noValidate>
        <Field id={`${id}-name`} label="Name" hint="What uses this key, e.g. “support-bot prod”.">
          <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} autoFocus />
        </Field>
        <fieldset className="field">
          <legend>Scopes</legend>
          {KEY_SCOPES.map((s) => (
            <label key={s.value} className="check">
              <input
                type="checkbox"
                checked={scopes.includes(s.value)}
                onChange={(e) => setScopes((cur) => (e.target.checked ? [...cur, s.value] : cur.filter((x) => x !== s.value)))}
              />
              <span>
                {s.label} <span className="muted small">{s.hint}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <Field id={`${id}-models`} label="Allowed models" hint="Comma-separated; empty allows every model the routing policy picks.">
          <input id={`${id}-models`} value={models} onChange={(e) => setModels(e.target.value)} placeholder="e.g. sim-small, gpt-4o-mini" />
        </Field>
        <div className="row-2">
          <Field id={`${id}-exp`} label="Expires">
            <select id={`${id}-exp`} value={expiry} onChange={(e) => setExpiry(e.target.value)}>
              {EXPIRY.map((x) => (
                <option key={x.value} value={x.value}>
                  {x.label}
                </option>
              ))}
            </select>
          </Field>
          {expiry === "custom" && (
            <Field id={`${id}-date`} label="Expiry date">
              <input id={`${id}-date`} type="date" value={customDate} min={new Date().toISOString().slice(0, 10)} onChange={(e) => setCustomDate(e.target.value)} />
            </Field>
          )}
        </div>
        <div className="row-2">
          <Field id={`${id}-rpm`} label="Requests / minute" hint="Empty = no limit">
            <input id={`${id}-rpm`} inputMode="numeric" value={rpm} onChange={(e) => setRpm(e.target.value)} />
          </Field>
          <Field id={`${id}-tpm`} label="Tokens / minute" hint="Empty = no limit">
            <input id={`${id}-tpm`} inputMode="numeric" value={tpm} onChange={(e) => setTpm(e.target.value)} />
          </Field>
        </div>
        {can("budgets.edit") && (
          <div className="row-2">
            <Field id={`${id}-budget`} label="Monthly budget (USD)" hint="Optional per-key budget">
              <input id={`${id}-budget`} inputMode="decimal" value={budget} onChange={(e) => setBudget(e.target.value)} placeholder="e.g. 50" />
            </Field>
            {budget.trim() && (
              <label className="check" style={{ alignSelf: "center" }}>
                <input type="checkbox" checked={hard} onChange={(e) => setHard(e.target.checked)} /> Hard cap (refuse requests over budget)
              </label>
            )}
          </div>
        )}
        {err && <FormError message={err} />}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create key"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function SecretDialog({ value, onClose }: { value: { title: string; data: KeyWithSecret } | null; onClose: () => void }) {
  const [ack, setAck] = useState(false);
  useEffect(() => setAck(false), [value]);
  const snippet = value
    ? `curl ${window.location.origin}/v1/chat/completions \\
  -H "Authorization: Bearer ${value.data.secret}" \\
  -H "Content-Type: application/json" \\
  -d '{"model":"auto","messages":[{"role":"user","content":"Hello"}]}'`
    : "";
  return (
    <Dialog
      open={!!value}
      onClose={onClose}
      closable={ack}
      wide
      title={value?.title ?? ""}
      description="Copy the secret now: Tollgate stores only its hash and can't show it again."
    >
      {value && (
        <div>
          <div className="secret" data-testid="key-secret">
            <code>{value.data.secret}</code>
            <CopyButton text={value.data.secret} label="Copy secret" />
          </div>
          <div className="snippet-box">
            <pre className="snippet snippet-wrap" aria-label="Example request" data-testid="key-snippet">
              {snippet}
            </pre>
            <CopyButton text={snippet} label="Copy snippet" />
          </div>
          <KeyPlayground secret={value.data.secret} />
          <label className="check">
            <input type="checkbox" checked={ack} onChange={(e) => setAck(e.target.checked)} /> I have stored the secret somewhere safe
          </label>
          <div className="dialog-actions">
            <button type="button" className="btn btn-primary" disabled={!ack} onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}

const GRACE = [
  { value: 0, label: "Immediately" },
  { value: 3600, label: "After 1 hour" },
  { value: 86400, label: "After 24 hours" },
  { value: 7 * 86400, label: "After 7 days" },
];

function RotateDialog({ keyItem, onClose, onRotated }: { keyItem: ApiKey | null; onClose: () => void; onRotated: (d: KeyWithSecret) => void }) {
  const { tenant } = useTenant();
  const [grace, setGrace] = useState(3600);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const id = useId();
  useEffect(() => {
    setErr(null);
    setGrace(3600);
  }, [keyItem]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      onRotated(await api.rotateKey(tenant, keyItem!.id, grace));
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={!!keyItem} onClose={onClose} title={`Rotate “${keyItem?.name ?? ""}”`} description="A new secret is issued now. The old one keeps working for the grace period, so you can roll it out without downtime.">
      <form onSubmit={submit}>
        <Field id={id} label="Old secret stops working">
          <select id={id} value={grace} onChange={(e) => setGrace(Number(e.target.value))}>
            {GRACE.map((g) => (
              <option key={g.value} value={g.value}>
                {g.label}
              </option>
            ))}
          </select>
        </Field>
        {err && <FormError message={err} />}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Rotating…" : "Rotate key"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
