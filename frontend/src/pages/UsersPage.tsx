import { useEffect, useState, type ReactNode } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { qk } from "../api/endpoints";
import { EmptyState, PageHeader } from "../ui/page";
import { Badge, When } from "../ui/display";
import { PagedTable } from "../ui/PagedTable";
import { ConfirmDialog } from "../ui/dialog";
import { useToast } from "../ui/toast";
import type { PlatformUser } from "../api/types";
import { usePagedSearch } from "../ui/usePagedSearch";

type Op = "disable" | "enable" | "sign-out" | "grant" | "revoke" | "delete";

const OPS: Record<Op, { label: string; title: (u: PlatformUser) => string; body: ReactNode; confirm: string; danger: boolean; done: string }> = {
  disable: {
    label: "Disable",
    title: (u) => `Disable ${u.email}?`,
    body: "They are signed out everywhere at once and cannot sign in until enabled again. Their memberships and API keys stay.",
    confirm: "Disable user",
    danger: true,
    done: "User disabled",
  },
  enable: { label: "Enable", title: (u) => `Enable ${u.email}?`, body: "They can sign in again.", confirm: "Enable user", danger: false, done: "User enabled" },
  "sign-out": {
    label: "Sign out everywhere",
    title: (u) => `Sign ${u.email} out everywhere?`,
    body: "Every session of theirs ends now, on every device. Their password stays.",
    confirm: "Sign out everywhere",
    danger: true,
    done: "Signed out everywhere",
  },
  grant: {
    label: "Make superadmin",
    title: (u) => `Make ${u.email} a superadmin?`,
    body: "Superadmins may do everything in every tenant and on the platform.",
    confirm: "Make superadmin",
    danger: true,
    done: "Superadmin granted",
  },
  revoke: {
    label: "Revoke superadmin",
    title: (u) => `Revoke superadmin from ${u.email}?`,
    body: "They keep their tenant memberships. The last superadmin cannot be revoked.",
    confirm: "Revoke superadmin",
    danger: true,
    done: "Superadmin revoked",
  },
  delete: {
    label: "Delete",
    title: (u) => `Delete ${u.email}?`,
    body: null,
    confirm: "Delete user",
    danger: true,
    done: "User deleted",
  },
};

/** Platform users (superadmins): disable, sign out everywhere, superadmin role, delete. */
export default function UsersPage() {
  const { can, me } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const paging = usePagedSearch();
  const { q, cursor } = paging;
  const users = useQuery({
    queryKey: qk.users(q, cursor),
    queryFn: () => api.users({ q, cursor }),
    placeholderData: keepPreviousData,
    enabled: can("users.manage"),
  });
  const [pending, setPending] = useState<{ op: Op; user: PlatformUser } | null>(null);
  const [keepKeys, setKeepKeys] = useState(false);
  useEffect(() => setKeepKeys(false), [pending]);
  if (!can("users.manage")) return <EmptyState title="Superadmins only" />;
  const run = async (op: Op, u: PlatformUser) => {
    if (op === "disable") await api.disableUser(u.id);
    else if (op === "enable") await api.enableUser(u.id);
    else if (op === "sign-out") await api.signOutUser(u.id);
    else if (op === "grant" || op === "revoke") await api.setSuperadmin(u.id, op === "grant");
    else await api.deleteUser(u.id, keepKeys);
    toast.success(OPS[op].done, u.email);
    await qc.invalidateQueries({ queryKey: qk.usersAll });
  };
  const act = (op: Op, u: PlatformUser, tone = "btn-danger-ghost") => (
    <button type="button" className={`btn btn-sm ${tone}`} onClick={() => setPending({ op, user: u })} aria-label={`${OPS[op].label}: ${u.email}`}>
      {OPS[op].label}
    </button>
  );
  return (
    <>
      <PageHeader
        title="Users"
        description={
          <>
            Every account on this Tollgate. People join tenants by invitation from a tenant's Members page, and only they set their password (a reset
            link comes from <code>tollgate users reset-password</code>).
          </>
        }
      />
      <PagedTable
        query={users}
        paging={paging}
        search={{ label: "Search users", placeholder: "Search by email or name…" }}
        caption="Users"
        rowKey={(u) => u.id}
        empty={<EmptyState title={q ? `No users match “${q}”` : "No more users"} />}
        columns={[
          {
            header: "User",
            cell: (u) => (
              <>
                <strong>{u.name || u.email}</strong>
                {u.id === me.user.id && <Badge tone="blue">you</Badge>}
                {u.name && <div className="muted small">{u.email}</div>}
              </>
            ),
          },
          {
            header: "Status",
            cell: (u) => (
              <>
                {u.disabled_at ? <Badge tone="red">Disabled</Badge> : <Badge tone="green">Active</Badge>} {u.superadmin && <Badge tone="purple">Superadmin</Badge>}
              </>
            ),
          },
          { header: "Created", className: "hide-sm", cell: (u) => <When iso={u.created_at} relative /> },
          {
            header: <span className="sr-only">Actions</span>,
            actions: true,
            th: "r",
            cell: (u) =>
              u.id !== me.user.id && (
                <div className="row-actions">
                  {act("sign-out", u)}
                  {u.disabled_at ? act("enable", u, "") : act("disable", u)}
                  {u.superadmin ? act("revoke", u) : act("grant", u, "")}
                  {act("delete", u)}
                </div>
              ),
          },
        ]}
      />
      <ConfirmDialog
        open={!!pending}
        danger={!!pending && OPS[pending.op].danger}
        title={pending ? OPS[pending.op].title(pending.user) : ""}
        body={
          pending?.op === "delete" ? (
            <>
              <p>Their memberships and sessions go with the account. This cannot be undone.</p>
              <label className="check">
                <input type="checkbox" checked={keepKeys} onChange={(e) => setKeepKeys(e.target.checked)} /> Keep the API keys they created working (by default
                they are revoked)
              </label>
            </>
          ) : (
            <p>{pending && OPS[pending.op].body}</p>
          )
        }
        confirmLabel={pending ? OPS[pending.op].confirm : ""}
        onClose={() => setPending(null)}
        onConfirm={() => run(pending!.op, pending!.user)}
      />
    </>
  );
}
