/** `hyphae` commands of the congress: proposals. (Stub: filled in by the proposals work.) */
import type { RegisterCommands } from "./tools.ts";

export const registerProposalCommands: RegisterCommands = () => {};
