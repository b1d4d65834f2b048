import { useId } from "react";
import { useQuery } from "@tanstack/react-query";
import { api } from "../app";
import { qk } from "../api/endpoints";
import { ErrorState, Skeleton } from "../ui/page";
import { formatDateTime } from "../format/dates";

/** FeedbackCard lists ratings sent with POST /v1/feedback and the standard
 * threshold they support (the per-tenant calibration). */
export function FeedbackCard({ tenant }: { tenant: string }) {
  const id = useId();
  const q = useQuery({ queryKey: qk.routingFeedback(tenant), queryFn: () => api.routingFeedback(tenant) });
  const cal = q.data?.calibration;
  const rows = q.data?.data ?? [];
  return (
    <section className="card" aria-labelledby={`${id}-fb`} data-testid="routing-feedback">
      <h2 id={`${id}-fb`}>Feedback</h2>
      <p className="muted small">
        Ratings your apps send with <code>POST /v1/feedback</code> (a request id with a 1–5 rating or <code>needed_stronger</code>). They
        calibrate the standard threshold and relabel training data for <code>tollgate route train --feedback</code>.
      </p>
      {q.isLoading && <Skeleton lines={3} />}
      {q.isError && <ErrorState error={q.error} onRetry={() => q.refetch()} />}
      {cal && (
        <p data-testid="calibration">
          {cal.suggested !== cal.current ? (
            <>
              Suggested standard threshold <strong>{cal.suggested.toFixed(2)}</strong> (now {cal.current.toFixed(2)}): {cal.explanation}.
            </>
          ) : (
            <span className="muted small">Threshold {cal.current.toFixed(2)} stays: {cal.explanation}.</span>
          )}
        </p>
      )}
      {q.data && rows.length === 0 && <p className="muted">No feedback yet.</p>}
      {rows.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Request</th>
              <th scope="col">Model</th>
              <th scope="col" className="num">
                p
              </th>
              <th scope="col">Rating</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((f) => (
              <tr key={f.request_id}>
                <td>{formatDateTime(f.created_at)}</td>
                <td>
                  <code className="small">{f.request_id}</code>
                </td>
                <td>{f.model_used || "—"}</td>
                <td className="num">{f.p_standard.toFixed(2)}</td>
                <td>
                  {f.rating ? `${f.rating}/5` : ""}
                  {f.needed_stronger ? (f.rating ? " · " : "") + "needed a stronger model" : ""}
                  {f.comment ? <span className="muted small"> — {f.comment}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
