import { useId, type ReactNode } from "react";
import { PALETTE } from "../charts/palette";
import { TIERS, type Tier } from "../api/types";
import { TIER_LABEL } from "./policy";

/** TIER_COLOR gives each tier its chart colour. */
export const TIER_COLOR: Record<string, string> = { economy: PALETTE[0], standard: PALETTE[1], premium: PALETTE[2] };

/** A number input where empty means 0 (the policy's "use the default"). */
export function NumberInput({ value, onChange, readOnly, min, label, id }: { value: number | undefined; onChange: (n: number) => void; readOnly: boolean; min?: number; label: string; id: string }) {
  return (
    <input
      id={id}
      aria-label={label}
      type="number"
      inputMode="numeric"
      min={min}
      step={1}
      value={value ? String(value) : ""}
      placeholder="default"
      readOnly={readOnly}
      onChange={(e) => onChange(e.target.value === "" ? 0 : Math.trunc(Number(e.target.value)) || 0)}
    />
  );
}

/** A probability input (0..1) where empty means 0 (the classifier's own value). */
export function ProbabilityInput({ value, onChange, readOnly, label, id }: { value: number | undefined; onChange: (n: number) => void; readOnly: boolean; label: string; id: string }) {
  return (
    <input
      id={id}
      aria-label={label}
      type="number"
      inputMode="decimal"
      min={0}
      max={0.99}
      step={0.01}
      value={value ? String(value) : ""}
      placeholder="model default"
      readOnly={readOnly}
      onChange={(e) => onChange(e.target.value === "" ? 0 : Number(e.target.value) || 0)}
    />
  );
}

export function TierSelect({ value, onChange, disabled, label, id, emptyLabel }: { value: string | undefined; onChange: (t: Tier | "") => void; disabled: boolean; label: string; id: string; emptyLabel?: string }) {
  return (
    <select id={id} aria-label={label} value={value ?? ""} disabled={disabled} onChange={(e) => onChange(e.target.value as Tier | "")}>
      {emptyLabel !== undefined && <option value="">{emptyLabel}</option>}
      {TIERS.map((t) => (
        <option key={t} value={t}>
          {TIER_LABEL[t]}
        </option>
      ))}
    </select>
  );
}

export function Card({ title, hint, actions, children }: { title: string; hint?: ReactNode; actions?: ReactNode; children: ReactNode }) {
  const id = useId();
  return (
    <section className="card" aria-labelledby={id}>
      <div className="card-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {hint && <p className="muted small">{hint}</p>}
      {children}
    </section>
  );
}

export function Toggle({ checked, disabled, onChange, children }: { checked: boolean; disabled: boolean; onChange: (v: boolean) => void; children: ReactNode }) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} />
      <span>{children}</span>
    </label>
  );
}

/** A field's problems, shown under it (routing/problems.ts places them). */
export function FieldProblems({ list }: { list?: string[] }) {
  if (!list || list.length === 0) return null;
  return (
    <span className="field-error" role="alert">
      {list.join(" ")}
    </span>
  );
}
