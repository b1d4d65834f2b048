/** Series colours shared by charts and small CSS bars (kept out of the chart chunk). */
export const PALETTE = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#64748b"];
