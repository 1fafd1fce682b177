/** Steward API routes of the congress: claims. (Stub: filled in by the claims work.) */
import type { ServiceDeps } from "../../services/ports.ts";
import type { RouteTable } from "./route.ts";

export function addClaimRoutes(_table: RouteTable, _deps: ServiceDeps): void {}
