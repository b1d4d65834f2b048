import { useEffect, useId, useState, type FormEvent } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, tenantPath, useTenant } from "../app";
import { qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import { EmptyState, PageHeader } from "../ui/page";
import { Badge, When } from "../ui/display";
import { Field } from "../ui/controls";
import { PagedTable } from "../ui/PagedTable";
import { ConfirmDialog, Dialog, FormError } from "../ui/dialog";
import { useToast } from "../ui/toast";
import { Link } from "../router/router";
import type { Tenant } from "../api/types";
import { usePagedSearch } from "../ui/usePagedSearch";

const suspended = (t: Tenant) => t.suspended === true || t.status === "suspended";

export default function TenantsPage() {
  const { can } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const paging = usePagedSearch();
  const { q, cursor } = paging;
  const tenants = useQuery({
    queryKey: qk.tenants(q, cursor),
    queryFn: () => api.tenants({ q, cursor }),
    placeholderData: keepPreviousData,
    enabled: can("tenants.manage"),
  });
  const [creating, setCreating] = useState(false);
  const [toggling, setToggling] = useState<Tenant | null>(null);
  if (!can("tenants.manage")) return <EmptyState title="Superadmins only" />;
  return (
    <>
      <PageHeader
        title="Tenants"
        description="Every tenant on this Tollgate. Suspended tenants' keys are refused; their data is kept."
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            Create tenant
          </button>
        }
      />
      <PagedTable
        query={tenants}
        paging={paging}
        search={{ label: "Search tenants", placeholder: "Search by name or slug…" }}
        caption="Tenants"
        rowKey={(t) => t.id}
        empty={
          <EmptyState
            title={q ? `No tenants match “${q}”` : paging.hasPrev ? "No more tenants" : "No tenants yet"}
            body={q ? "The search matches tenant names and slugs. Try part of either." : paging.hasPrev ? undefined : "Create a tenant, then invite its first owner from its Members page."}
            action={
              paging.hasPrev ? (
                <button type="button" className="btn" onClick={paging.reset}>
                  Back to the first page
                </button>
              ) : (
                !q && (
                  <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
                    Create the first tenant
                  </button>
                )
              )
            }
          />
        }
        columns={[
          { header: "Name", cell: (t) => <Link to={tenantPath(t.slug)}>{t.name}</Link> },
          { header: "Slug", cell: (t) => <code>{t.slug}</code> },
          { header: "Status", cell: (t) => (suspended(t) ? <Badge tone="red">Suspended</Badge> : <Badge tone="green">Active</Badge>) },
          { header: "Created", className: "hide-sm", cell: (t) => <When iso={t.created_at} relative /> },
          {
            header: <span className="sr-only">Actions</span>,
            actions: true,
            td: "r",
            cell: (t) => (
              <button type="button" className={`btn btn-sm ${suspended(t) ? "" : "btn-danger-ghost"}`} onClick={() => setToggling(t)}>
                {suspended(t) ? "Resume" : "Suspend"}
              </button>
            ),
          },
        ]}
      />
      <CreateTenantDialog open={creating} onClose={() => setCreating(false)} />
      <ConfirmDialog
        open={!!toggling}
        danger={!!toggling && !suspended(toggling)}
        title={toggling && suspended(toggling) ? `Resume ${toggling.name}?` : `Suspend ${toggling?.name}?`}
        body={
          <p>
            {toggling && suspended(toggling)
              ? "Its API keys work again immediately."
              : "All of its API keys are refused immediately and its members can only read. Nothing is deleted."}
          </p>
        }
        confirmLabel={toggling && suspended(toggling) ? "Resume tenant" : "Suspend tenant"}
        onClose={() => setToggling(null)}
        onConfirm={async () => {
          const t = toggling!;
          if (suspended(t)) await api.resumeTenant(t.slug || t.id);
          else await api.suspendTenant(t.slug || t.id);
          toast.success(suspended(t) ? "Tenant resumed" : "Tenant suspended", t.name);
          await qc.invalidateQueries({ queryKey: qk.tenantsAll });
        }}
      />
    </>
  );
}

function CreateTenantDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    if (open) {
      setName("");
      setErr(null);
    }
  }, [open]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) {
      setErr("Give the tenant a name.");
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const t = await api.createTenant(name.trim());
      toast.success("Tenant created", t?.slug ? `Slug: ${t.slug}` : name.trim());
      await qc.invalidateQueries({ queryKey: qk.tenantsAll });
      void qc.invalidateQueries({ queryKey: qk.me });
      onClose();
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onClose={onClose} title="Create tenant" description="Provisions a new tenant with its own schema. Invite its first owner from its Members page.">
      <form onSubmit={submit} noValidate>
        <Field id={id} label="Name" hint="The slug is made from it.">
          <input id={id} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />
        </Field>
        {err && <FormError message={err} />}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create tenant"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
