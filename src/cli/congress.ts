/** `hyphae` commands of the congress: congress. (Stub: filled in by the congress work.) */
import type { RegisterCommands } from "./tools.ts";

export const registerCongressCommands: RegisterCommands = () => {};
