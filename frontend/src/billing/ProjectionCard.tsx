// "What would N users cost": the tenant's spend projected from its own usage
// (GET usage/projection): month end from pace with a range, cost per active
// key and member, and 1, 10, 100, 1,000 or a custom number of users, with the
// assumptions shown.

import { useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { qk } from "../api/endpoints";
import { formatUsd } from "../format/money";
import { ErrorState, Skeleton } from "../ui/page";

const SIZES = [1, 10, 100, 1000];

export function ProjectionCard() {
  const { tenant } = useTenant();
  const [custom, setCustom] = useState("");
  const n = Number.parseInt(custom, 10);
  const users = [...SIZES, ...(n >= 1 && n <= 1_000_000 && !SIZES.includes(n) ? [n] : [])].join(",");
  const q = useQuery({ queryKey: qk.projection(tenant, users), queryFn: () => api.projection(tenant, users), placeholderData: keepPreviousData });
  const p = q.data;
  return (
    <section className="card" aria-label="Projection" data-testid="projection-card">
      <h2>Projection</h2>
      {q.isError ? (
        <ErrorState error={q.error} onRetry={() => q.refetch()} />
      ) : !p ? (
        <Skeleton lines={4} />
      ) : (
        <>
          <p>
            Month end ({p.month}): <strong>{formatUsd(p.month_end.estimate_nano)}</strong> (range {formatUsd(p.month_end.low_nano)}–
            {formatUsd(p.month_end.high_nano)}), {formatUsd(p.spent_this_month_nano)} spent so far.
          </p>
          <p>
            Last 30 days: {formatUsd(p.window_cost_nano)}; {p.active_keys} active keys ({formatUsd(p.cost_per_active_key_nano)} each),{" "}
            {p.active_members} active members ({formatUsd(p.cost_per_active_member_nano)} each).
          </p>
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">What N users would cost</caption>
              <thead>
                <tr>
                  <th>Users</th>
                  <th className="r">A month</th>
                  <th className="r hide-sm">Range</th>
                  <th className="r">A year</th>
                </tr>
              </thead>
              <tbody>
                {p.users.map((u) => (
                  <tr key={u.users}>
                    <td className="num">{u.users.toLocaleString()}</td>
                    <td className="r num">{formatUsd(u.monthly.estimate_nano)}</td>
                    <td className="r num hide-sm">
                      {formatUsd(u.monthly.low_nano)}–{formatUsd(u.monthly.high_nano)}
                    </td>
                    <td className="r num">{formatUsd(u.yearly.estimate_nano)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="field">
            <label htmlFor="proj-users">Custom number of users</label>
            <input id="proj-users" type="number" min={1} max={1000000} value={custom} onChange={(e) => setCustom(e.target.value)} />
          </div>
          <details>
            <summary>Assumptions</summary>
            <ul>
              {p.assumptions.map((a) => (
                <li key={a}>{a}</li>
              ))}
            </ul>
          </details>
        </>
      )}
    </section>
  );
}
