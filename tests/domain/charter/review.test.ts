import { describe, expect, it } from "vitest";
import { REVIEW_INTERVAL_DAYS, isoDate, reviewStatus } from "../../../src/domain/charter/review.ts";

const DAY = 86_400_000;
const reviewed = new Date("2026-10-19T18:30:00Z");
const after = (ms: number) => new Date(reviewed.getTime() + ms);

describe("reviewStatus", () => {
  it("is due 35 days after the last review", () => {
    expect(REVIEW_INTERVAL_DAYS).toBe(35);
    const status = reviewStatus(reviewed, after(35 * DAY));
    expect(status).toEqual({ lastReviewedAt: reviewed, dueAt: new Date("2026-11-23T18:30:00Z"), due: true, daysSinceReview: 35 });
  });

  it("is not due at 34 days, nor a millisecond before 35", () => {
    expect(reviewStatus(reviewed, after(34 * DAY))).toMatchObject({ due: false, daysSinceReview: 34 });
    expect(reviewStatus(reviewed, after(35 * DAY - 1))).toMatchObject({ due: false, daysSinceReview: 34 });
  });

  it("stays due later on, and counts whole days", () => {
    expect(reviewStatus(reviewed, after(90 * DAY + 5))).toMatchObject({ due: true, daysSinceReview: 90 });
    expect(reviewStatus(reviewed, reviewed)).toMatchObject({ due: false, daysSinceReview: 0 });
    expect(reviewStatus(reviewed, after(-DAY))).toMatchObject({ due: false, daysSinceReview: 0 });
  });
});

describe("isoDate", () => {
  it("formats the UTC calendar date", () => {
    expect(isoDate(new Date("2026-11-23T23:59:59.999Z"))).toBe("2026-11-23");
    expect(isoDate(new Date("2026-11-24T00:30:00+01:00"))).toBe("2026-11-23");
    expect(isoDate(new Date("2028-02-29T12:00:00Z"))).toBe("2028-02-29");
  });
});
