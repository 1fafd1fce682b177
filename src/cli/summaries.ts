/** `hyphae summary …` and `hyphae indicator …`: period summaries and sovereignty indicators. */
import type { RegisterCommands } from "./tools.ts";

export const registerSummaryCommands: RegisterCommands = () => {};
