import { useEffect, useId, useState, type FormEvent } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import { assignableRoles, canManageMember, ROLE_HINT, ROLE_LABEL, type Role } from "../roles/permissions";
import { EmptyState, PageHeader } from "../ui/page";
import { Badge, When } from "../ui/display";
import { CopyButton, Field } from "../ui/controls";
import { PagedTable } from "../ui/PagedTable";
import { ConfirmDialog, Dialog, FormError } from "../ui/dialog";
import { useToast } from "../ui/toast";
import type { Invitation, Member } from "../api/types";
import { usePagedSearch } from "../ui/usePagedSearch";

export default function MembersPage() {
  const { tenant, can, principal, me } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const paging = usePagedSearch();
  const { q, cursor } = paging;
  const members = useQuery({
    queryKey: qk.members(tenant, q, cursor),
    queryFn: () => api.members(tenant, { q, cursor }),
    placeholderData: keepPreviousData,
  });
  const invitations = useQuery({ queryKey: qk.invitations(tenant), queryFn: () => api.invitations(tenant) });
  const [inviting, setInviting] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const [savingId, setSavingId] = useState<string | null>(null);
  const roles = assignableRoles(principal);
  const refresh = () =>
    Promise.all([qc.invalidateQueries({ queryKey: qk.membersAll(tenant) }), qc.invalidateQueries({ queryKey: qk.invitations(tenant) })]);
  const pending = listOf(invitations.data);
  /** Whether the viewer may change this member's role or remove them (never themselves). */
  const manages = (m: Member) => canManageMember(principal, m.role) && m.user_id !== me.user.id;

  const changeRole = async (m: Member, role: Role) => {
    setSavingId(m.user_id);
    try {
      await api.changeRole(tenant, m.user_id, role);
      toast.success("Role updated", `${m.email} is now ${ROLE_LABEL[role]}.`);
      await refresh();
      if (m.user_id === me.user.id) void qc.invalidateQueries({ queryKey: qk.me });
    } catch (x) {
      toast.error("Couldn't change the role", errorMessage(x));
    } finally {
      setSavingId(null);
    }
  };

  return (
    <>
      <PageHeader
        title="Members"
        description="People with access to this tenant and what their role lets them do."
        actions={
          can("members.invite") && (
            <button type="button" className="btn btn-primary" onClick={() => setInviting(true)}>
              Invite member
            </button>
          )
        }
      />
      <details className="card roles-help">
        <summary>What each role can do</summary>
        <dl>
          {(Object.keys(ROLE_HINT) as Role[]).map((r) => (
            <div key={r}>
              <dt>{ROLE_LABEL[r]}</dt>
              <dd>{ROLE_HINT[r]}</dd>
            </div>
          ))}
        </dl>
      </details>
      <PagedTable
        query={members}
        paging={paging}
        search={{ label: "Search members", placeholder: "Search by email or name…" }}
        caption="Members"
        rowKey={(m) => m.user_id}
        empty={
          <EmptyState
            title={q ? `No members match “${q}”` : paging.hasPrev ? "No more members" : "No members yet"}
            body={q ? "The search matches email addresses and names. Try part of either." : paging.hasPrev ? undefined : "Invite people to give them access to this tenant."}
            action={
              paging.hasPrev ? (
                <button type="button" className="btn" onClick={paging.reset}>
                  Back to the first page
                </button>
              ) : (
                !q &&
                can("members.invite") && (
                  <button type="button" className="btn btn-primary" onClick={() => setInviting(true)}>
                    Invite the first member
                  </button>
                )
              )
            }
          />
        }
        columns={[
          {
            header: "Member",
            cell: (m) => (
              <>
                <strong>{m.name || m.email}</strong>
                {m.user_id === me.user.id && <Badge tone="blue">you</Badge>}
                {m.name && <div className="muted small">{m.email}</div>}
              </>
            ),
          },
          {
            header: "Role",
            cell: (m) =>
              manages(m) && roles.length ? (
                <label>
                  <span className="sr-only">Role of {m.email}</span>
                  <select value={m.role} disabled={savingId === m.user_id} onChange={(e) => changeRole(m, e.target.value as Role)}>
                    {[...new Set([m.role, ...roles])].map((r) => (
                      <option key={r} value={r}>
                        {ROLE_LABEL[r]}
                      </option>
                    ))}
                  </select>
                </label>
              ) : (
                <Badge tone={m.role === "owner" ? "purple" : "neutral"}>{ROLE_LABEL[m.role] ?? m.role}</Badge>
              ),
          },
          { header: "Added", className: "hide-sm", cell: (m) => <When iso={m.created_at} relative /> },
          {
            header: <span className="sr-only">Actions</span>,
            actions: true,
            className: "r",
            cell: (m) =>
              manages(m) &&
              can("members.remove") && (
                <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setRemoving(m)} aria-label={`Remove ${m.email}`}>
                  Remove
                </button>
              ),
          },
        ]}
      />
      {pending.length > 0 && (
        <section className="card flush" aria-labelledby="pending-title" data-testid="pending-invitations">
          <div className="card-head padded">
            <h2 id="pending-title">Pending invitations</h2>
          </div>
          <div className="table-wrap">
            <table className="table cards">
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col" className="hide-sm">
                    Expires
                  </th>
                  <th scope="col" className="r">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {pending.map((inv) => (
                  <tr key={inv.id}>
                    <td data-label="Email">
                      <strong>{inv.email}</strong>
                      <div className="muted small">invited by {inv.invited_by_email}</div>
                    </td>
                    <td data-label="Role">
                      <Badge>{ROLE_LABEL[inv.role] ?? inv.role}</Badge>
                    </td>
                    <td className="hide-sm" data-label="Expires">
                      <When iso={inv.expires_at} relative />
                    </td>
                    <td className="r cell-actions">
                      <div className="cell-v">
                        {can("members.remove") && (
                          <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setRevoking(inv)} aria-label={`Revoke the invitation of ${inv.email}`}>
                            Revoke
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted small card-foot">The link of an invitation is shown once, when it is made. Lost it? Revoke the invitation and invite again.</p>
        </section>
      )}
      <InviteDialog open={inviting} roles={roles} onClose={() => setInviting(false)} onDone={refresh} />
      <RemoveMemberDialog member={removing} onClose={() => setRemoving(null)} onDone={refresh} />
      <ConfirmDialog
        open={!!revoking}
        title={`Revoke the invitation of ${revoking?.email}?`}
        body={<p>Its link stops working at once. You can invite them again later.</p>}
        confirmLabel="Revoke invitation"
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          await api.revokeInvitation(tenant, revoking!.id);
          toast.success("Invitation revoked", revoking!.email);
          await refresh();
        }}
      />
    </>
  );
}

function RemoveMemberDialog({ member, onClose, onDone }: { member: Member | null; onClose: () => void; onDone: () => unknown }) {
  const { tenant } = useTenant();
  const toast = useToast();
  const [revokeKeys, setRevokeKeys] = useState(true);
  useEffect(() => {
    if (member) setRevokeKeys(true);
  }, [member]);
  const keys = member?.live_keys ?? 0;
  return (
    <ConfirmDialog
      open={!!member}
      title={`Remove ${member?.email}?`}
      body={
        <>
          <p>They lose access to this tenant immediately.</p>
          {keys > 0 ? (
            <label className="check" data-testid="revoke-keys">
              <input type="checkbox" checked={revokeKeys} onChange={(e) => setRevokeKeys(e.target.checked)} /> Also revoke the {keys} API key{keys === 1 ? "" : "s"}{" "}
              they created (apps using {keys === 1 ? "it" : "them"} get 401 from now on). Untick to keep {keys === 1 ? "it" : "them"} working.
            </label>
          ) : (
            <p className="muted">They created no API key that still works.</p>
          )}
        </>
      }
      confirmLabel="Remove member"
      onClose={onClose}
      onConfirm={async () => {
        const keep = keys > 0 && !revokeKeys;
        await api.removeMember(tenant, member!.user_id, keep);
        toast.success("Member removed", keys > 0 ? `${member!.email} · ${keep ? "API keys kept" : `${keys} API key${keys === 1 ? "" : "s"} revoked`}` : member!.email);
        await onDone();
      }}
    />
  );
}

function InviteDialog({ open, roles, onClose, onDone }: { open: boolean; roles: Role[]; onClose: () => void; onDone: () => unknown }) {
  const { tenant } = useTenant();
  const toast = useToast();
  const id = useId();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("developer");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  // The invitation's one-time link (self-host sends no mail): shown once, here.
  const [created, setCreated] = useState<{ email: string; url: string } | null>(null);
  useEffect(() => {
    if (open) {
      setEmail("");
      setRole("developer");
      setErr(null);
      setCreated(null);
    }
  }, [open]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!/^\S+@\S+\.\S+$/.test(email.trim())) {
      setErr("Enter a valid email address.");
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const inv = await api.invite(tenant, email.trim(), role);
      toast.success("Invitation created", `${inv.email} · ${ROLE_LABEL[role]}`);
      void onDone();
      setCreated({ email: inv.email, url: inv.url ?? "" });
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onClose={onClose} title="Invite member">
      {created ? (
        <div data-testid="invite-link">
          <p>
            Send <strong>{created.email}</strong> this link. It works once, for 7 days; they choose their own password there (or, with an account already,
            sign in and accept). It is shown only now.
          </p>
          <div className="secret">
            <code>{created.url}</code>
            <CopyButton text={created.url} label="Copy link" />
          </div>
          <div className="dialog-actions">
            <button type="button" className="btn btn-primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit} noValidate>
          <Field id={`${id}-email`} label="Email">
            <input id={`${id}-email`} type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" required />
          </Field>
          <Field id={`${id}-role`} label="Role" hint={ROLE_HINT[role]}>
            <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as Role)} aria-describedby={`${id}-role-hint`}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABEL[r]}
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
              {busy ? "Creating…" : "Create invitation link"}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
