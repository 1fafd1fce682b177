/**
 * A pod's icon uploaded from the steward web app. The image is kept in the database and
 * served by the node itself at `/pods/{slug}/icon?v=<digest>`; that URL becomes the pod's
 * `iconUrl`, so the actor, the pages and the Mastodon API show it like any other icon.
 *
 * The kind of image is told from its first bytes, never from the name or the media type a
 * browser sends: only PNG, JPEG, WebP and GIF are taken. SVG is refused (it can carry
 * scripts, and most fediverse apps do not show it).
 */
import { createHash } from "node:crypto";
import { invalid } from "../domain/errors.ts";
import { assertPodActive, parseOrThrow, podPatchSchema } from "../domain/pods.ts";
import * as icons from "../db/repos/pod-icons.ts";
import * as podRows from "../db/repos/pods.ts";
import { writeOnce } from "./idempotency.ts";
import { findPodCached, forgetPod, getPod } from "./pods.ts";
import type { ServiceDeps } from "./ports.ts";

export const MAX_ICON_BYTES = 512 * 1024;
export const ICON_MEDIA_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"] as const;
export type IconMediaType = (typeof ICON_MEDIA_TYPES)[number];

const ascii = (bytes: Uint8Array, start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));

/** The image type its leading bytes show, or null when they show none of the four we take. */
export function sniffIconType(bytes: Uint8Array): IconMediaType | null {
  if (bytes.length >= 16 && bytes[0] === 0x89 && ascii(bytes, 1, 8) === "PNG\r\n\x1a\n" && ascii(bytes, 12, 16) === "IHDR") return "image/png";
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes.length >= 10 && /^GIF8[79]a$/.test(ascii(bytes, 0, 6))) return "image/gif";
  if (bytes.length >= 16 && ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP" && /^VP8[ LX]$/.test(ascii(bytes, 12, 16))) return "image/webp";
  return null;
}

/** Whether the bytes look like an SVG drawing (XML text with an <svg> element near the start). */
function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 2048)).toString("utf8").replace(/^\uFEFF/, "").trimStart().toLowerCase();
  return head.startsWith("<svg") || ((head.startsWith("<?xml") || head.startsWith("<!doctype svg") || head.startsWith("<!--")) && head.includes("<svg"));
}

export interface StoredIcon {
  iconUrl: string;
  mediaType: IconMediaType;
  digest: string;
}

/** Checks an uploaded icon and, in one transaction, stores it and points the pod's iconUrl at it. */
export async function setPodIcon(deps: ServiceDeps, podSlug: string, bytes: Uint8Array): Promise<StoredIcon> {
  const pod = assertPodActive(await getPod(deps, podSlug));
  if (bytes.length === 0) throw invalid("ICON_MISSING", "Choose an image file to upload.", { field: "icon" });
  if (bytes.length > MAX_ICON_BYTES) {
    throw invalid("FILE_TOO_LARGE", `The file is too large: at most ${MAX_ICON_BYTES / 1024} kB.`, { field: "icon" });
  }
  const mediaType = sniffIconType(bytes);
  if (!mediaType) {
    throw invalid(
      "ICON_NOT_AN_IMAGE",
      looksLikeSvg(bytes)
        ? "SVG drawings are not accepted as icons (they can carry scripts, and many apps do not show them). Save the picture as PNG, JPEG, WebP or GIF and upload that."
        : "This file is not a PNG, JPEG, WebP or GIF picture (its contents were checked, not its name). Choose a picture in one of those formats.",
      { field: "icon" },
    );
  }
  const digest = createHash("sha256").update(bytes).digest("hex");
  // Versioned by content: the URL changes with the picture, so it can be cached for long.
  const iconUrl = new URL(`/pods/${pod.slug}/icon?v=${digest.slice(0, 12)}`, deps.config.publicUrl).href;
  const patch = parseOrThrow(podPatchSchema, { iconUrl });
  const now = deps.clock.now();
  const stored = await writeOnce(deps, async (trx) => {
    await icons.upsertPodIcon(trx, { podId: pod.id, mediaType, bytes, digest, updatedAt: now });
    await podRows.updatePodProfile(trx, pod.id, patch, now);
    if (iconUrl !== pod.iconUrl) await deps.outbox.record(trx, { kind: "update_actor", podId: pod.id });
    return { iconUrl, mediaType, digest };
  });
  forgetPod(deps, pod.slug);
  await deps.outbox.flush();
  deps.log.info("Pod icon uploaded", { pod: pod.slug, mediaType: stored.mediaType, bytes: bytes.length });
  return stored;
}

/** Removes the pod's icon: the stored picture (if any) and its iconUrl, whatever it pointed to. */
export async function removePodIcon(deps: ServiceDeps, podSlug: string): Promise<{ removed: boolean }> {
  const pod = assertPodActive(await getPod(deps, podSlug));
  const result = await writeOnce(deps, async (trx) => {
    const deleted = await icons.deletePodIcon(trx, pod.id);
    if (!deleted && pod.iconUrl === null) return { removed: false };
    await podRows.updatePodProfile(trx, pod.id, { iconUrl: null }, deps.clock.now());
    if (pod.iconUrl !== null) await deps.outbox.record(trx, { kind: "update_actor", podId: pod.id });
    return { removed: true };
  });
  forgetPod(deps, pod.slug);
  await deps.outbox.flush();
  return result;
}

export interface IconFile {
  mediaType: string;
  bytes: Buffer;
  digest: string;
  updatedAt: Date;
}

/** The stored picture of a pod, for serving; null when the pod or its picture does not exist. */
export async function getPodIconFile(deps: ServiceDeps, podSlug: string): Promise<IconFile | null> {
  const pod = await findPodCached(deps, podSlug);
  if (!pod) return null;
  const icon = await icons.getPodIcon(deps.db, pod.id);
  if (!icon) return null;
  return { mediaType: icon.mediaType, bytes: Buffer.from(icon.bytes.buffer, icon.bytes.byteOffset, icon.bytes.byteLength), digest: icon.digest, updatedAt: icon.updatedAt };
}
