/** `hyphae` commands of the congress: claims. (Stub: filled in by the claims work.) */
import type { RegisterCommands } from "./tools.ts";

export const registerClaimCommands: RegisterCommands = () => {};
