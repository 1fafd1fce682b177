/** `hyphae` commands of the congress: transfers. (Stub: filled in by the transfers work.) */
import type { RegisterCommands } from "./tools.ts";

export const registerTransferCommands: RegisterCommands = () => {};
