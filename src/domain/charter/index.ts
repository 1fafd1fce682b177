/** The People's Service Charter domain: model and validation, Markdown, rendering, diffs, review. */
export * from "./model.ts";
export { serviceKey, charterInputSchema, type CharterIssue } from "./validate.ts";
export { isCalendarDate } from "./dates.ts";
export { escapeHtml, isHttpUrl } from "./html.ts";
export * from "./markdown.ts";
export * from "./render.ts";
export * from "./diff.ts";
export * from "./review.ts";
