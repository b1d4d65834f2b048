import { useId, useState, type FormEvent } from "react";
import { errorMessage } from "../api/errors";
import { formatUsd } from "../format/money";
import { FormError } from "../ui/dialog";
import { tryKey, type TryResult } from "./playground";

/**
 * "Try this key": one chat request with the new key (model auto), showing the
 * answer, the model and route reason the router chose, and what it cost.
 */
export function KeyPlayground({ secret }: { secret: string }) {
  const id = useId();
  const [prompt, setPrompt] = useState("Say hello in five words.");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const [res, setRes] = useState<TryResult | null>(null);
  const send = async (e: FormEvent) => {
    e.preventDefault();
    if (!prompt.trim()) {
      setErr("Type a prompt to send.");
      return;
    }
    setBusy(true);
    setErr(null);
    setRes(null);
    try {
      setRes(await tryKey(secret, prompt.trim()));
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <details className="playground" data-testid="key-playground">
      <summary>Try this key</summary>
      <p className="muted small">One request to /v1/chat/completions with model auto, billed like any other.</p>
      <form onSubmit={send} className="row-edit">
        <label className="grow" htmlFor={`${id}-prompt`}>
          <span className="field-label">Prompt</span>
          <input id={`${id}-prompt`} value={prompt} onChange={(e) => setPrompt(e.target.value)} maxLength={2000} />
        </label>
        <button type="submit" className="btn" disabled={busy}>
          {busy ? "Sending…" : "Send"}
        </button>
      </form>
      {err && <FormError message={err} />}
      {res && (
        <div data-testid="playground-result" aria-live="polite">
          <blockquote className="playground-answer">{res.answer || <span className="muted">(an empty answer)</span>}</blockquote>
          <dl className="kv">
            <div>
              <dt>Model</dt>
              <dd>
                <code>{res.model || "—"}</code>
              </dd>
            </div>
            <div>
              <dt>Route reason</dt>
              <dd data-testid="playground-route-reason">
                <code>{res.routeReason || "—"}</code>
              </dd>
            </div>
            <div>
              <dt>Cost</dt>
              <dd data-testid="playground-cost">{res.costNano ? formatUsd(res.costNano) : "—"}</dd>
            </div>
            <div>
              <dt>Request id</dt>
              <dd>
                <code>{res.requestId || "—"}</code>
              </dd>
            </div>
          </dl>
        </div>
      )}
    </details>
  );
}
