// Bring your history: import another gateway's usage export (OpenRouter's
// activity CSV, OpenAI's organization usage JSON) as imported history, check it
// first with a dry run, and see what Tollgate would have cost for it. Imported
// rows show in analytics and projections, never in invoices or budgets
// (docs/usage-import.md). Results stay on the page, beside the form they answer.

import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, tenantPath, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import { formatUsd } from "../format/money";
import { formatInt } from "../format/numbers";
import { Link } from "../router/router";
import { PageHeader } from "../ui/page";
import type { SimulateResult, UsageImportFormat, UsageImportResult } from "../api/types";

const FORMATS: { value: UsageImportFormat; label: string; accept: string; hint: string }[] = [
  {
    value: "openrouter",
    label: "OpenRouter (CSV)",
    accept: ".csv,text/csv",
    hint: "OpenRouter's activity export, one generation a row: generation_id, created_at, model_permaslug, tokens_prompt, tokens_completion, cost_total…",
  },
  {
    value: "openai",
    label: "OpenAI usage (JSON)",
    accept: ".json,application/json",
    hint: "OpenAI's organization usage API, completions: bucket_width=1d from 00:00 UTC, group_by including model.",
  },
];

/** The lines of an import error: a summary, then one "line N: …" per malformed row. */
export function problemLines(message: string): { summary: string; lines: string[] } {
  const [summary, ...lines] = message.split("\n");
  return { summary, lines };
}

export default function UsageImportPage() {
  const { tenant, can } = useTenant();
  const qc = useQueryClient();
  const [format, setFormat] = useState<UsageImportFormat>("openrouter");
  const [file, setFile] = useState<{ name: string; text: string } | null>(null);
  const [busy, setBusy] = useState<"" | "check" | "import">("");
  const [result, setResult] = useState<UsageImportResult | null>(null);
  const [error, setError] = useState("");
  const [whatIf, setWhatIf] = useState<SimulateResult | null>(null);
  const [whatIfError, setWhatIfError] = useState("");
  const runs = useQuery({ queryKey: qk.usageImports(tenant), queryFn: () => api.usageImports(tenant) });
  const fmt = FORMATS.find((f) => f.value === format)!;

  const pick = async (f: File | undefined) => {
    setResult(null);
    setError("");
    setWhatIf(null);
    if (!f) return setFile(null);
    setFile({ name: f.name, text: await f.text() });
    if (f.name.toLowerCase().endsWith(".json")) setFormat("openai");
    else if (f.name.toLowerCase().endsWith(".csv")) setFormat("openrouter");
  };

  const run = async (dry: boolean) => {
    if (!file) return;
    setBusy(dry ? "check" : "import");
    setError("");
    setResult(null);
    setWhatIf(null);
    setWhatIfError("");
    try {
      const res = await api.importUsage(tenant, format, file.text, dry, file.name);
      setResult(res);
      if (!dry) {
        // Usage, projections and the import list all read the new rows.
        await qc.invalidateQueries({ queryKey: qk.usage(tenant) });
        if (can("routing.simulate")) void simulate();
      }
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy("");
    }
  };

  // What Tollgate would have cost: the tenant's policy over the last 90 days,
  // every request as "auto" (imported history included).
  const simulate = async () => {
    try {
      const policy = await api.routing(tenant);
      setWhatIf(await api.simulate(tenant, policy, { force_auto: true, days: 90 }));
    } catch (e) {
      setWhatIfError(errorMessage(e));
    }
  };

  const problems = error ? problemLines(error) : null;
  return (
    <>
      <PageHeader
        title="Import usage history"
        description="Bring another gateway's usage into this tenant's analytics, projections and routing what-if before routing a single request. Imported usage is marked “imported” and is never invoiced or counted against a budget."
      />
      <section className="card" aria-label="Import a usage export">
        <form
          style={{ maxWidth: 560 }}
          onSubmit={(e) => {
            e.preventDefault();
            void run(false);
          }}
        >
          <div className="field">
            <label htmlFor="imp-format">Format</label>
            <select id="imp-format" value={format} onChange={(e) => setFormat(e.target.value as UsageImportFormat)}>
              {FORMATS.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </select>
            <p className="small muted">{fmt.hint}</p>
          </div>
          <div className="field">
            <label htmlFor="imp-file">Export file</label>
            <input id="imp-file" type="file" accept={fmt.accept} onChange={(e) => void pick(e.target.files?.[0])} />
            {file && <p className="small muted">{file.name}</p>}
          </div>
          <div className="dialog-actions left">
            <button type="button" className="btn" disabled={!file || busy !== ""} onClick={() => void run(true)}>
              {busy === "check" ? "Checking…" : "Check file"}
            </button>
            <button type="submit" className="btn btn-primary" disabled={!file || busy !== ""}>
              {busy === "import" ? "Importing…" : "Import"}
            </button>
          </div>
        </form>
        {problems && (
          <div className="form-error" role="alert" aria-label="Import refused">
            <p>{problems.summary}</p>
            {problems.lines.length > 0 && (
              <ul className="small" aria-label="Malformed rows">
                {problems.lines.map((l) => (
                  <li key={l}>{l}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        {result && (
          <div className="note" role="status" aria-label="Import result">
            <p>
              {result.dry_run ? "Checked, nothing written: the file would add " : "Imported: "}
              <strong>{formatInt(result.new)}</strong> new, {formatInt(result.updated)} updated and {formatInt(result.unchanged)} unchanged of{" "}
              {formatInt(result.rows)} rows ({formatInt(result.requests)} requests, {formatUsd(result.cost_nano)}), {result.from} to {result.to}.
            </p>
            {!result.dry_run && (
              <p>
                <Link to={`${tenantPath(tenant, "usage")}?from=${result.from}&to=${result.to}&group_by=api`}>See it in Usage</Link>
              </p>
            )}
          </div>
        )}
      </section>

      {(whatIf || whatIfError) && (
        <section className="card" aria-label="What Tollgate would have cost">
          <div className="card-head">
            <h2>What Tollgate would have cost</h2>
          </div>
          {whatIfError ? (
            <p className="form-error">{whatIfError}</p>
          ) : (
            whatIf && (
              <p>
                Over the last {whatIf.days} days ({formatInt(whatIf.requests)} requests, {formatInt(whatIf.imported_requests)} of them imported), the
                models the requests used cost <strong>{formatUsd(whatIf.before_nano)}</strong> at this tenant&apos;s prices; with your routing policy
                choosing each model, they would have cost <strong>{formatUsd(whatIf.after_nano)}</strong> ({whatIf.savings_percent}% saved). Tune it on
                the{" "}
                <Link to={tenantPath(tenant, "routing")}>Routing</Link> page.
              </p>
            )
          )}
        </section>
      )}

      <section className="card" aria-label="Past imports">
        <div className="card-head">
          <h2>Past imports</h2>
        </div>
        {runs.isError ? (
          <p className="form-error">{errorMessage(runs.error)}</p>
        ) : listOf(runs.data).length === 0 ? (
          <p className="muted">{runs.isPending ? "Loading…" : "No imports yet."}</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">File</th>
                  <th scope="col" className="r">
                    New
                  </th>
                  <th scope="col" className="r hide-sm">
                    Updated
                  </th>
                  <th scope="col" className="r hide-sm">
                    Unchanged
                  </th>
                  <th scope="col" className="r">
                    Cost
                  </th>
                </tr>
              </thead>
              <tbody>
                {listOf(runs.data).map((r) => (
                  <tr key={r.id}>
                    <td>{new Date(r.created_at).toLocaleString()}</td>
                    <td>
                      {r.file_name || "(uploaded)"} <span className="muted small">{r.format}</span>
                    </td>
                    <td className="r num">{formatInt(r.new)}</td>
                    <td className="r num hide-sm">{formatInt(r.updated)}</td>
                    <td className="r num hide-sm">{formatInt(r.unchanged)}</td>
                    <td className="r num">{formatUsd(r.cost_nano)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
