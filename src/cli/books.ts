/** `hyphae resource|member|ledger …`: the open books from a terminal. */
import type { RegisterCommands } from "./tools.ts";

export const registerBookCommands: RegisterCommands = () => {};
