/**
 * Pod identity rules. A pod's slug becomes its fediverse username (`@slug@host`), so it
 * must be a valid Mastodon username; we narrow it to lowercase so handles never differ
 * only by case.
 */
import { z } from "zod";
import { conflict, invalid } from "./errors.ts";

export const SLUG_PATTERN = /^[a-z0-9_]+(?:-[a-z0-9_]+)*$/;
export const SLUG_MAX = 64;

export const podSlugSchema = z
  .string()
  .min(1, "slug must not be empty")
  .max(SLUG_MAX, `slug must be at most ${SLUG_MAX} characters`)
  .regex(SLUG_PATTERN, "slug must be lowercase letters, digits and _, with - only between them (e.g. oak-street)");

/**
 * Who may see the members of a pod's followers and following collections. `hidden` (the
 * default): the public sees their size and other pods (Group actors), a server fetching with
 * its signature also sees its own users; `public`: everyone sees everyone.
 */
export const NETWORK_VISIBILITIES = ["hidden", "public"] as const;
export type NetworkVisibility = (typeof NETWORK_VISIBILITIES)[number];

const podProfileFields = {
  name: z.string().trim().min(1, "name must not be empty").max(200, "name must be at most 200 characters"),
  summary: z.string().trim().max(2000, "summary must be at most 2000 characters"),
  iconUrl: z
    .string()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), "iconUrl must be an http(s) URL")
    .nullable(),
  manuallyApprovesFollowers: z.boolean(),
  networkVisibility: z.enum(NETWORK_VISIBILITIES, { message: `networkVisibility must be one of: ${NETWORK_VISIBILITIES.join(", ")}` }),
};

export const podProfileSchema = z.object({
  ...podProfileFields,
  summary: podProfileFields.summary.default(""),
  iconUrl: podProfileFields.iconUrl.default(null),
  manuallyApprovesFollowers: podProfileFields.manuallyApprovesFollowers.default(false),
  networkVisibility: podProfileFields.networkVisibility.default("hidden"),
});

/** A change to a pod's profile: only the fields given (zod 4 would fill defaults into a partial of the schema above). */
export const podPatchSchema = z.object(podProfileFields).partial().strict();

export const newPodSchema = podProfileSchema.extend({ slug: podSlugSchema });
export type NewPod = z.output<typeof newPodSchema>;

export interface Pod {
  id: string;
  slug: string;
  name: string;
  summary: string;
  iconUrl: string | null;
  manuallyApprovesFollowers: boolean;
  networkVisibility: NetworkVisibility;
  createdAt: Date;
  /** Changes whenever the profile changes; caches of the rendered actor key on it. */
  updatedAt: Date;
  /** When the pod retired: its actor is then a Tombstone and nothing new is published. Null while active. */
  retiredAt: Date | null;
}

/** A retired pod keeps its records but takes no new writes. */
export function assertPodActive(pod: Pod): Pod {
  if (pod.retiredAt) {
    throw conflict("POD_RETIRED", `${pod.slug} retired on ${pod.retiredAt.toISOString()}; its records stay readable, but it takes no changes`);
  }
  return pod;
}

/** Parse with zod and turn the first problem into a DomainError naming the field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, code = "VALIDATION_FAILED"): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ field: i.path.join(".") || "(root)", message: i.message }));
  const first = issues[0]!;
  throw invalid(code, first.field === "(root)" ? first.message : `${first.field}: ${first.message}`, { issues });
}

export function assertValidSlug(slug: string): string {
  return parseOrThrow(podSlugSchema, slug, "INVALID_SLUG");
}
