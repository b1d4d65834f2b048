import { useEffect, useId, useState } from "react";
import { Badge } from "../ui/display";
import { type ModelInfo, type RoutingRule, type Tier } from "../api/types";
import { TIER_LABEL, addableModels, move, splitList } from "./policy";
import { FieldProblems, TIER_COLOR, NumberInput, TierSelect, Toggle } from "./fields";
import type { PlacedProblem } from "./problems";

export function TierEditor({
  tier,
  list,
  catalog,
  byId,
  edit,
  onChange,
  problems,
}: {
  tier: Tier;
  list: string[];
  catalog: ModelInfo[];
  byId: Map<string, ModelInfo>;
  edit: boolean;
  onChange: (l: string[]) => void;
  /** This tier's problems (tiers.<tier>: …), shown under its list. */
  problems?: string[];
}) {
  const id = useId();
  const addable = addableModels(catalog, tier, list);
  return (
    <div className="tier" data-tier={tier}>
      <h3>
        <span className="swatch" style={{ background: TIER_COLOR[tier] }} aria-hidden="true" /> {TIER_LABEL[tier]}
      </h3>
      {list.length === 0 ? (
        <p className="muted small">No models: requests for this tier use the nearest tier that has some.</p>
      ) : (
        <ol className="model-list" aria-label={`${TIER_LABEL[tier]} models in order`}>
          {list.map((m, i) => {
            const info = byId.get(m);
            return (
              <li key={m}>
                <span className="model-rank">{i + 1}</span>
                <code>{m}</code>
                {info?.enabled === false && <span className="muted small"> no provider</span>}
                {catalog.length > 0 && !info && <Badge tone="red">not in catalog</Badge>}
                {info && info.tier !== tier && <Badge tone="red">{info.tier} model</Badge>}
                {edit && (
                  <span className="model-actions">
                    <button type="button" className="icon-btn" aria-label={`Move ${m} up`} disabled={i === 0} onClick={() => onChange(move(list, i, -1))}>
                      ↑
                    </button>
                    <button type="button" className="icon-btn" aria-label={`Move ${m} down`} disabled={i === list.length - 1} onClick={() => onChange(move(list, i, 1))}>
                      ↓
                    </button>
                    <button type="button" className="icon-btn" aria-label={`Remove ${m} from ${tier}`} onClick={() => onChange(list.filter((x) => x !== m))}>
                      ×
                    </button>
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <FieldProblems list={problems} />
      {edit && addable.length > 0 && (
        <>
          <label htmlFor={id} className="sr-only">
            Add a model to {tier}
          </label>
          <select
            id={id}
            value=""
            onChange={(e) => {
              if (e.target.value) onChange([...list, e.target.value]);
            }}
          >
            <option value="">+ Add model…</option>
            {addable.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
                {m.enabled ? "" : " (no provider)"}
              </option>
            ))}
          </select>
        </>
      )}
    </div>
  );
}

export function RuleEditor({
  index,
  rule,
  edit,
  last,
  onChange,
  onMove,
  onRemove,
  problems,
}: {
  /** This rule's problems (rules[i]…), shown at the field they name or at the top of the rule. */
  problems?: PlacedProblem[];
  index: number;
  rule: RoutingRule;
  edit: boolean;
  last: boolean;
  onChange: (p: Partial<RoutingRule>) => void;
  onMove: (d: number) => void;
  onRemove: () => void;
}) {
  const id = useId();
  // Keywords are edited as text and split on change, so typing ", " works.
  const [kw, setKw] = useState((rule.keywords ?? []).join(", "));
  useEffect(() => setKw((rule.keywords ?? []).join(", ")), [rule.keywords]);
  const at = (field: string) => (problems ?? []).filter((p) => p.field === field).map((p) => p.message);
  const known = new Set(RULE_FIELDS_SHOWN);
  const general = (problems ?? []).filter((p) => !p.field || !known.has(p.field)).map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
  const bad = (field: string) => (at(field).length ? { "aria-invalid": true as const } : {});
  return (
    <fieldset className={`rule${problems?.length ? " rule-bad" : ""}`} data-rule={index}>
      <legend className="sr-only">Rule {index + 1}</legend>
      {general.length > 0 && (
        <div className="rule-error" role="alert">
          {general.join(" ")}
        </div>
      )}
      <div className="row-edit">
        <label>
          <span className="small muted">Name</span>
          <input id={`${id}-name`} value={rule.name} readOnly={!edit} onChange={(e) => onChange({ name: e.target.value })} {...bad("name")} />
          <FieldProblems list={at("name")} />
        </label>
        <label className="grow">
          <span className="small muted">Any of these keywords (comma-separated)</span>
          <input
            id={`${id}-kw`}
            value={kw}
            readOnly={!edit}
            placeholder="e.g. refactor, stack trace"
            {...bad("keywords")}
            onChange={(e) => {
              setKw(e.target.value);
              onChange({ keywords: splitList(e.target.value) });
            }}
          />
          <FieldProblems list={at("keywords")} />
        </label>
        <label>
          <span className="small muted">Use tier</span>
          <TierSelect id={`${id}-tier`} label={`Rule ${index + 1} tier`} value={rule.tier} disabled={!edit} onChange={(v) => onChange({ tier: (v || "standard") as Tier })} />
          <FieldProblems list={at("tier")} />
        </label>
      </div>
      <div className="row-edit">
        <label>
          <span className="small muted">Prompt ≥ tokens</span>
          <NumberInput id={`${id}-tok`} label={`Rule ${index + 1} minimum prompt tokens`} value={rule.min_prompt_tokens} readOnly={!edit} min={0} onChange={(n) => onChange({ min_prompt_tokens: n })} />
          <FieldProblems list={at("min_prompt_tokens")} />
        </label>
        <label>
          <span className="small muted">Code blocks ≥</span>
          <NumberInput id={`${id}-code`} label={`Rule ${index + 1} minimum code blocks`} value={rule.min_code_blocks} readOnly={!edit} min={0} onChange={(n) => onChange({ min_code_blocks: n })} />
          <FieldProblems list={at("min_code_blocks")} />
        </label>
        <Toggle checked={!!rule.tools} disabled={!edit} onChange={(v) => onChange({ tools: v })}>
          offers tools
        </Toggle>
        <Toggle checked={!!rule.images} disabled={!edit} onChange={(v) => onChange({ images: v })}>
          has images
        </Toggle>
        {edit && (
          <span className="model-actions">
            <button type="button" className="icon-btn" aria-label={`Move rule ${index + 1} up`} disabled={index === 0} onClick={() => onMove(-1)}>
              ↑
            </button>
            <button type="button" className="icon-btn" aria-label={`Move rule ${index + 1} down`} disabled={last} onClick={() => onMove(1)}>
              ↓
            </button>
            <button type="button" className="icon-btn" aria-label={`Remove rule ${index + 1}`} onClick={onRemove}>
              ×
            </button>
          </span>
        )}
      </div>
    </fieldset>
  );
}


/** The rule fields the editor has an input for (a problem about another goes to the rule's top). */
const RULE_FIELDS_SHOWN = ["name", "keywords", "tier", "min_prompt_tokens", "min_code_blocks"];
