/** Series colours shared by charts and small CSS bars (kept out of the chart chunk). */
export const PALETTE = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#64748b"];

/**
 * Colours a model can get: twelve hues distinct on light and dark backgrounds.
 * Grey is kept for "other" so that a folded series never looks like a model.
 */
export const MODEL_PALETTE = [
  "#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6",
  "#ec4899", "#14b8a6", "#84cc16", "#f97316", "#06b6d4", "#a855f7",
];

/** The colour of the series that folds the smaller models together. */
export const OTHER_COLOR = "#94a3b8";

/**
 * A model's colour, the same on every chart and every day: it comes from the
 * model id (FNV-1a hash), not from the model's rank by spend, which changes as
 * spend does. "other" (and an empty id) is always grey.
 */
export function modelColor(model: string): string {
  if (!model || model === "other") return OTHER_COLOR;
  let h = 0x811c9dc5;
  for (let i = 0; i < model.length; i++) {
    h ^= model.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return MODEL_PALETTE[h % MODEL_PALETTE.length];
}
