/** Review cadence: a charter not revised or re-confirmed for 35 days is due for review. */

export const REVIEW_INTERVAL_DAYS = 35;
const DAY_MS = 86_400_000;

export interface ReviewStatus {
  lastReviewedAt: Date;
  dueAt: Date;
  due: boolean;
  /** Whole days since the last review (0 if the clock reads earlier than it). */
  daysSinceReview: number;
}

/** Due when `now` >= lastReviewedAt + 35 days (exact instants, no time zones). */
export function reviewStatus(lastReviewedAt: Date, now: Date): ReviewStatus {
  const dueAt = new Date(lastReviewedAt.getTime() + REVIEW_INTERVAL_DAYS * DAY_MS);
  return {
    lastReviewedAt,
    dueAt,
    due: now.getTime() >= dueAt.getTime(),
    daysSinceReview: Math.max(0, Math.floor((now.getTime() - lastReviewedAt.getTime()) / DAY_MS)),
  };
}

/** YYYY-MM-DD in UTC. */
export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}
