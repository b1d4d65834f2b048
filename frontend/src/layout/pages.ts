import { lazy, type ComponentType } from "react";
import type { Action } from "../roles/permissions";
import OverviewPage from "../pages/OverviewPage";

/** A tenant page: its URL segment, nav label, and the action needed to view it. */
export interface PageDef {
  path: string;
  label: string;
  action: Action;
  Component: ComponentType;
}

// The overview ships in the main chunk (it is the landing page and its KPI
// cards are what time-to-interactive measures); every other page is its own chunk.
export const PAGES: PageDef[] = [
  { path: "overview", label: "Overview", action: "overview.view", Component: OverviewPage },
  { path: "usage", label: "Usage", action: "usage.view", Component: lazy(() => import("../pages/UsagePage")) },
  { path: "import", label: "Import usage", action: "usage.import", Component: lazy(() => import("../pages/UsageImportPage")) },
  { path: "requests", label: "Requests", action: "usage.view", Component: lazy(() => import("../pages/RequestsPage")) },
  { path: "keys", label: "API keys", action: "keys.view", Component: lazy(() => import("../pages/KeysPage")) },
  { path: "members", label: "Members", action: "members.view", Component: lazy(() => import("../pages/MembersPage")) },
  { path: "budgets", label: "Budgets & alerts", action: "budgets.view", Component: lazy(() => import("../pages/BudgetsPage")) },
  { path: "savings", label: "Savings", action: "routing.simulate", Component: lazy(() => import("../pages/SuggestionsPage")) },
  { path: "routing", label: "Routing", action: "routing.view", Component: lazy(() => import("../pages/RoutingPage")) },
  { path: "models", label: "Models & prices", action: "models.view", Component: lazy(() => import("../pages/ModelsPage")) },
  { path: "invoices", label: "Invoices", action: "invoices.view", Component: lazy(() => import("../pages/InvoicesPage")) },
  { path: "audit", label: "Audit log", action: "audit.view", Component: lazy(() => import("../pages/AuditPage")) },
  { path: "sso", label: "Single sign-on", action: "sso.view", Component: lazy(() => import("../pages/SSOPage")) },
];
